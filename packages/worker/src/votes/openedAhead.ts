import type { proto, WAMessage } from '@whiskeysockets/baileys';
import type { PairHint } from '../store/chatStore.js';
import {
  type Candidate,
  type DecryptedVote,
  decrypted,
  emptyContext,
  keyContext,
  type PollKeys,
} from './decrypt.js';
import { SealedBatch } from './voteCipher.js';

/** What `take` hands back: the vote opened, or null and the pair that was tried in vain. */
export interface Opened extends PairHint {
  voters: readonly Candidate[];
  decrypted: DecryptedVote | null;
}

/**
 * Votes of a few consecutive messages, each with one creator/voter pair, opened in one call
 * (`VoteProcessor.openAhead`), then taken one by one in the same order as the messages are
 * handled. Kept in arrays reused from window to window: no object per vote but the answer.
 */
export class OpenedAhead {
  private readonly batch = new SealedBatch();
  private readonly context = emptyContext();
  private messages: WAMessage[] = [];
  private keys: PollKeys[] = [];
  private voters: (readonly Candidate[])[] = [];
  private creators: number[] = [];
  private candidates: Candidate[] = [];
  /** The next one `take` may hand out: messages are handled in order. */
  private next = 0;
  private readonly answer: Opened = {
    voters: [],
    decrypted: null,
    creatorIndex: 0,
    voterSource: '',
  };

  /** Forgets the window (and drops its references to messages and polls). */
  clear(): void {
    if (this.messages.length === 0) return;
    this.messages.length = 0;
    this.keys.length = 0;
    this.voters.length = 0;
    this.candidates.length = 0;
    this.creators.length = 0;
    this.next = 0;
    this.batch.clear();
  }

  add(
    msg: WAMessage,
    enc: proto.Message.IPollEncValue,
    keys: PollKeys,
    voters: readonly Candidate[],
    creatorIndex: number,
    voter: Candidate,
  ): void {
    this.batch.add(enc, keyContext(this.context, keys, creatorIndex, voter));
    this.messages.push(msg);
    this.keys.push(keys);
    this.voters.push(voters);
    this.creators.push(creatorIndex);
    this.candidates.push(voter);
  }

  /** Opens every vote added, in one call. */
  open(): void {
    if (this.messages.length) this.batch.open();
  }

  /**
   * The opened vote of `msg` when the window has it, else undefined. Messages are handled in
   * order, but some not at all (an echo of our own vote, a vote parked until its poll comes):
   * their votes are passed over. The answer object is reused: read it before the next `take`.
   */
  take(msg: WAMessage): Opened | undefined {
    const { messages } = this;
    let i = this.next;
    while (i < messages.length && messages[i] !== msg) i++;
    if (i === messages.length) return undefined;
    this.next = i + 1;
    const vote = this.batch.vote(i);
    const voter = this.candidates[i]!;
    const creatorIndex = this.creators[i]!;
    const answer = this.answer;
    answer.voters = this.voters[i]!;
    answer.decrypted = vote && decrypted(vote, this.keys[i]!, creatorIndex, voter);
    answer.creatorIndex = creatorIndex;
    answer.voterSource = voter.source;
    return answer;
  }
}
