import {
  Backoff,
  type Chat,
  errors,
  type Poll,
  type PollTracking,
  type SendPollInput,
  type SessionState,
  type VotePollInput,
  type VotePollResult,
} from '@pollmasters/shared';
import { SNAPSHOT_PAGE_VOTERS, type WorkerEvent } from '@pollmasters/shared/node';
import { DisconnectReason, type WAMessage } from '@whiskeysockets/baileys';
import type { Logger as PinoLogger } from 'pino';
import { ChatList } from './chatList.js';
import { OwnVotes } from './ownVotes.js';
import { sendError } from './sendError.js';
import { SessionPolls } from './sessionPolls.js';
import type { MakePollSocket, PollSocket } from './socket.js';
import { type SocketEvents, subscribe } from './socketEvents.js';
import type { AuthStore } from './store/authState.js';
import type { ChatStore } from './store/chatStore.js';
import type { EarlyVoteStore } from './store/earlyVotes.js';
import type { PollStore } from './store/pollStore.js';
import { logVotesNotStored } from './store/votesNotStored.js';
import { AccountIdentity } from './votes/identity.js';
import type { WebhookOutbox } from './webhooks/outbox.js';

export interface SessionDeps {
  makeSocket: MakePollSocket;
  auth: AuthStore;
  polls: PollStore;
  chats: ChatStore;
  earlyVotes: EarlyVoteStore;
  tracking: PollTracking;
  emit: (event: WorkerEvent) => void;
  logger: PinoLogger;
  backoff?: Backoff;
  /** Where the events for the session's webhooks are written (none: no webhooks). */
  webhooks?: WebhookOutbox;
}

/**
 * One WhatsApp session: the socket's lifecycle (QR, pairing code, open, close, reconnect
 * with backoff, wipe after logout) and the commands the API sends. The only writer of its
 * database.
 */
export class WhatsAppSession {
  private sock: PollSocket | null = null;
  private state: SessionState = { status: 'disconnected', qr: null, user: null };
  private readonly backoff: Backoff;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  /** The batch being handled; the next one starts after it (onEvents never rejects). */
  private inbox: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly identity: AccountIdentity;
  private readonly polls: SessionPolls;
  private readonly chats: ChatList;
  private readonly ownVotes: OwnVotes;
  private readonly logger: PinoLogger;

  constructor(private readonly deps: SessionDeps) {
    this.logger = deps.logger;
    this.backoff = deps.backoff ?? new Backoff();
    this.identity = new AccountIdentity(
      { socket: () => this.sock, stored: () => deps.auth.state.creds.me },
      deps.logger,
    );
    this.polls = new SessionPolls({
      ...deps,
      identity: this.identity,
      serial: (task) => this.serial(task),
    });
    this.chats = new ChatList(deps.chats);
    this.ownVotes = new OwnVotes({
      ...deps,
      chatList: this.chats,
      sessionPolls: this.polls,
      identity: this.identity,
      inOrder: (task) => this.inOrder(task),
    });
  }

  get snapshot(): SessionState & { polls: Poll[] } {
    return { ...this.state, polls: this.polls.all() };
  }

  /** The `snapshot` command: the state and a page of polls (by id, after `after`). */
  snapshotPage(after?: string): SessionState & { polls: Poll[]; next: string | null } {
    return { ...this.state, ...this.polls.page(after ?? null, SNAPSHOT_PAGE_VOTERS) };
  }

  start(): void {
    this.polls.start();
    this.connect();
  }

  async sendPoll(input: SendPollInput): Promise<Poll> {
    const sock = this.requireReady();
    let sent: WAMessage | undefined;
    try {
      sent = await sock.sendMessage(input.chatId, {
        poll: {
          name: input.question,
          values: input.options,
          selectableCount: input.selectableCount,
        },
      });
    } catch (err) {
      throw sendError(input.chatId, err);
    }
    if (!sent) throw errors.sendFailed('WhatsApp returned no message for the poll');
    const poll = await this.polls.record(sent);
    if (!poll) throw errors.sendFailed('the sent message is not a poll');
    return poll;
  }

  /** Casts the account's own vote on a stored poll (see ./ownVotes.ts). */
  votePoll(input: VotePollInput): Promise<VotePollResult> {
    return this.ownVotes.vote(input, () => this.requireReady());
  }

  async listChats(): Promise<Chat[]> {
    const sock = this.requireReady();
    // Stored chats still answer when WhatsApp does not (the groups of the last fetch).
    await this.chats
      .refreshGroups(sock)
      .catch((err: unknown) =>
        this.logger.warn({ err }, 'could not fetch groups; listing stored chats'),
      );
    return await this.chats.list();
  }

  async requestPairingCode(phoneNumber: string): Promise<string> {
    if (this.state.status === 'ready') throw errors.conflict('already logged in; log out first');
    const sock = this.sock;
    if (!sock || this.state.status !== 'qr_pending') {
      throw errors.notReady(
        `${this.state.status}; wait for the QR before asking for a pairing code`,
      );
    }
    return sock.requestPairingCode(phoneNumber);
  }

  /** Logs out (telling WhatsApp when connected), wipes the auth state, offers a fresh QR. */
  async logout(): Promise<void> {
    const sock = this.sock;
    this.sock = null;
    if (sock) {
      this.unsubscribe?.();
      if (this.state.status === 'ready') {
        await sock
          .logout()
          .catch((err: unknown) => this.logger.warn({ err }, 'logout request failed'));
      }
      sock.end(undefined);
    }
    this.loggedOut('logged out by request');
  }

