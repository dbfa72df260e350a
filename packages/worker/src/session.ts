import {
  Backoff,
  type Chat,
  errors,
  type Poll,
  type SendPollInput,
  type SessionState,
  type WorkerEvent,
} from '@pollmasters/shared';
import {
  type BaileysEventMap,
  DisconnectReason,
  jidNormalizedUser,
  proto,
  type WAMessage,
} from '@whiskeysockets/baileys';
import type { Logger as PinoLogger } from 'pino';
import type { MakePollSocket, PollSocket } from './socket.js';
import type { SqliteAuthState } from './store/authState.js';
import type { ChatStore } from './store/chatStore.js';
import type { PollStore } from './store/pollStore.js';
import { AccountIdentity } from './votes/identity.js';
import { parsePollCreation } from './votes/pollMessage.js';
import { VoteProcessor } from './votes/voteProcessor.js';

export interface SessionDeps {
  makeSocket: MakePollSocket;
  auth: SqliteAuthState;
  polls: PollStore;
  chats: ChatStore;
  emit: (event: WorkerEvent) => void;
  logger: PinoLogger;
  backoff?: Backoff;
}

type Events = Partial<BaileysEventMap>;

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
  private readonly votes: VoteProcessor;
  private readonly logger: PinoLogger;

  constructor(private readonly deps: SessionDeps) {
    this.logger = deps.logger;
    this.backoff = deps.backoff ?? new Backoff();
    this.identity = new AccountIdentity(
      { socket: () => this.sock, stored: () => deps.auth.state.creds.me },
      deps.logger,
    );
    this.votes = new VoteProcessor(
      deps.polls,
      deps.chats,
      this.identity,
      {
        votes: (changes) => deps.emit({ type: 'votes', changes }),
        rejected: (rejection) => {
          this.logger.warn({ rejection }, 'vote rejected');
          deps.emit({ type: 'voteRejected', rejection });
        },
      },
      deps.logger,
    );
  }

  get snapshot(): SessionState & { polls: Poll[] } {
    return { ...this.state, polls: this.deps.polls.all() };
  }

  start(): void {
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
      throw errors.sendFailed(`WhatsApp did not accept the poll: ${(err as Error).message}`, err);
    }
    if (!sent) throw errors.sendFailed('WhatsApp returned no message for the poll');
    const poll = this.recordPoll(sent);
    if (!poll) throw errors.sendFailed('the sent message is not a poll');
    return poll;
  }

  async listChats(): Promise<Chat[]> {
    const sock = this.requireReady();
    // Stored chats still answer when WhatsApp does not (the groups of the last fetch).
    await this.refreshGroups(sock).catch((err: unknown) =>
      this.logger.warn({ err }, 'could not fetch groups; listing stored chats'),
    );
    return this.deps.chats.chats();
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

  /** Stores pending votes, ends the socket. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.votes.close();
    const sock = this.sock;
    this.sock = null;
    if (sock) {
      this.unsubscribe?.();
      sock.end(undefined);
    }
  }

  private connect(): void {
    if (this.closed) return;
    this.reconnectTimer = null;
    const sock = this.deps.makeSocket({
      auth: this.deps.auth.state,
      logger: this.deps.logger.child({ component: 'baileys' }, { level: 'warn' }),
      markOnlineOnConnect: false,
      syncFullHistory: false,
      getMessage: async (key) => this.storedMessage(key.id),
    });
    this.sock = sock;
    // Baileys does not wait for a handler: chain the batches so that they are handled in
    // the order they came, even when one waits for a LID lookup.
    this.unsubscribe = subscribe(sock, (events) => {
      this.inbox = this.inbox.then(() => this.onEvents(sock, events));
    });
  }

  private async onEvents(sock: PollSocket, events: Events): Promise<void> {
    if (sock !== this.sock) return;
    try {
      if (events['creds.update']) this.deps.auth.saveCreds();
      if (events['connection.update']) this.onConnectionUpdate(sock, events['connection.update']);
      const history = events['messaging-history.set'];
      if (history) {
        this.saveChats(history.chats);
        this.saveContacts(history.contacts);
      }
      if (events['chats.upsert']) this.saveChats(events['chats.upsert']);
      if (events['contacts.upsert']) this.saveContacts(events['contacts.upsert']);
      if (events['contacts.update']) this.saveContacts(events['contacts.update']);
      if (events['lid-mapping.update']) this.votes.mappingChanged();
      const upsert = events['messages.upsert'];
      if (upsert) await this.onMessages(upsert.messages);
    } catch (err) {
      this.logger.error({ err }, 'failed to handle WhatsApp events');
    }
  }

  private async onMessages(messages: readonly WAMessage[]): Promise<void> {
    try {
      for (const msg of messages) {
        const update = VoteProcessor.pollUpdateOf(msg);
        if (update) {
          // Usually synchronous: await only when the processor has something to look up.
          const pending = this.votes.handle(msg, update);
          if (pending) await pending;
        } else this.recordPoll(msg);
      }
    } finally {
      // WhatsApp may consider a delivered message done: store what this batch accepted now.
      this.votes.endBatch();
    }
  }

  /** Stores a poll creation message once and announces it; returns the poll (known or new). */
  private recordPoll(msg: WAMessage): Poll | null {
    // Known already (our own sent poll comes back as an `append`): nothing to parse again.
    const known = msg.key.id ? this.deps.polls.get(msg.key.id) : undefined;
    if (known) return this.deps.polls.toPoll(known);
    const parsed = parsePollCreation(msg, this.identity.me());
    if (!parsed) return null;
    const added = this.deps.polls.add(parsed);
    const poll = this.deps.polls.toPoll(this.deps.polls.get(parsed.id)!);
    if (added) {
      this.logger.info({ pollId: parsed.id, chatId: parsed.chatId }, 'poll stored');
      this.deps.emit({ type: 'pollSent', poll });
    }
    return poll;
  }

  private onConnectionUpdate(sock: PollSocket, update: NonNullable<Events['connection.update']>) {
    if (update.qr) {
      this.setState({ status: 'qr_pending', qr: update.qr, user: null });
      this.deps.emit({ type: 'qr', qr: update.qr });
    }
    if (update.connection === 'open') {
      this.backoff.reset();
      const user = this.identity.user();
      this.setState({ status: 'ready', qr: null, user });
      this.deps.emit({ type: 'user', user });
      void this.refreshGroups(sock).catch((err) =>
        this.logger.warn({ err }, 'could not fetch groups'),
      );
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
    this.votes.flush();
    this.deps.auth.wipe();
    this.votes.forgetMappings();
    this.setState({ status: 'logged_out', qr: null, user: null });
    this.deps.emit({ type: 'user', user: null });
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.backoff.reset();
    // A fresh QR, without restarting anything.
    this.connect();
  }

  private setState(next: SessionState): void {
    const statusChanged = next.status !== this.state.status;
    this.state = next;
    if (statusChanged) this.deps.emit({ type: 'status', status: next.status });
  }

  private requireReady(): PollSocket {
    if (this.state.status !== 'ready' || !this.sock) throw errors.notReady(this.state.status);
    return this.sock;
  }

  private async refreshGroups(sock: PollSocket): Promise<void> {
    const groups = await sock.groupFetchAllParticipating();
    this.deps.chats.saveChats(
      Object.values(groups).map((g) => ({ id: g.id, name: g.subject, isGroup: true })),
    );
  }

  private saveChats(chats: readonly { id?: string | null; name?: string | null }[]): void {
    this.deps.chats.saveChats(
      chats
        .filter((c): c is { id: string; name?: string | null } => !!c.id && isChatJid(c.id))
        .map((c) => ({
          id: jidNormalizedUser(c.id),
          name: c.name ?? null,
          isGroup: c.id.endsWith('@g.us'),
        })),
    );
  }

  private saveContacts(
    contacts: readonly {
      id?: string | null;
      name?: string | null;
      notify?: string | null;
      verifiedName?: string | null;
      lid?: string | null;
      phoneNumber?: string | null;
    }[],
  ): void {
    const named: { id: string; name: string | null }[] = [];
    for (const c of contacts) {
      const name = c.name ?? c.notify ?? c.verifiedName ?? null;
      for (const jid of [c.id, c.lid, c.phoneNumber]) {
        if (jid && isChatJid(jid)) named.push({ id: jidNormalizedUser(jid), name });
      }
    }
    this.deps.chats.saveContacts(named);
  }

  private storedMessage(id: string | null | undefined): proto.IMessage | undefined {
    const poll = id ? this.deps.polls.get(id) : undefined;
    return poll ? (proto.WebMessageInfo.decode(poll.message).message ?? undefined) : undefined;
  }
}

/** The events the session reads. */
const handled = [
  'creds.update',
  'connection.update',
  'messaging-history.set',
  'chats.upsert',
  'contacts.upsert',
  'contacts.update',
  'lid-mapping.update',
  'messages.upsert',
] as const satisfies readonly (keyof BaileysEventMap)[];

/**
 * Consumes a socket's events in batches through `ev.process` (Baileys' buffered events: one
 * batch, one transaction); a socket whose `ev` has only `on`/`off` gets one batch per event.
 */
const subscribe = (sock: PollSocket, handler: (events: Events) => void): (() => void) => {
  if (typeof sock.ev.process === 'function') return sock.ev.process(handler);
  const listeners = handled.map((name) => {
    const listener = (data: unknown) => handler({ [name]: data } as Events);
    sock.ev.on(name, listener);
    return () => sock.ev.off(name, listener);
  });
  return () => {
    for (const off of listeners) off();
  };
};

const isChatJid = (jid: string): boolean =>
  jid.endsWith('@s.whatsapp.net') || jid.endsWith('@g.us') || jid.endsWith('@lid');
