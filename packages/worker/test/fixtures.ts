import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, type VoteChange, type VoteRejection } from '@pollmasters/shared';
import { optionHash } from '@pollmasters/shared/node';
import {
  type AuthenticationState,
  initAuthCreds,
  proto,
  type WAMessage,
  type WAMessageKey,
} from '@whiskeysockets/baileys';
import { afterEach } from 'vitest';
import { encryptPollVote } from '../src/sandbox/votes.js';
import { SqliteChatStore } from '../src/store/chatStore.js';
import { type Db, openDatabase } from '../src/store/database.js';
import { PollStore } from '../src/store/pollStore.js';
import type { Identity, OwnJids } from '../src/votes/identity.js';
import { VoteProcessor } from '../src/votes/voteProcessor.js';

/** Fresh credentials and no keys, in memory: a device that has never logged in. */
export const memoryAuth = (): AuthenticationState => ({
  creds: initAuthCreds(),
  keys: { get: async () => ({}), set: async () => {} },
});

export const ME = { pn: '15550000001@s.whatsapp.net', lid: '100000000000001@lid' };
export const ALICE = { pn: '4915112345678@s.whatsapp.net', lid: '200000000000002@lid' };
export const BOB = { pn: '4915187654321@s.whatsapp.net', lid: '200000000000003@lid' };
export const GROUP = '120363000000000001@g.us';
export const OPTIONS = ['Pizza', 'Pasta', 'Salad'];

/** Our identity, with a LID -> PN mapping that the test may add to. */
export const mappingIdentity = (me: OwnJids, lidToPn: Map<string, string>): Identity => ({
  me: () => me,
  pnForLid: async (lid) => lidToPn.get(lid),
  lidForPn: async (pn) => [...lidToPn].find(([, p]) => p === pn)?.[0],
});

