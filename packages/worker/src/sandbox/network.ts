import { randomBytes } from 'node:crypto';
import { DisconnectReason, type WAMessage } from '@whiskeysockets/baileys';
import { boom } from './boom.js';
import {
  type BurstOptions,
  type BurstResult,
  preparedProblem,
  runBurst,
  seedDigits,
  syntheticMapping,
} from './burst.js';
import type { BurstKeys, PreparedVotes, SandboxEvent } from './channel.js';
import { Ledger, type LedgerVote } from './ledger.js';
import type { Logger } from './logger.js';
import { toWAMessage, voteMessage } from './messages.js';
import type { SandboxOptions } from './options.js';
import { type PlannedCast, planVotes } from './plan.js';
import { type MailboxMessage, NetworkStore, type SentPoll, type StoredMessage } from './store.js';
import { encryptPollVote } from './votes.js';
import {
  canonicalId,
  createWorld,
  findChat,
  findPerson,
  type Person,
  translateJid,
  type World,
  type WorldChat,
} from './world.js';

/** What the network needs from a socket connected to it. */
export interface Connection {
  /** The linked device's identity (its `advSecretKey`), once it is registered. */
  readonly deviceKey: string | undefined;
  /** Hands received messages to the app (`messages.upsert`, type `notify`). */
  deliver(messages: WAMessage[]): void;
  /** Closes the connection from the server side. */
  kill(error: Error): void;
}

/**
 * The simulated WhatsApp server and the people on it. It outlives the sockets (the app makes
 * a new one on every reconnect): it keeps the polls, casts the votes, queues them while we are
 * offline, and tells the sandbox channel what it did (`post`; ./control.ts answers the
 * channel's requests).
 */
export class Network {
  readonly world: World;
  readonly ledger: Ledger;
  private readonly store: NetworkStore;
  private readonly polls = new Map<string, SentPoll>();
  private readonly plans = new Map<string, PlannedCast[]>();
  /** Planned casts of each poll that have not happened yet. */
  private readonly unplayed = new Map<string, number>();
  /** Cast messages by `pollId/messageId`, for redeliveries. */
  private readonly sent = new Map<string, { message: StoredMessage; vote: LedgerVote }>();
  /**
   * What WhatsApp holds for us until our socket acknowledges it, by delivery id: messages
   * cast while we were offline, and those delivered but not yet acknowledged. Kept on disk,
   * and delivered (again) on the next login, as WhatsApp's offline delivery does.
   */
  private readonly unacked = new Map<string, MailboxMessage>();
  /** Delivery ids handed to a socket at least once (in this run): a repeat is a redelivery. */
  private readonly handedOver = new Set<string>();
  private deliveries = 0;
  private readonly revoked: Set<string>;
  private readonly linked = new Set<string>();
  private readonly live = new Set<Connection>();
  private online: Connection | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Seeds (as their three digits) of the bursts cast so far: their voters are mapped. */
  private readonly burstSeeds = new Set<string>();
  private closed = false;

  constructor(
    readonly options: SandboxOptions,
    readonly logger: Logger,
    /** Where the network's events go: the sandbox channel. */
    private readonly postEvent: (message: SandboxEvent) => void,
  ) {
    this.world = createWorld(options);
    this.store = new NetworkStore(options.stateDir, logger);
    for (const poll of this.store.loadPolls()) this.polls.set(poll.id, poll);
    this.ledger = new Ledger(this.store.loadLedger(), (vote) => this.store.appendVote(vote));
    const recorded = new Set(this.ledger.all().map(castKey));
    for (const entry of this.store.loadMailbox()) {
      this.unacked.set(entry.id, entry);
      // A crash between the mailbox line and the ledger line: the cast happened.
      if (entry.vote && !recorded.has(castKey(entry.vote))) this.ledger.record(entry.vote);
      // From an earlier run we cannot tell: it may have reached the app before the crash.
      this.handedOver.add(entry.id);
    }
    this.revoked = new Set(this.store.loadRevoked());
  }

  /** Tracks a socket from its creation, so that `close()` and the control channel reach it. */
  register(connection: Connection): void {
    this.live.add(connection);
  }

  unregister(connection: Connection): void {
    this.live.delete(connection);
    if (this.online === connection) this.online = undefined;
  }

  /**
   * A socket finished logging in. Like WhatsApp, only one connection per device: an older one
   * is replaced. Returns the messages that waited for us while we were offline.
   */
  goOnline(connection: Connection): WAMessage[] {
    const previous = this.online;
    this.online = connection;
    if (previous && previous !== connection) {
      previous.kill(boom('Stream Errored (conflict)', DisconnectReason.connectionReplaced));
    }
    if (connection.deviceKey) this.linked.add(connection.deviceKey);
    const waiting = [...this.unacked.values()];
    const again = waiting.filter((e) => this.handedOver.has(e.id));
    if (again.length > 0) {
      this.post({ type: 'redelivered', messageIds: again.map((e) => String(e.message.key.id)) });
    }
    for (const entry of waiting) this.handOver(connection, entry.id);
    return waiting.map((e) => toWAMessage(e.message));
  }