  /**
   * Stores pending votes (resolves once stored), ends the socket. Idempotent. With a `reason`
   * (the session stops on its own: its lease was lost) it announces itself disconnected, why.
   */
  async close(reason?: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (reason) {
      this.state = { status: 'disconnected', qr: null, user: this.state.user };
      this.deps.emit({ type: 'status', status: 'disconnected', detail: reason });
    }
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const storing = this.polls.close();
    const sock = this.sock;
    this.sock = null;
    if (sock) {
      this.unsubscribe?.();
      sock.end(undefined);
    }
    await storing?.catch(logVotesNotStored(this.logger));
  }

  private connect(): void {
    if (this.closed) return;
    this.reconnectTimer = null;
    const sock = this.deps.makeSocket({
      auth: this.deps.auth.state,
      logger: this.deps.logger.child({ component: 'baileys' }, { level: 'warn' }),
      markOnlineOnConnect: false,
      syncFullHistory: false,
      getMessage: async (key) => this.polls.storedMessage(key.id),
    });
    this.sock = sock;
    // Baileys does not wait for a handler: chain the batches so that they are handled in
    // the order they came, even when one waits for a LID lookup.
    this.unsubscribe = subscribe(sock, (events) => this.serial(() => this.onEvents(sock, events)));
  }

  /** Runs `task` once the batches and tasks before it are done; a failure is logged. */
  private serial(task: () => void | Promise<void>): void {
    void this.inOrder(task).catch(() => {});
  }

  /**
   * Runs `task` in turn with the batches of WhatsApp events and returns its outcome; a failure
   * is logged and the inbox goes on.
   */
  private inOrder(task: () => void | Promise<void>): Promise<void> {
    const run = this.inbox.then(task);
    this.inbox = run.catch((err: unknown) => {
      this.logger.error({ err }, 'failed to handle WhatsApp events');
    });
    return run;
  }

  private async onEvents(sock: PollSocket, events: SocketEvents): Promise<void> {
    if (sock !== this.sock) return;
    try {
      if (events['creds.update']) void this.deps.auth.saveCreds();
      if (events['connection.update']) this.onConnectionUpdate(sock, events['connection.update']);
      const history = events['messaging-history.set'];
      if (history) {
        this.chats.saveChats(history.chats);
        this.chats.saveContacts(history.contacts);
        await this.polls.onHistory(history.messages);
      }
      if (events['chats.upsert']) this.chats.saveChats(events['chats.upsert']);
      if (events['contacts.upsert']) this.chats.saveContacts(events['contacts.upsert']);
      if (events['contacts.update']) this.chats.saveContacts(events['contacts.update']);
      if (events['lid-mapping.update']) this.polls.mappingChanged();
      const upsert = events['messages.upsert'];
      if (upsert) await this.polls.onLive(upsert.messages);
    } catch (err) {
      this.logger.error({ err }, 'failed to handle WhatsApp events');
    }
  }

  private onConnectionUpdate(
    sock: PollSocket,
    update: NonNullable<SocketEvents['connection.update']>,
  ) {
    if (update.qr) {
      this.setState({ status: 'qr_pending', qr: update.qr, user: null });
      this.deps.emit({ type: 'qr', qr: update.qr });
    }
    if (update.connection === 'open') {
      this.backoff.reset();
      const user = this.identity.user();
      this.setState({ status: 'ready', qr: null, user });
      this.deps.emit({ type: 'user', user });
      void this.chats
        .refreshGroups(sock)
        .catch((err) => this.logger.warn({ err }, 'could not fetch groups'));
    }
    if (update.connection === 'close') this.onClose(sock, update.lastDisconnect?.error);
  }

  private onClose(sock: PollSocket, error: Error | undefined): void {
    if (sock !== this.sock) return;
    this.sock = null;
    const code = (error as { output?: { statusCode?: number } } | undefined)?.output?.statusCode;
    if (code === DisconnectReason.loggedOut) {
      this.loggedOut('logged out from the phone');
      return;
    }
    if (code === DisconnectReason.restartRequired) {
      // WhatsApp asks for a new connection right after pairing.
      this.logger.info('restart required by WhatsApp; reconnecting');
      this.connect();
      return;
    }
    const delay = this.backoff.next();
    this.logger.warn(
      { code, reason: error?.message, attempt: this.backoff.attempts, retryInMs: delay },
      'connection closed; reconnecting',
    );
    // 403: WhatsApp refuses this account's credentials (e.g. a banned number). Say so rather
    // than a plain disconnect, and keep retrying calmly in case it is lifted.
    const status = code === DisconnectReason.forbidden ? 'auth_failure' : 'disconnected';
    this.setState({ status, qr: null, user: this.state.user });
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private loggedOut(reason: string): void {
    this.logger.info({ reason }, 'logged out; wiping auth state');
    // The votes are stored, then the login wiped; on PostgreSQL a batch that must wait for the
    // vote commit in flight may commit after the wipe (other rows: nothing depends on it).
    this.polls.flush()?.catch(logVotesNotStored(this.logger));
    void this.deps.auth.wipe();
    this.polls.forgetMappings();
    this.setState({ status: 'logged_out', qr: null, user: null });
    this.deps.emit({ type: 'user', user: null });
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.backoff.reset();
    // A fresh QR, without restarting anything.
    this.connect();
  }

  private setState(next: SessionState): void {
    const previous = this.state.status;
    this.state = next;
    if (next.status === previous) return;
    this.deps.emit({ type: 'status', status: next.status });
    this.deps.webhooks?.writeNow('session.status', { status: next.status, previous });
  }

  private requireReady(): PollSocket {
    if (this.state.status !== 'ready' || !this.sock) throw errors.notReady(this.state.status);
    return this.sock;
  }
}