/** A real SQLite store in a temp dir, a vote processor over it, and what it emitted. */
export const makeHarness = (mapping: Record<string, string> = {}, me: OwnJids = ME) => {
  const dir = mkdtempSync(join(tmpdir(), 'pollmasters-worker-'));
  let db: Db = openDatabase(dir, 'test');
  let polls = PollStore.sqlite(db);
  let chats = new SqliteChatStore(db);
  const accepted: VoteChange[] = [];
  const rejected: VoteRejection[] = [];
  const lidToPn = new Map(Object.entries(mapping));
  const identity = mappingIdentity(me, lidToPn);
  const makeProcessor = () =>
    new VoteProcessor(
      polls,
      chats,
      identity,
      { votes: (c) => accepted.push(...c), rejected: (r) => rejected.push(r) },
      silentLogger,
    );
  let processor = makeProcessor();
  const h = {
    dir,
    accepted,
    rejected,
    lidToPn,
    get polls() {
      return polls;
    },
    get processor() {
      return processor;
    },
    addPoll(
      id: string,
      chatId: string,
      selectableCount = 1,
      secret: Uint8Array = randomBytes(32),
      creatorJids: string[] = [ME.pn, ME.lid],
    ) {
      polls.add({
        id,
        chatId,
        creator: {
          jid: creatorJids.find((j) => j.endsWith('@s.whatsapp.net')) ?? creatorJids[0] ?? '',
          fromMe: creatorJids.includes(ME.pn) || creatorJids.includes(ME.lid),
        },
        question: 'Lunch?',
        options: OPTIONS.map((name) => ({ name, hash: optionHash(name) })),
        selectableCount,
        createdAt: 1_700_000_000_000,
        secret,
        creatorJids,
        message: new Uint8Array([1]),
      });
      return secret;
    },
    /** Feeds one vote and stores it. */
    async vote(msg: WAMessage) {
      await processor.handle(msg);
      processor.flush();
    },
    poll(id: string) {
      return polls.toPoll(polls.get(id)!);
    },
    /** Closes and reopens the database, as after a restart. */
    reopen() {
      processor.flush();
      db.close();
      db = openDatabase(dir, 'test');
      polls = PollStore.sqlite(db);
      chats = new SqliteChatStore(db);
      processor = makeProcessor();
    },
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
};

let seq = 0;

/** A vote message as Baileys 7 delivers it, encrypted for the given signing JIDs. */
export const voteMessage = (o: {
  pollId: string;
  secret: Uint8Array;
  signCreator: string;
  signVoter: string;
  key: Omit<WAMessageKey, 'id'>;
  options: string[];
  timestampMs: number;
  id?: string;
  /** The poll key's `fromMe` as Baileys normalises it for us (default: our poll). */
  pollFromMe?: boolean;
}): WAMessage => {
  const vote = encryptPollVote(o.options, {
    pollMsgId: o.pollId,
    pollEncKey: o.secret,
    pollCreatorJid: o.signCreator,
    voterJid: o.signVoter,
  });
  return {
    key: { ...o.key, id: o.id ?? `VOTE${++seq}` },
    message: {
      pollUpdateMessage: {
        pollCreationMessageKey: {
          remoteJid: o.key.remoteJid,
          fromMe: o.pollFromMe ?? true,
          id: o.pollId,
        },
        vote,
        senderTimestampMs: o.timestampMs,
      },
    },
    messageTimestamp: Math.floor(o.timestampMs / 1000),
  } as WAMessage;
};

/** Key of a vote in a LID-addressed group. */
export const groupKey = (p: { pn: string; lid: string }, withAlt = true) => ({
  remoteJid: GROUP,
  fromMe: false,
  participant: p.lid,
  ...(withAlt ? { participantAlt: p.pn } : {}),
});

/** Key of a vote in a direct chat. */
export const directKey = (p: { pn: string; lid: string }) => ({
  remoteJid: p.pn,
  remoteJidAlt: p.lid,
  fromMe: false,
});

export const hashes = (...names: string[]) => names.map(optionHash);

/** A maker of temp dirs for one test file; every dir it made is removed after each test. */
export const tempDirs = (prefix: string): (() => string) => {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
};

/** A message as Baileys hands it over: decoded from protobuf (Long timestamps, byte arrays). */
export const received = (
  key: WAMessageKey,
  message: proto.IMessage,
  extra: Partial<proto.IWebMessageInfo> = {},
): WAMessage => {
  const decoded = proto.WebMessageInfo.decode(
    proto.WebMessageInfo.encode({
      key,
      message,
      messageTimestamp: 1_700_000_000,
      ...extra,
    }).finish(),
  );
  // Baileys keeps the `*Alt` JIDs on the key, which the protobuf MessageKey has no field for.
  return Object.assign(decoded, { key: { ...decoded.key, ...key } }) as WAMessage;
};

/** A poll creation message (V1), with its secret where given, as Baileys delivers it. */
export const pollCreation = (o: {
  id: string;
  key: Omit<WAMessageKey, 'id'>;
  secret?: Uint8Array;
  options?: string[];
  selectableCount?: number;
  extra?: Partial<proto.IWebMessageInfo>;
}): WAMessage =>
  received(
    { ...o.key, id: o.id },
    {
      pollCreationMessage: {
        name: 'Lunch?',
        options: (o.options ?? OPTIONS).map((optionName) => ({ optionName })),
        selectableOptionsCount: o.selectableCount ?? 1,
      },
      ...(o.secret ? { messageContextInfo: { messageSecret: o.secret } } : {}),
    },
    o.extra,
  );

/** Stores poll `id` ("Lunch?", OPTIONS, one choice) as the account's own, without votes. */
export const lunchPoll = (polls: PollStore, id = 'P') =>
  polls.add({
    id,
    chatId: GROUP,
    creator: { jid: '', fromMe: true },
    question: 'Lunch?',
    options: OPTIONS.map((name) => ({ name, hash: optionHash(name) })),
    selectableCount: 1,
    createdAt: 1_700_000_000_000,
    secret: new Uint8Array(32),
    creatorJids: [],
    message: new Uint8Array([1]),
  });

/** A decrypted vote for one option, as PollStore.applyVote takes it. */
export const storedVote = (voter: string, option: string, timestampMs: number) => ({
  voter,
  name: undefined,
  selected: [optionHash(option)],
  timestampMs,
  messageId: `M${timestampMs}`,
});

/** A member's vote on our poll in GROUP, signed with LIDs (as a LID-addressed group signs). */
export const lidGroupVote = (
  pollId: string,
  secret: Uint8Array,
  who: { pn: string; lid: string },
  options: string[],
  timestampMs: number,
) =>
  voteMessage({
    pollId,
    secret,
    signCreator: ME.lid,
    signVoter: who.lid,
    key: groupKey(who),
    options,
    timestampMs,
  });