  /** A device just paired: it may log in, even if these creds were logged out before. */
  link(deviceKey: string): void {
    this.linked.add(deviceKey);
    if (this.revoked.delete(deviceKey)) this.store.saveRevoked([...this.revoked]);
  }

  isRevoked(deviceKey: string | undefined): boolean {
    return deviceKey !== undefined && this.revoked.has(deviceKey);
  }

  /** Forgets a linked device for good: it cannot log in again, it must pair anew. */
  revoke(deviceKey: string | undefined): void {
    if (!deviceKey) return;
    this.linked.delete(deviceKey);
    this.revoked.add(deviceKey);
    this.store.saveRevoked([...this.revoked]);
  }

  /** Our `lidMapping`: it knows us and most people, but not everyone. */
  getPNForLID(lid: string): string | null {
    return translateJid(this.world, lid, 'lid') ?? syntheticMapping(this.burstSeeds, lid, 'lid');
  }

  getLIDForPN(pn: string): string | null {
    return (
      translateJid(this.world, pn, 's.whatsapp.net') ??
      syntheticMapping(this.burstSeeds, pn, 's.whatsapp.net')
    );
  }

  /** Records a poll we sent and, with `autoVote`, schedules its chat's votes. */
  addPoll(poll: Omit<SentPoll, 'sequence' | 'sentAt'>): SentPoll {
    const sequence = [...this.polls.values()].filter((p) => p.chatId === poll.chatId).length;
    const stored: SentPoll = { ...poll, sentAt: Date.now(), sequence };
    this.polls.set(stored.id, stored);
    this.store.appendPoll(stored);
    const chat = findChat(this.world, poll.chatId);
    if (chat && this.options.autoVote) {
      const plan = planVotes({ chat, ...stored }, this.options);
      this.plans.set(stored.id, plan);
      this.unplayed.set(stored.id, plan.length);
      for (const cast of plan) {
        this.schedule(cast.atMs, () => {
          this.unplayed.set(stored.id, (this.unplayed.get(stored.id) ?? 1) - 1);
          this.castPlanned(stored, cast);
        });
      }
    }
    return stored;
  }

  sentPolls(): SentPoll[] {
    return [...this.polls.values()];
  }

  hasPoll(pollId: string): boolean {
    return this.polls.has(pollId);
  }

  /**
   * Votes on a poll that the network has yet to cast or deliver: 0 means everything it will
   * ever send on its own for this poll has been handed to the app.
   */
  pending(pollId: string): number {
    let queued = 0;
    for (const e of this.unacked.values()) if (e.vote?.pollId === pollId) queued += 1;
    return (this.unplayed.get(pollId) ?? 0) + queued;
  }

  /** The vote plan of a poll sent by this network (none with `autoVote` off). */
  plan(pollId: string): PlannedCast[] | undefined {
    return this.plans.get(pollId);
  }

  /**
   * Casts a vote now, on any poll this network carried (also one sent before a restart).
   * @throws when the poll is unknown or the voter is not in its chat.
   */
  vote(pollId: string, voterJid: string, options: readonly string[]): LedgerVote {
    const poll = this.polls.get(pollId);
    if (!poll) throw new Error(`unknown poll ${pollId}`);
    const chat = findChat(this.world, poll.chatId);
    const voter = findPerson(this.world, voterJid);
    if (!chat || !voter || !chat.members.includes(voter)) {
      throw new Error(`${voterJid} is not a member of ${poll.chatId}`);
    }
    return this.cast(
      poll,
      voter,
      [...options],
      `3EB0${randomBytes(9).toString('hex').toUpperCase()}`,
    );
  }

  /** What a member's phone knows of a poll we sent: enough to encrypt votes on it. */
  burstKeys(pollId: string): BurstKeys {
    const { poll, chat } = this.pollAndChat(pollId);
    return {
      pollId,
      options: poll.options,
      selectableCount: poll.selectableCount,
      messageSecret: poll.messageSecret,
      creatorJid: chat.signing.creator === 'lid' ? poll.creatorLid : poll.creatorPn,
      voterForm: chat.signing.voter,
    };
  }

  /**
   * Delivers votes encrypted beforehand (`prepareVotes` in ./burst.ts, from `burstKeys`), one
   * per synthetic voter, round-robin across the polls (see `voteBurst` in ./channel.ts). Needs
   * a connection online; not recorded in the ledger.
   */
  async burst(votes: readonly PreparedVotes[], options: BurstOptions): Promise<BurstResult> {
    const pollIds = new Set(votes.map((v) => v.pollId));
    if (pollIds.size < votes.length) throw new Error('one set of prepared votes per poll');
    const targets = votes.map((v) => {
      const problem = preparedProblem(v);
      if (problem) throw new Error(`prepared votes for ${v.pollId}: ${problem}`);
      return { ...this.pollAndChat(v.pollId), votes: v };
    });
    for (const v of votes) this.burstSeeds.add(seedDigits(v.seed));
    return runBurst(targets, options, (messages) => {
      if (!this.online) throw new Error('the burst needs a connection online');
      this.online.deliver(messages);
    });
  }

