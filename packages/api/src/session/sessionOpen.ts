import { DEFAULT_SESSION, type SessionRecord } from '@pollmasters/shared';
import type { SessionOpenInput } from '@pollmasters/shared/node';
import { dataLayout } from '@pollmasters/worker';
import { SandboxOptions } from '@pollmasters/worker/sandbox/remote';
import type { Config } from '../config.js';

/**
 * The sandbox control channel of a session's simulated network: `default` keeps the server's
 * channel name (so clients of the single-account sandbox keep working), others get their own.
 */
export const sandboxChannelOf = (config: Config, sessionId: string): string => {
  const base = SandboxOptions.parse(config.sandbox ?? {}).channelName;
  return sessionId === DEFAULT_SESSION ? base : `${base}.${sessionId}`;
};

/** FNV-1a: a stable 32-bit number from a session id, for its sandbox world's seed. */
const hashId = (id: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h | 0;
};

/** What a worker needs to open a session: its folder, its tracking, its own sandbox world. */
export const sessionOpenFor = (config: Config, dataDir: string, record: SessionRecord) => {
  const dir = dataLayout.sessionDir(dataDir, record.id);
  const { seed } = SandboxOptions.parse(config.sandbox ?? {});
  return {
    dataDir: dir,
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
    tracking: {
      trackPolls: record.settings.trackPolls ?? config.trackPolls,
      earlyVotesMax: config.earlyVotesMax,
      earlyVoteMaxAgeSec: config.earlyVoteMaxAgeSec,
    },
    webhooks: {
      allow: config.webhookAllow,
      maxAttempts: config.webhookMaxAttempts,
      retryBaseMs: config.webhookRetryBaseMs,
    },
    ...(config.sandbox
      ? {
          sandbox: {
            ...config.sandbox,
            stateDir: dataLayout.sandboxDir(dir),
            channelName: sandboxChannelOf(config, record.id),
            // Each account its own people and chats; `default` keeps the server's world.
            seed: record.id === DEFAULT_SESSION ? seed : (seed ^ hashId(record.id)) | 0,
          },
        }
      : {}),
  } satisfies SessionOpenInput;
};
