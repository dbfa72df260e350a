import { type Encoder, jsonEncoder } from '@trpc/server/adapters/ws';
import { LoggedVotes } from './loggedVotes.js';

/** What stands for the event while the rest of the frame is stringified (a string nobody sends). */
const MARK = '\u0000pollmasters-encoded-votes\u0000';
const MARK_JSON = JSON.stringify(MARK);

/** A tRPC response frame of a tracked subscription item, as the transformer left it. */
interface TrackedFrame {
  result: { data: { json: { data: unknown } } };
}

const trackedEvent = (frame: unknown): unknown =>
  (frame as Partial<TrackedFrame> | null)?.result?.data?.json?.data;

/**
 * tRPC's WebSocket frames, as its default `jsonEncoder` makes them, except that a `votes`
 * event of the log (./loggedVotes.ts) is spliced into its frame as its text, made once for
 * all the subscribers it goes to, instead of being stringified for each: the frame's other
 * few fields are stringified with a mark in its place. The event is the frame's last value but for our own tracked id
 * after it (`{"id":…,"result":{"type":"data","data":{"json":{"id":…,"data":EVENT}},"id":…}}`),
 * so the mark's last occurrence is its place whatever id a client chose. Same bytes either way
 * (packages/api/test/trpc-wireVotes.test.ts).
 */
export const wsEncoder: Encoder = {
  encode(frame: unknown) {
    const event = trackedEvent(frame);
    if (!(event instanceof LoggedVotes)) return jsonEncoder.encode(frame);
    const { result } = frame as TrackedFrame;
    const text = JSON.stringify({
      ...(frame as object),
      result: { ...result, data: { ...result.data, json: { ...result.data.json, data: MARK } } },
    });
    const at = text.lastIndexOf(MARK_JSON);
    return text.slice(0, at) + event.text + text.slice(at + MARK_JSON.length);
  },
  decode: jsonEncoder.decode,
};
