import { DEFAULT_SESSION, type Logger } from '@pollmasters/shared';
import { adoptLegacyDataDir } from '@pollmasters/worker';
import { PgSessionRegistry } from './pgRegistry.js';
import { FileSessionRegistry, type SessionRegistry } from './registry.js';

/**
 * The server's registry of sessions (in PostgreSQL when `databaseUrl` is set, else the data
 * dir's file, after upgrading a data dir from before sessions: its account becomes `default`),
 * with `default` in it: a server with no sessions of its own runs the single account as it
 * always did.
 */
export const openRegistry = async (
  dataDir: string,
  databaseUrl: string | undefined,
  logger: Logger,
): Promise<SessionRegistry> => {
  let registry: SessionRegistry;
  if (databaseUrl) registry = await PgSessionRegistry.open(databaseUrl);
  else {
    adoptLegacyDataDir(dataDir, logger);
    registry = new FileSessionRegistry(dataDir);
  }
  // `add`: nodes of a cluster that start together must not overwrite each other's.
  if (!registry.get(DEFAULT_SESSION)) {
    await registry.add({
      id: DEFAULT_SESSION,
      createdAt: Date.now(),
      settings: {},
      shouldRun: true,
    });
  }
  return registry;
};
