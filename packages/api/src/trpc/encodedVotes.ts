import { type PollVotes, plainJson } from '@pollmasters/shared';

const HEAD = '{"type":"votes","polls":[';
const TAIL = ']}';

/**
 * A `votes` event of `polls.updates` kept as its JSON text, made once per batch: what the event
 * log holds instead of the event's objects. Kept as objects, every vote change of the last
 * 50,000 was promoted to the old generation and collected from there (about 35 MB of the API's
 * heap, a third of its thread's time in GC: docs/performance.md, "Session 9"); as text it is
 * one string per batch, and the WebSocket frame splices it in instead of stringifying the
 * event for every subscriber (./wsEncoder.ts).
 *
 * It reads as the event it stands for: `type` and `polls` (parsed from the text when read, a
 * fresh copy each time) are its own enumerable properties, and `JSON.stringify` of it is its
 * text (`toJSON`), so every other path (tRPC over HTTP, a test) sends the same bytes. The
 * transformer takes it unwalked (`plainJson`).
 */
export class EncodedVotes {
  readonly type = 'votes' as const;
  declare readonly polls: PollVotes[];
  /** The whole event's JSON text (not enumerable: the object reads as the event alone). */
  declare readonly text: string;
  /** Its polls in the text's order, with each one's change count and place in the text. */
  readonly #pollIds: readonly string[];
  readonly #changeCounts: readonly number[];
  readonly #bounds: readonly number[];

  private constructor(
    text: string,
    pollIds: readonly string[],
    changeCounts: readonly number[],
    bounds: readonly number[],
  ) {
    Object.defineProperty(this, 'text', { value: text, enumerable: false });
    Object.defineProperty(this, 'polls', {
      enumerable: true,
      get: (): PollVotes[] => (JSON.parse(text) as { polls: PollVotes[] }).polls,
    });
    this.#pollIds = pollIds;
    this.#changeCounts = changeCounts;
    this.#bounds = bounds;
    plainJson(this);
  }

  /** The event of these polls' changes: the text `JSON.stringify` makes of the event object. */
  static of(polls: readonly PollVotes[]): EncodedVotes {
    let text = HEAD;
    const bounds: number[] = [];
    for (let i = 0; i < polls.length; i++) {
      if (i > 0) text += ',';
      bounds.push(text.length);
      text += JSON.stringify(polls[i]);
      bounds.push(text.length);
    }
    return new EncodedVotes(
      text + TAIL,
      polls.map((p) => p.pollId),
      polls.map((p) => p.changes.length),
      bounds,
    );
  }

  /** Vote changes it holds, over all its polls (what the event log weighs it by). */
  get changeCount(): number {
    let n = 0;
    for (const count of this.#changeCounts) n += count;
    return n;
  }

  /** The event narrowed to one of its polls (itself when that is its only poll), or null. */
  forPoll(pollId: string): EncodedVotes | null {
    const index = this.#pollIds.indexOf(pollId);
    if (index === -1) return null;
    if (this.#pollIds.length === 1) return this;
    const part = this.text.slice(this.#bounds[2 * index], this.#bounds[2 * index + 1]);
    return new EncodedVotes(
      HEAD + part + TAIL,
      [pollId],
      [this.#changeCounts[index]!],
      [HEAD.length, HEAD.length + part.length],
    );
  }

  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}
