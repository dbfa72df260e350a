import { randomBytes } from 'node:crypto';
import { getHeapSnapshot } from 'node:v8';
import { optionHash } from '@pollmasters/shared/node';
import { expect, it } from 'vitest';
import { PollReadModel } from '../src/session/readModel.js';
import { PollEventLog } from '../src/trpc/eventLog.js';
import { poll } from './votesFixtures.js';

/** The option name made of these bytes: made here, so that no async frame holds it. */
const nameOf = (bytes: Buffer): string => bytes.toString('hex');

/** The name's text as bytes, to look for in a heap snapshot. */
const textOf = (bytes: Buffer): Buffer => Buffer.from(nameOf(bytes));

/**
 * Whether anything still holds the option name of these bytes: a heap snapshot collects
 * garbage first, then lists every string left. The test keeps the bytes, never the name, so
 * that it is no holder itself (an async function's frame would keep the name across `await`).
 */
const heapHolds = async (bytes: Buffer): Promise<boolean> => {
  const text = textOf(bytes);
  const chunks: Buffer[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).includes(text);
};

it("keeps nothing of a poll's options once the read model forgot it and the log dropped its events", async () => {
  const model = new PollReadModel();
  const log = new PollEventLog({ epoch: 'e1', capacity: 1 });
  // A vote in a new poll with options `option` and No, applied and logged as the server does.
  const voteIn = (id: string, option: Buffer) => {
    const options = [nameOf(option), 'No'].map((name) => ({ name, hash: optionHash(name) }));
    model.put({ ...poll(id), options });
    const selected = [options[0]!.hash];
    const change = {
      pollId: id,
      voter: 'x@lid',
      selected,
      unknownHashes: 0,
      timestampMs: 1,
      version: 1,
    };
    log.pollsUpdated([...model.apply([change]).values()]);
  };
  const name = randomBytes(16);
  voteIn('gone', name);
  // The model holds the option, and the log's event its name (what a resumed client gets).
  expect(await heapHolds(name)).toBe(true);

  model.forget(['gone']);
  // The log's one event is now of another poll.
  voteIn('other', randomBytes(16));
  expect(log.after({ epoch: 'e1', seq: 0 })).toBeNull();
  expect(await heapHolds(name)).toBe(false);
});
