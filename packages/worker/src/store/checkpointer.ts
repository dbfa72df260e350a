import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '@pollmasters/shared';
import type { Db } from './database.js';

/** SQLite's own default: checkpoint once the WAL holds this many pages. */
const AUTO_CHECKPOINT_PAGES = 1000;

/*
 * The checkpointing thread: its own connection to the database file, a PASSIVE checkpoint
 * every `everyMs` (it never waits for the writer, nor makes it wait), and a last one on
 * `close`. Plain CommonJS, evaluated as is: nothing to load but better-sqlite3.
 */
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');
const checkpoint = () => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ type: 'checkpoint', pages: result.checkpointed });
  } catch (err) {
    parentPort.postMessage({ type: 'error', message: String((err && err.message) || err) });
  }
};
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.on('message', (message) => {
  if (message !== 'close') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
parentPort.postMessage({ type: 'ready' });
`;

type ThreadMessage =
  | { type: 'ready' }
  | { type: 'checkpoint'; pages: number }
  | { type: 'error'; message: string };

/**
 * Takes SQLite's WAL checkpoints (copying committed pages from the WAL into the database
 * file, with the fsyncs that go with them) off the thread that writes the votes. Left to the
 * writer, a checkpoint runs inside whichever commit fills the WAL past 1,000 pages, and with
 * many busy polls those commits took most of the worker's time in SQLite (measured:
 * docs/performance.md, "WAL checkpoints on their own thread"). Durability is unchanged:
 * commits still go to the WAL as before, and the WAL is still synced before its pages reach
 * the database file.
 *
 * Should the thread fail, the writer checkpoints for itself again, as SQLite does by default.
 */
export class Checkpointer {
  private readonly thread: Worker;
  private closed = false;
  private closing: Promise<void> | null = null;
  private exited = false;
  /** Pages copied into the database file so far (for tests and debugging). */
  checkpointed = 0;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    everyMs = 1_000,
  ) {
    this.thread = new Worker(THREAD, {
      eval: true,
      workerData: {
        file: db.name,
        sqlite: createRequire(import.meta.url).resolve('better-sqlite3'),
        everyMs,
      },
    });
    db.pragma('wal_autocheckpoint = 0');
    this.thread.on('message', (message: ThreadMessage) => {
      if (message.type === 'checkpoint') this.checkpointed += message.pages;
      if (message.type === 'error') {
        this.logger.warn({ err: message.message }, 'WAL checkpoint failed; will retry');
      }
    });
    this.thread.on('error', (err) => this.fallBack(err));
    this.thread.on('exit', (code) => {
      this.exited = true;
      if (!this.closed) this.fallBack(new Error(`checkpoint thread exited with ${code}`));
    });
  }

  /**
   * Asks for a last checkpoint; resolves once the thread has closed its connection and ended
   * (or, should it hang, been ended within `timeoutMs`). Idempotent.
   */
  close(timeoutMs = 2_000): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.closed = true;
      if (this.exited) return resolve();
      const timer = setTimeout(() => void this.thread.terminate(), timeoutMs);
      this.thread.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.thread.postMessage('close');
    });
    return this.closing;
  }

  private fallBack(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.logger.warn({ err }, 'checkpoint thread failed; the writer checkpoints itself again');
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
  }
}
