import { DisconnectReason, type proto, type WAMessage } from '@whiskeysockets/baileys';
import { boom } from './boom.js';
import type { SandboxEvent } from './channel.js';
import { Creators } from './creators.js';
import { Ledger, type LedgerVote } from './ledger.js';
import type { Logger } from './logger.js';
import { Mailbox } from './mailbox.js';
import { toWAMessage } from './messages.js';
import type { SandboxOptions } from './options.js';
import { People } from './people.js';
import { NetworkStore, type SentPoll, type StoredMessage } from './store.js';
import { createWorld, translateJid, type World, type WorldChat } from './world.js';

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
 * The simulated WhatsApp server. It outlives the sockets (the app makes a new one on every
 * reconnect): it keeps the polls and our linked devices, lets one connection at a time be
 * online, and holds messages for us until they are acknowledged (./mailbox.ts). The people on
 * it cast the votes (./people.ts). It tells the sandbox channel what it did (`post`;
 * ./control.ts answers the channel's requests).
 */
export class Network {
  readonly world: World;
  readonly ledger: Ledger;
  readonly people: People;
  readonly creators: Creators;
  private readonly store: NetworkStore;
  private readonly mailbox: Mailbox;
  private readonly polls = new Map<string, SentPoll>();
  private readonly revoked: Set<string>;
  private readonly linked = new Set<string>();
  private readonly live = new Set<Connection>();
  private online: Connection | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
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
    this.mailbox = new Mailbox(this.store, this.ledger);
    this.revoked = new Set(this.store.loadRevoked());
    this.people = new People({
      world: this.world,
      options,
      ledger: this.ledger,
      poll: (pollId) => this.polls.get(pollId),
      deliver: (message, vote) => this.deliver(message, vote, false),
      deliverNow: (messages) => {
        if (!this.online) throw new Error('the burst needs a connection online');
        this.online.deliver(messages);
      },
      schedule: (delayMs, run) => this.schedule(delayMs, run),
      post: (message) => this.post(message),
    });
    this.creators = new Creators({
      world: this.world,
      options,
      ledger: this.ledger,
      polls: () => this.sentPolls(),
      addPoll: (poll, plan) => this.addPoll(poll, plan),
      deliver: (message, held) => this.deliver(message, undefined, held),
    });
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
    const waiting = this.mailbox.waiting();
    const again = waiting.filter((e) => this.mailbox.wasHandedOver(e.id));
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
    return translateJid(this.world, lid, 'lid') ?? this.people.burstMapping(lid, 'lid');
  }

  getLIDForPN(pn: string): string | null {
    return (
      translateJid(this.world, pn, 's.whatsapp.net') ??
      this.people.burstMapping(pn, 's.whatsapp.net')
    );
  }

  /**
   * Records a poll (sent by us, or made on our phone, by a member, in the past) and, with
   * `autoVote` unless `plan` is false, schedules its chat's votes.
   */
  addPoll(
    poll: Omit<SentPoll, 'sequence' | 'sentAt'> & { sentAt?: number },
    plan = true,
  ): SentPoll {
    const sequence = [...this.polls.values()].filter((p) => p.chatId === poll.chatId).length;
    const stored: SentPoll = { ...poll, sentAt: poll.sentAt ?? Date.now(), sequence };
    this.polls.set(stored.id, stored);
    this.store.appendPoll(stored);
    if (plan) this.people.pollSent(stored);
    return stored;
  }

  /**
   * A message our socket relayed to a chat. The sandbox carries poll votes only (the one
   * thing the worker relays); their readers are the chat's members.
   */
  relay(chat: WorldChat, message: proto.IMessage, messageId: string): void {
    const update = message.pollUpdateMessage;
    if (!update) throw boom('The sandbox relays poll votes only', 501);
    this.logger.info({ chatId: chat.id, messageId }, 'sandbox: our account voted');
    this.people.receiveOwnVote(chat, update, messageId);
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
    return this.people.planned(pollId) + this.mailbox.votesWaiting(pollId);
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

  /** Posts on the sandbox channel, for tests in any thread of the process. */
  post(message: SandboxEvent): void {
    if (!this.closed) this.postEvent(message);
  }

  /**
   * Lets a message held back by `deliver` go (a poll whose votes came first): delivered now
   * if we are online, else on the next login. False when no such message is held.
   */
  release(messageId: string): boolean {
    const entry = this.mailbox.release(messageId);
    if (!entry) return false;
    const online = this.online;
    if (online) {
      this.handOver(online, entry.id);
      online.deliver([toWAMessage(entry.message)]);
    }
    return true;
  }

  /**
   * Keeps a message (on disk first) until it is acknowledged, and hands it to the online
   * socket if there is one; offline, it waits for the next login. A `held` one waits for
   * `release`.
   */
  private deliver(message: StoredMessage, vote: LedgerVote | undefined, held: boolean): void {
    const id = this.mailbox.keep(message, vote, held);
    const online = this.online;
    if (!online || held) return;
    this.handOver(online, id);
    online.deliver([toWAMessage(message)]);
  }

  /**
   * The socket's acknowledgement reaches WhatsApp `ackDelayMs` after the delivery, if the
   * connection still stands then; a message whose connection died first stays in the mailbox
   * and comes again on the next login (the app must take it as a duplicate).
   */
  private handOver(connection: Connection, id: string): void {
    this.mailbox.markHandedOver(id);
    this.schedule(this.options.ackDelayMs, () => {
      if (this.online === connection) this.mailbox.acknowledge(id);
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
}
