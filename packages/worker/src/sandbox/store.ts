import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { LedgerVote } from './ledger.js';
import type { Logger } from './logger.js';

/** A poll the network carried: enough to encrypt votes on it after a process restart. */
export const SentPoll = z.object({
  id: z.string(),
  chatId: z.string(),
  name: z.string(),
  options: z.array(z.string()),
  selectableCount: z.number().int().min(0),
  /** The 32-byte `messageSecret`, base64. */
  messageSecret: z.string(),
  creatorPn: z.string(),
  creatorLid: z.string(),
  /** Unix milliseconds. */
  sentAt: z.number(),
  /** How many polls went to the same chat before this one. */
  sequence: z.number().int().min(0),
});
export type SentPoll = z.infer<typeof SentPoll>;

/** A vote message waiting for us to come online, in a JSON-safe form. */
export const StoredMessage = z.object({
  key: z.record(z.string(), z.unknown()),
  /** `proto.Message`, encoded then base64. */
  message: z.string(),
  messageTimestamp: z.number(),
  pushName: z.string(),
});
export type StoredMessage = z.infer<typeof StoredMessage>;

const Revoked = z.array(z.string());

/**
 * Persists the network's memory under `stateDir`: polls and casts as append-only JSON lines
 * (cheap to append, and a torn last line only loses that line), small snapshots (outbox,
 * revoked devices) by atomic rename. Without a `stateDir` every method is a no-op.
 */
export class NetworkStore {
  constructor(
    private readonly dir: string | undefined,
    private readonly logger: Logger,
  ) {
    if (dir) mkdirSync(dir, { recursive: true });
  }

  loadPolls(): SentPoll[] {
    return this.readLines('polls.jsonl', SentPoll);
  }

  appendPoll(poll: SentPoll): void {
    this.appendLine('polls.jsonl', poll);
  }

  loadLedger(): LedgerVote[] {
    return this.readLines('ledger.jsonl', LedgerVote);
  }

  appendVote(vote: LedgerVote): void {
    this.appendLine('ledger.jsonl', vote);
  }

  loadOutbox(): StoredMessage[] {
    return this.readJson('outbox.json', z.array(StoredMessage)) ?? [];
  }

  saveOutbox(messages: readonly StoredMessage[]): void {
    this.writeJson('outbox.json', messages);
  }

  /** Devices (by their `advSecretKey`) that were logged out and may not log in again. */
  loadRevoked(): string[] {
    return this.readJson('revoked.json', Revoked) ?? [];
  }

  saveRevoked(revoked: readonly string[]): void {
    this.writeJson('revoked.json', revoked);
  }

  private readLines<T>(file: string, schema: z.ZodType<T>): T[] {
    const path = this.path(file);
    if (!path || !existsSync(path)) return [];
    const out: T[] = [];
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(schema.parse(JSON.parse(line)));
      } catch (err) {
        this.logger.warn({ err, file }, 'sandbox: skipping an unreadable line of its state');
      }
    }
    return out;
  }

  private appendLine(file: string, value: unknown): void {
    const path = this.path(file);
    if (path) appendFileSync(path, `${JSON.stringify(value)}\n`);
  }

  private readJson<T>(file: string, schema: z.ZodType<T>): T | undefined {
    const path = this.path(file);
    if (!path || !existsSync(path)) return undefined;
    try {
      return schema.parse(JSON.parse(readFileSync(path, 'utf8')));
    } catch (err) {
      this.logger.warn({ err, file }, 'sandbox: ignoring an unreadable state file');
      return undefined;
    }
  }

  private writeJson(file: string, value: unknown): void {
    const path = this.path(file);
    if (!path) return;
    writeFileSync(`${path}.tmp`, JSON.stringify(value));
    renameSync(`${path}.tmp`, path);
  }

  private path(file: string): string | undefined {
    return this.dir ? join(this.dir, file) : undefined;
  }
}
