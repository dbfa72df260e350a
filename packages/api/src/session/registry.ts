import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { type SessionRecord, SessionRecord as SessionRecordSchema } from '@pollmasters/shared';
import { dataLayout } from '@pollmasters/worker';
import { z } from 'zod';

const RegistryFile = z.object({ sessions: z.array(SessionRecordSchema) });

/**
 * The sessions a server has (ids, creation times, settings, whether each should run): read
 * from memory, each change stored before its promise resolves. In `sessions.json`
 * (./registry.ts) or, with POLLMASTERS_DATABASE_URL, PostgreSQL's `sessions` table
 * (./pgRegistry.ts).
 */
export interface SessionRegistry {
  list(): SessionRecord[];
  get(id: string): SessionRecord | undefined;
  /** Adds or replaces a record, and persists it before resolving. */
  put(record: SessionRecord): Promise<void>;
  remove(id: string): Promise<void>;
  /** Adds a record unless one has its id (another node may have made it): false then. */
  add(record: SessionRecord): Promise<boolean>;
  /**
   * Reads what another node changed (a shared registry only); false when it could not take
   * the read (a change of its own ran across it).
   */
  reload?(): Promise<boolean>;
  /**
   * Removes a session's data kept beside the registry (a shared database: its login, or with
   * `purge` all of it); absent where each session keeps its own files.
   */
  forgetData?(id: string, options: { purge: boolean }): Promise<void>;
  /** Lets go of what it holds open (a pool). */
  close(): Promise<void>;
}

/**
 * The sessions a server has (ids, creation times, settings, whether each should run), kept in
 * `<dataDir>/sessions.json`. Only the API's main thread writes it, and every change replaces
 * the whole file by an atomic rename after fsync: a crash leaves the old list or the new one.
 * A JSON file and not SQLite: it holds at most a few hundred small records that change only
 * when an operator creates, starts, stops or deletes a session.
 */
export class FileSessionRegistry implements SessionRegistry {
  private readonly file: string;
  private readonly records = new Map<string, SessionRecord>();

  constructor(dataDir: string) {
    this.file = dataLayout.registryFile(dataDir);
    if (!existsSync(this.file)) return;
    const parsed = RegistryFile.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
    if (!parsed.success) throw new Error(`${this.file} is not a valid session registry`);
    for (const record of parsed.data.sessions) this.records.set(record.id, record);
  }

  list(): SessionRecord[] {
    return [...this.records.values()];
  }

  get(id: string): SessionRecord | undefined {
    return this.records.get(id);
  }

  /** Adds or replaces a record, and persists the list (synchronously) before returning. */
  async put(record: SessionRecord): Promise<void> {
    const next = new Map(this.records).set(record.id, record);
    this.write(next);
    this.records.set(record.id, record);
  }

  async add(record: SessionRecord): Promise<boolean> {
    if (this.records.has(record.id)) return false;
    await this.put(record);
    return true;
  }

  async remove(id: string): Promise<void> {
    const next = new Map(this.records);
    if (!next.delete(id)) return;
    this.write(next);
    this.records.delete(id);
  }

  async close(): Promise<void> {}

  private write(records: Map<string, SessionRecord>): void {
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify({ sessions: [...records.values()] }, null, 2));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}
