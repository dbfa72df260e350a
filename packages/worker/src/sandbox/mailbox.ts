import type { Ledger, LedgerVote } from './ledger.js';
import type { MailboxMessage, NetworkStore, StoredMessage } from './store.js';

/**
 * What WhatsApp holds for us until our socket acknowledges it, by delivery id: messages cast
 * while we were offline, and those delivered but not yet acknowledged. Kept on disk, and
 * delivered (again) on the next login, as WhatsApp's offline delivery does. A message kept
 * `held` is delivered only once released (a poll a test has come after its votes).
 */
export class Mailbox {
  private readonly unacked = new Map<string, MailboxMessage>();
  /** Delivery ids handed to a socket at least once (in this run): a repeat is a redelivery. */
  private readonly handedOver = new Set<string>();
  private deliveries = 0;

  /**
   * Reads what an earlier run left unacknowledged; a cast among it that `ledger` lacks is
   * recorded there.
   */
  constructor(
    private readonly store: NetworkStore,
    ledger: Ledger,
  ) {
    const recorded = new Set(ledger.all().map(castKey));
    for (const entry of store.loadMailbox()) {
      this.unacked.set(entry.id, entry);
      // A crash between the mailbox line and the ledger line: the cast happened.
      if (entry.vote && !recorded.has(castKey(entry.vote))) ledger.record(entry.vote);
      // From an earlier run we cannot tell: it may have reached the app before the crash.
      this.handedOver.add(entry.id);
    }
  }

  /** Keeps a message, on disk first, until it is acknowledged; returns its delivery id. */
  keep(message: StoredMessage, vote?: LedgerVote, held = false): string {
    const entry: MailboxMessage = {
      op: 'sent',
      id: `${process.pid}-${Date.now()}-${++this.deliveries}`,
      message,
      ...(vote ? { vote } : {}),
      ...(held ? { held } : {}),
    };
    this.store.appendMailbox(entry);
    this.unacked.set(entry.id, entry);
    return entry.id;
  }

  /** Every message not yet acknowledged nor held, in the order it was kept. */
  waiting(): MailboxMessage[] {
    return [...this.unacked.values()].filter((e) => !e.held);
  }

  /**
   * Lets a held message (by its message id) go: from now on it is delivered like any other.
   * Returns it, or undefined when no such message is held.
   */
  release(messageId: string): MailboxMessage | undefined {
    const entry = [...this.unacked.values()].find((e) => e.held && e.message.key.id === messageId);
    if (!entry) return undefined;
    const released = { ...entry, held: false };
    this.unacked.set(entry.id, released);
    this.store.appendMailbox({ op: 'release', id: entry.id });
    return released;
  }

  /** Whether the delivery was handed to a socket before: handing it over again redelivers it. */
  wasHandedOver(id: string): boolean {
    return this.handedOver.has(id);
  }

  markHandedOver(id: string): void {
    this.handedOver.add(id);
  }

  /** The socket acknowledged the delivery: it is gone for good. False if it was not waiting. */
  acknowledge(id: string): boolean {
    if (!this.unacked.delete(id)) return false;
    this.store.appendMailbox({ op: 'ack', id });
    return true;
  }

  /** Votes on a poll that wait for an acknowledgement. */
  votesWaiting(pollId: string): number {
    let queued = 0;
    for (const e of this.unacked.values()) if (e.vote?.pollId === pollId) queued += 1;
    return queued;
  }
}

/** Identifies one cast in the ledger (a planned redelivery repeats its original's id). */
const castKey = (v: LedgerVote): string =>
  `${v.pollId}/${v.messageId}/${v.senderTimestampMs}/${v.redelivery}`;
