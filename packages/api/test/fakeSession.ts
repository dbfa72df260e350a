import { EventEmitter } from 'node:events';
import {
  type Chat,
  errors,
  type Poll,
  type PollPage,
  type SendPollInput,
  type SessionState,
  type VotePollInput,
  type VotePollResult,
} from '@pollmasters/shared';
import { optionHash } from '@pollmasters/shared/node';
import { type PageRequest, pageOf } from '../src/session/pollPage.js';
import { pollUpdateOf } from '../src/session/readModel.js';
import type { SessionEvents } from '../src/session/sessionService.js';

export const QR = '2@AbCdEf==,Xy12==,Zz34==,Qq56==';
export const USER = { id: '15550000001@s.whatsapp.net', name: 'Tester' };
export const CHATS: Chat[] = [
  { id: '120363000000000001@g.us', name: 'Team', isGroup: true },
  { id: '15550000002@s.whatsapp.net', name: 'Alice', isGroup: false },
];

/**
 * A test double of SessionService for the edges' unit tests: the same members, in memory,
 * driven by the test (state, failures, votes). The integration tests use the real one.
 */
export class FakeSession extends EventEmitter<SessionEvents> {
  sessionState: SessionState;
  readonly polls = new Map<string, Poll>();
  /** Every own vote asked for, in order. */
  readonly ownVotes: VotePollInput[] = [];
  /** Every send attempted, with when it started. */
  readonly sent: (SendPollInput & { at: number })[] = [];
  /** Chats whose sends fail with SEND_FAILED. */
  readonly failFor = new Set<string>();
  sendError: Error | null = null;
  chatsError: Error | null = null;
  logoutError: Error | null = null;
  inFlight = 0;
  /** Vote changes counted since start (one per `vote`). */
  votesCounted = 0;
  maxInFlight = 0;
  private seq = 0;

  constructor(state: SessionState = { status: 'disconnected', qr: null, user: null }) {
    super();
    this.sessionState = state;
  }

  setState(state: SessionState): void {
    this.sessionState = state;
    this.emit('state', state);
  }

  listPolls(): Poll[] {
    return [...this.polls.values()];
  }

  /** Every poll, in the order of `listPolls` (a whole poll stands for its head). */
  listPollHeads(): Omit<Poll, 'voters'>[] {
    return [...this.polls.values()];
  }

  pollPage(request: PageRequest): PollPage {
    const { items, nextCursor } = pageOf(this.polls.values(), request, (p) => p.voters.length);
    return { polls: items, nextCursor };
  }

  getPoll(id: string): Poll | undefined {
    return this.polls.get(id);
  }

  async sendPoll(input: SendPollInput): Promise<Poll> {
    this.sent.push({ ...input, at: Date.now() });
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, 2));
    this.inFlight -= 1;
    if (this.sendError) throw this.sendError;
    if (this.failFor.has(input.chatId)) throw errors.sendFailed('WhatsApp refused the message');
    const poll: Poll = {
      id: `3EB0POLL${++this.seq}`,
      chatId: input.chatId,
      creator: { jid: '15550000001@s.whatsapp.net', fromMe: true },
      question: input.question,
      options: input.options.map((name) => ({ name, hash: optionHash(name) })),
      selectableCount: input.selectableCount,
      createdAt: Date.now(),
      voters: [],
      unknownOptionVotes: 0,
      version: 0,
    };
    this.polls.set(poll.id, poll);
    this.emit('pollSent', poll);
    return poll;
  }

  async listChats(): Promise<Chat[]> {
    if (this.chatsError) throw this.chatsError;
    return CHATS;
  }

  async logout(): Promise<void> {
    if (this.logoutError) throw this.logoutError;
    this.setState({ status: 'logged_out', qr: null, user: null });
    setTimeout(() => this.setState({ status: 'qr_pending', qr: `${QR}-fresh`, user: null }), 5);
  }

  /** Webhooks live in a real worker's database; this fake has none. */
  async webhook(): Promise<never> {
    throw errors.notFound('webhooks of the fake session');
  }

  async requestPairingCode(phone: string): Promise<string> {
    return `CODE-${phone}`;
  }

  /** The account's vote by option names or hashes, counted under USER's id. */
  async votePoll(input: VotePollInput): Promise<VotePollResult> {
    this.ownVotes.push(input);
    const poll = this.polls.get(input.pollId);
    if (!poll) throw errors.notFound(`poll ${input.pollId}`);
    const names = input.options.map((given) => {
      const option = poll.options.find((o) => o.name === given || o.hash === given);
      if (!option) throw errors.badInput(`not an option of this poll: "${given}"`);
      return option.name;
    });
    const after = this.vote(input.pollId, USER.id, names);
    const selected = names.map(optionHash);
    return {
      vote: { voter: USER.id, selected, timestampMs: Date.now(), messageId: 'V1' },
      poll: after,
    };
  }

  /** A voter's new selection (option names; empty withdraws), as a new version of the poll. */
  vote(pollId: string, voter: string, names: string[]): Poll {
    const before = this.polls.get(pollId);
    if (!before) throw new Error(`no poll ${pollId}`);
    const voters = before.voters.filter((v) => v.voter !== voter);
    if (names.length) {
      voters.push({ voter, selected: names.map(optionHash), timestampMs: Date.now() });
    }
    const poll = { ...before, voters, version: before.version + 1 };
    this.polls.set(pollId, poll);
    this.votesCounted += 1;
    this.emit('pollsUpdated', [pollUpdateOf(poll)]);
    return poll;
  }
}
