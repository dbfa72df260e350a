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
  /** Who created it (our PN and LID, or a member's). */
  creatorPn: z.string(),
  creatorLid: z.string(),
  /**
   * Where it was created: through the app's socket (`api`), on the account's phone (`phone`),
   * or by a member of its chat (`member`).
   */
  origin: z.enum(['api', 'phone', 'member']).default('api'),
  /** Created before the app was linked: it comes in the history sync of the first login. */
  history: z.boolean().default(false),
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
 * A line of the mailbox journal: a message WhatsApp holds for us (`sent`) until our socket
 * acknowledges it (`ack`). `vote` is the cast it carries, so that a cast whose ledger line a
 * crash cut off is still known after a restart.
 */
export const MailboxEntry = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('sent'),
    id: z.string(),
    message: StoredMessage,
    vote: LedgerVote.optional(),
    /** Held back (a poll whose delivery a test delays) until a `release` line. */
    held: z.boolean().optional(),
  }),
  z.object({ op: z.literal('ack'), id: z.string() }),
  z.object({ op: z.literal('release'), id: z.string() }),
]);
export type MailboxEntry = z.infer<typeof MailboxEntry>;
export type MailboxMessage = Extract<MailboxEntry, { op: 'sent' }>;

/** Owner-only: the network's state holds message secrets. */
const fileMode = 0o600;

/**
 * Persists the network's memory under `stateDir`: polls and casts as append-only JSON lines
 * (cheap to append, and a torn last line only loses that line), the mailbox of
 * unacknowledged messages as a journal compacted at load, small snapshots (revoked devices)
 * by atomic rename. Without a `stateDir` every method is a no-op.
 */
export class NetworkStore {
  constructor(
    private readonly dir: string | undefined,
    private readonly logger: Logger,
  ) {
    if (dir) mkdirSync(dir, { recursive: true, mode: 0o700 });
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

  /**
   * The messages not acknowledged yet, in the order they were sent; the journal is compacted
   * to them.
   */
  loadMailbox(): MailboxMessage[] {
    const open = new Map<string, MailboxMessage>();
    for (const entry of this.readLines('mailbox.jsonl', MailboxEntry)) {
      if (entry.op === 'sent') open.set(entry.id, entry);
      else if (entry.op === 'ack') open.delete(entry.id);
      else {
        const held = open.get(entry.id);
        if (held) open.set(entry.id, { ...held, held: false });
      }
    }
    const path = this.path('mailbox.jsonl');
    if (path) {
      const lines = [...open.values()].map((e) => `${JSON.stringify(e)}\n`).join('');
      writeFileSync(`${path}.tmp`, lines, { mode: fileMode });
      renameSync(`${path}.tmp`, path);
    }
    return [...open.values()];
  }

  appendMailbox(entry: MailboxEntry): void {
    this.appendLine('mailbox.jsonl', entry);
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
    if (path) appendFileSync(path, `${JSON.stringify(value)}\n`, { mode: fileMode });
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
    writeFileSync(`${path}.tmp`, JSON.stringify(value), { mode: fileMode });
    renameSync(`${path}.tmp`, path);
  }

  private path(file: string): string | undefined {
    return this.dir ? join(this.dir, file) : undefined;
  }
}