  private pollAndChat(pollId: string): { poll: SentPoll; chat: WorldChat } {
    const poll = this.polls.get(pollId);
    const chat = poll && findChat(this.world, poll.chatId);
    if (!poll || !chat) throw new Error(`unknown poll ${pollId}`);
    return { poll, chat };
  }

  /** The user unlinks this device on their phone. */
  logoutFromPhone(): void {
    for (const connection of this.live) this.revoke(connection.deviceKey);
    for (const deviceKey of this.linked) this.revoke(deviceKey);
    for (const connection of [...this.live]) {
      connection.kill(boom('Connection Failure', DisconnectReason.loggedOut, { reason: '401' }));
    }
  }

  /** The network drops every connection; the app is expected to reconnect. */
  dropConnection(): void {
    for (const connection of [...this.live]) {
      connection.kill(boom('Connection was lost', DisconnectReason.connectionLost));
    }
  }

  /** Stops the simulation: clears every timer, posts nothing more, closes every socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const connection of [...this.live]) {
      connection.kill(boom('Connection Terminated', DisconnectReason.connectionClosed));
    }
  }

  private castPlanned(poll: SentPoll, cast: PlannedCast): void {
    if (cast.kind !== 'redelivery') {
      this.cast(poll, cast.voter, cast.options, cast.messageId);
      return;
    }
    const original = this.sent.get(`${poll.id}/${cast.messageId}`);
    if (!original) return;
    const vote: LedgerVote = { ...original.vote, redelivery: true };
    this.deliver(original.message, vote);
    this.ledger.record(vote);
    this.post({ type: 'cast', vote });
  }

  private cast(poll: SentPoll, voter: Person, options: string[], messageId: string): LedgerVote {
    const chat = findChat(this.world, poll.chatId);
    if (!chat) throw new Error(`unknown chat ${poll.chatId}`);
    const voterId = canonicalId(voter);
    // A newer vote must carry a newer timestamp, even within one millisecond.
    const senderTimestampMs = Math.max(Date.now(), this.ledger.lastTimestamp(poll.id, voterId) + 1);
    const creatorJid = chat.signing.creator === 'lid' ? poll.creatorLid : poll.creatorPn;
    const voterJid = chat.signing.voter === 'lid' ? voter.lid : voter.pn;
    const encrypted = encryptPollVote(options, {
      pollMsgId: poll.id,
      pollEncKey: Buffer.from(poll.messageSecret, 'base64'),
      pollCreatorJid: creatorJid,
      voterJid,
    });
    const message = voteMessage({
      chat,
      voter,
      messageId,
      pollId: poll.id,
      senderTimestampMs,
      ...encrypted,
    });
    const vote: LedgerVote = {
      pollId: poll.id,
      chatId: chat.id,
      messageId,
      voterPn: voter.pn,
      voterLid: voter.lid,
      voterId,
      creatorJid,
      voterJid,
      selectedOptions: options,
      senderTimestampMs,
      redelivery: false,
    };
    this.sent.set(`${poll.id}/${messageId}`, { message, vote });
    this.deliver(message, vote);
    this.ledger.record(vote);
    this.post({ type: 'cast', vote });
    return vote;
  }

  /**
   * Keeps a message (on disk first) until it is acknowledged, and hands it to the online
   * socket if there is one; offline, it waits for the next login.
   */
  private deliver(message: StoredMessage, vote?: LedgerVote): void {
    const entry: MailboxMessage = {
      op: 'sent',
      id: `${process.pid}-${Date.now()}-${++this.deliveries}`,
      message,
      ...(vote ? { vote } : {}),
    };
    this.store.appendMailbox(entry);
    this.unacked.set(entry.id, entry);
    const online = this.online;
    if (!online) return;
    this.handOver(online, entry.id);
    online.deliver([toWAMessage(message)]);
  }

  /**
   * The socket's acknowledgement reaches WhatsApp `ackDelayMs` after the delivery, if the
   * connection still stands then; a message whose connection died first stays in the mailbox
   * and comes again on the next login (the app must take it as a duplicate).
   */
  private handOver(connection: Connection, id: string): void {
    this.handedOver.add(id);
    this.schedule(this.options.ackDelayMs, () => {
      if (this.online !== connection || !this.unacked.delete(id)) return;
      this.store.appendMailbox({ op: 'ack', id });
    });
  }

  private schedule(delayMs: number, run: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      try {
        run();
      } catch (err) {
        this.logger.error({ err }, 'sandbox: a scheduled cast failed');
      }
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  /** Posts on the sandbox channel, for tests in any thread of the process. */
  post(message: SandboxEvent): void {
    if (!this.closed) this.postEvent(message);
  }
}

/** Identifies one cast in the ledger (a planned redelivery repeats its original's id). */
const castKey = (v: LedgerVote): string =>
  `${v.pollId}/${v.messageId}/${v.senderTimestampMs}/${v.redelivery}`;
