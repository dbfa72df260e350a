import { join } from 'node:path';
import { dataLayout } from '@pollmasters/worker';

/** Where a server keeps a session's files in its data dir. */
export const sessionPaths = (dataDir: string, sessionId = 'default') => {
  const dir = dataLayout.sessionDir(dataDir, sessionId);
  return {
    dir,
    database: join(dir, `${dataLayout.databaseName}.sqlite`),
    /** The sandbox network's state (polls.jsonl, ledger.jsonl, mailbox.jsonl, ...). */
    sandbox: dataLayout.sandboxDir(dir),
  };
};
