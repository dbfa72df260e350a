import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '@pollmasters/shared';
import type { Db } from './database.js';

/** SQLite's own default: checkpoint once the WAL holds this many pages. */
const AUTO_CHECKPOINT_PAGES = 1000;

/*
 * The checkpointing thread: a connection of its own to each database it is given, a PASSIVE
 * checkpoint of each every `everyMs` (it never waits for a writer, nor makes one wait), and a
 * last one when a database is removed. Plain CommonJS, evaluated as is: nothing to load but
 * better-sqlite3.
 */
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const dbs = new Map();
const checkpoint = (file, db) => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    if (result.checkpointed > 0) parentPort.postMessage({ type: 'checkpoint', file, pages: result.checkpointed });
  } catch (err) {
    parentPort.postMessage({ type: 'error', file, message: String((err && err.message) || err) });
  }
};
const timer = setInterval(() => {
  for (const [file, db] of dbs) checkpoint(file, db);
}, workerData.everyMs);
parentPort.on('message', (message) => {
  if (message.type === 'add') {
    try {
      const db = new Database(message.file, { fileMustExist: true });
      db.pragma('busy_timeout = 5000');
      db.pragma('synchronous = NORMAL');
      dbs.set(message.file, db);
    } catch (err) {
      parentPort.postMessage({ type: 'failed', file: message.file, message: String((err && err.message) || err) });
    }
  } else if (message.type === 'remove') {
    const db = dbs.get(message.file);
    if (db) {
      checkpoint(message.file, db);
      db.close();
      dbs.delete(message.file);
    }
    parentPort.postMessage({ type: 'removed', file: message.file });
  } else if (message.type === 'end') {
    clearInterval(timer);
    for (const [file, db] of dbs) {
      checkpoint(file, db);
      db.close();
    }
    dbs.clear();
    parentPort.close();
  }
});
`;

type ThreadMessage =
  | { type: 'checkpoint'; file: string; pages: number }
  | { type: 'error'; file: string; message: string }
  | { type: 'failed'; file: string; message: string }
  | { type: 'removed'; file: string };

/** One database the checkpoint thread looks after. */
export interface CheckpointedDb {
  /** Pages copied into its database file so far (for tests and debugging). */
  readonly checkpointed: number;
  /**
   * Takes its last checkpoint and closes the thread's connection to it; resolves once done
   * (or, should the thread hang, after `timeoutMs`). Then the writer's connection is the last,
   * and closing it folds the WAL into the database file. Idempotent.
   */
  close(timeoutMs?: number): Promise<void>;
}

interface Entry {
  db: Db;
  checkpointed: number;
  /** The thread gave it up (or never took it): the writer checkpoints itself. */
  fellBack: boolean;
  removed: (() => void) | null;
  closing: Promise<void> | null;
}

/**
 * Takes SQLite's WAL checkpoints (copying committed pages from the WAL into the database
 * file, with the fsyncs that go with them) off the thread that writes the votes: one thread
 * for every database of a worker (every session it hosts), not one per database, which at a
 * hundred sessions cost a hundred threads. Left to the writer, a checkpoint runs inside
 * whichever commit fills the WAL past 1,000 pages, and with many busy polls those commits took
 * most of the worker's time in SQLite (measured: docs/performance.md, "WAL checkpoints on
 * their own thread"). Durability is unchanged: commits still go to the WAL as before, and the
 * WAL is still synced before its pages reach the database file.
 *
 * The thread starts with the first database and ends with the last. Should it fail, each of
 * its databases' writers checkpoints for itself again, as SQLite does by default, and the
 * next database added gets a new thread.
 */
export class Checkpointer {
  private thread: Worker | null = null;
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly logger: Logger,
    private readonly everyMs = 1_000,
  ) {}

  /** How many databases the thread looks after. */
  get size(): number {
    return this.entries.size;
  }

  /** Hands a database's checkpoints to the thread. */
  add(db: Db): CheckpointedDb {
    const file = db.name;
    if (this.entries.has(file)) throw new Error(`${file} is checkpointed already`);
    const entry: Entry = { db, checkpointed: 0, fellBack: false, removed: null, closing: null };
    this.entries.set(file, entry);
    db.pragma('wal_autocheckpoint = 0');
    this.ensureThread().postMessage({ type: 'add', file });
    return {
      get checkpointed() {
        return entry.checkpointed;
      },
      close: (timeoutMs = 2_000) => {
        entry.closing ??= this.remove(file, entry, timeoutMs);
        return entry.closing;
      },
    };
  }

  private remove(file: string, entry: Entry, timeoutMs: number): Promise<void> {
    const thread = this.thread;
    if (!thread || entry.fellBack) {
      this.entries.delete(file);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        entry.removed = null;
        if (this.entries.get(file) === entry) this.entries.delete(file);
        // The last database gone: the thread ends, and the next one added starts another.
        if (this.entries.size === 0 && this.thread === thread) this.endThread(thread);
        resolve();
      };
      const timer = setTimeout(() => {
        this.logger.warn({ file }, 'checkpoint thread did not release a database in time');
        done();
      }, timeoutMs);
      entry.removed = done;
      thread.postMessage({ type: 'remove', file });
    });
  }

  private ensureThread(): Worker {
    if (this.thread) return this.thread;
    const thread = new Worker(THREAD, {
      eval: true,
      workerData: {
        sqlite: createRequire(import.meta.url).resolve('better-sqlite3'),
        everyMs: this.everyMs,
      },
    });
    this.thread = thread;
    thread.on('message', (message: ThreadMessage) => this.onMessage(message));
    thread.on('error', (err) => this.fallBack(thread, err));
    thread.on('exit', (code) => this.fallBack(thread, new Error(`exited with ${code}`)));
    return thread;
  }

  private endThread(thread: Worker): void {
    this.thread = null;
    thread.removeAllListeners('error');
    thread.removeAllListeners('exit');
    thread.postMessage({ type: 'end' });
  }

  private onMessage(message: ThreadMessage): void {
    const entry = this.entries.get(message.file);
    if (!entry) return;
    switch (message.type) {
      case 'checkpoint':
        entry.checkpointed += message.pages;
        return;
      case 'error':
        this.logger.warn({ err: message.message }, 'WAL checkpoint failed; will retry');
        return;
      case 'failed':
        this.logger.warn({ err: message.message }, 'checkpoint thread cannot open a database');
        this.giveBack(entry);
        return;
      case 'removed':
        entry.removed?.();
        return;
    }
  }

  /** The thread died: every database it had goes back to checkpointing itself. */
  private fallBack(thread: Worker, err: Error): void {
    if (this.thread !== thread) return;
    this.thread = null;
    this.logger.warn({ err }, 'checkpoint thread failed; the writers checkpoint themselves again');
    for (const entry of this.entries.values()) {
      this.giveBack(entry);
      entry.removed?.();
    }
  }

  private giveBack(entry: Entry): void {
    entry.fellBack = true;
    if (entry.db.open) entry.db.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
  }
}
