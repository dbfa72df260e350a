import { DEFAULT_SESSION, type Logger } from '@pollmasters/shared';
import { adoptLegacyDataDir } from '@pollmasters/worker';
import { SessionRegistry } from './registry.js';

/**
 * The data dir's registry of sessions, after upgrading a data dir from before sessions (its
 * account becomes `default`), with `default` in it: a server with no sessions of its own runs
 * the single account as it always did.
 */
export const openRegistry = (dataDir: string, logger: Logger): SessionRegistry => {
  adoptLegacyDataDir(dataDir, logger);
  const registry = new SessionRegistry(dataDir);
  if (!registry.get(DEFAULT_SESSION)) {
    registry.put({ id: DEFAULT_SESSION, createdAt: Date.now(), settings: {}, shouldRun: true });
  }
  return registry;
};
