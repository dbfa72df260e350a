import { Config, type ConfigInput } from '@pollmasters/api';

/**
 * The server's configuration in an in-process bench: loopback, a free port, logs at `warn`, no
 * pause between sends, and a sandbox whose account logs in at once and whose members vote only
 * when the bench makes them. POLLMASTERS_VOTE_CIPHER picks the worker's vote cipher, as it does
 * the server's (the bench's baseline of "ours" follows it too).
 */
export const benchConfig = (
  dataDir: string,
  sandbox: { channelName: string; groups: number; membersPerGroup: number; directChats: number },
  extra: Partial<ConfigInput> = {},
): Config =>
  Config.parse({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    logLevel: 'warn',
    sendDelayMs: 0,
    ...(process.env.POLLMASTERS_VOTE_CIPHER
      ? { voteCipher: process.env.POLLMASTERS_VOTE_CIPHER }
      : {}),
    ...extra,
    sandbox: { qrScanDelayMs: 50, connectDelayMs: 10, autoVote: false, ...sandbox },
  });
