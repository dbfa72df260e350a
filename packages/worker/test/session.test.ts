import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Backoff, PollTracking } from '@pollmasters/shared';
import type { WorkerEvent } from '@pollmasters/shared/node';
import { optionHash } from '@pollmasters/shared/node';
import { DisconnectReason, makeEventBuffer } from '@whiskeysockets/baileys';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WhatsAppSession } from '../src/session.js';
import type { PollSocket, PollSocketConfig } from '../src/socket.js';
import { useSqliteAuthState } from '../src/store/authState.js';
import { openDatabase } from '../src/store/database.js';
import type { SessionStore } from '../src/store/sessionStore.js';
import { ALICE, BOB, GROUP, groupKey, ME, voteMessage } from './fixtures.js';
import { engines, type StoreHome, storeHomes } from './storeEngines.js';

const logger = pino({ level: 'silent' });

/** A socket double on Baileys' own event buffer: the test plays WhatsApp's part. */
const makeDouble = () => {
  const sockets: (PollSocket & { config: PollSocketConfig; ended: boolean })[] = [];
  const makeSocket = (config: PollSocketConfig) => {
    const sock = {
      config,
      ended: false,
      ev: makeEventBuffer(logger),
      user: undefined,
      sendMessage: vi.fn(),
      groupFetchAllParticipating: vi.fn(async () => ({})),
      logout: vi.fn(async () => {}),
      end: vi.fn(() => {
        sock.ended = true;
      }),
      requestPairingCode: vi.fn(async () => 'ABCD1234'),
      signalRepository: {
        lidMapping: { getPNForLID: vi.fn(async () => null), getLIDForPN: vi.fn(async () => null) },
      },
    };
    sockets.push(sock as never);
    return sock as unknown as PollSocket;
  };
  return { sockets, makeSocket };
};

const dirs: string[] = [];
const opened: SessionStore[] = [];
const makeSession = async (
  double: ReturnType<typeof makeDouble>,
  place: StoreHome,
  backoff = new Backoff(1_000, 60_000, () => 0.5),
) => {
  const store = await place.open();
  opened.push(store);
  const { auth, polls } = store;
  const events: WorkerEvent[] = [];
  const session = new WhatsAppSession({
    makeSocket: double.makeSocket,
    auth,
    polls,
    chats: store.chats,
    earlyVotes: store.earlyVotes,
    tracking: PollTracking.parse({}),
    emit: (e) => events.push(e),
    logger,
    backoff,
  });
  return { session, events, auth, store, polls };
};

const closeWith = (sock: PollSocket, statusCode: number) =>
  sock.ev.emit('connection.update', {
    connection: 'close',
    // Baileys closes with a Boom error: what counts is `output.statusCode`.
    lastDisconnect: {
      error: Object.assign(new Error('closed'), { output: { statusCode } }),
      date: new Date(),
    },
  });

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(opened.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe.each(engines)('WhatsApp session lifecycle on %s', (engine) => {
  const home = storeHomes(engine, 'session');

  it('shows the raw QR, then ready with the user after the scan', async () => {
    const double = makeDouble();
    const { session, events } = await makeSession(double, home());
    session.start();
    const sock = double.sockets[0]!;
    sock.ev.emit('connection.update', { qr: '2@abc,def,ghi,jkl' });
    await vi.waitFor(() => expect(events).toContainEqual({ type: 'qr', qr: '2@abc,def,ghi,jkl' }));
    expect(session.snapshot).toMatchObject({ status: 'qr_pending', qr: '2@abc,def,ghi,jkl' });
    await expect(session.requestPairingCode('491701234567')).resolves.toBe('ABCD1234');
    // After pairing, WhatsApp asks for a restart: a new socket at once, no backoff.
    closeWith(sock, DisconnectReason.restartRequired);
    await vi.waitFor(() => expect(double.sockets).toHaveLength(2));
    const next = double.sockets[1]!;
    (next as { user?: unknown }).user = { id: '15550000001:3@s.whatsapp.net', name: 'Me' };
    next.ev.emit('connection.update', { connection: 'open' });
    await vi.waitFor(() => expect(session.snapshot.status).toBe('ready'));
    expect(events).toContainEqual({
      type: 'user',
      user: { id: '15550000001@s.whatsapp.net', name: 'Me' },
    });
    expect(session.snapshot.qr).toBeNull();
    session.close();
  });

  it('with no route to WhatsApp reports disconnected and retries with growing delays', async () => {
    vi.useFakeTimers();
    const double = makeDouble();
    const { session } = await makeSession(double, home());
    session.start();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      closeWith(double.sockets[i]!, DisconnectReason.connectionLost);
      await vi.advanceTimersByTimeAsync(0);
      expect(session.snapshot.status).toBe('disconnected');
      const before = Date.now();
      while (double.sockets.length === i + 1) await vi.advanceTimersByTimeAsync(100);
      delays.push(Date.now() - before);
    }
    // 1 s, 2 s, 4 s, 8 s, 16 s (jitter fixed at the middle here): calm, never a tight loop.
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000]);
    session.close();
  });

  it('reports auth_failure when WhatsApp refuses the credentials, and keeps retrying', async () => {
    vi.useFakeTimers();
    const double = makeDouble();
    const { session } = await makeSession(double, home());
    session.start();
    closeWith(double.sockets[0]!, DisconnectReason.forbidden);
    await vi.advanceTimersByTimeAsync(0);
    expect(session.snapshot.status).toBe('auth_failure');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(double.sockets).toHaveLength(2);
    session.close();
  });

  it('after a logout from the phone wipes the auth state and offers a fresh QR', async () => {
    const double = makeDouble();
    const place = home();
    const { session, events, auth, store } = await makeSession(double, place);
    auth.state.creds.me = { id: '15550000001:3@s.whatsapp.net', name: 'Me' };
    auth.state.creds.registered = true;
    auth.saveCreds();
    await auth.state.keys.set({ session: { 'a.0': new Uint8Array([1, 2]) } });
    session.start();
    double.sockets[0]!.ev.emit('connection.update', { connection: 'open' });
    await vi.waitFor(() => expect(session.snapshot.status).toBe('ready'));

    closeWith(double.sockets[0]!, DisconnectReason.loggedOut);
    await vi.waitFor(() => expect(double.sockets).toHaveLength(2));
    expect(events.filter((e) => e.type === 'status').map((e) => e.status)).toEqual([
      'ready',
      'logged_out',
    ]);
    expect(events).toContainEqual({ type: 'user', user: null });
    // Wiped: fresh creds, no keys; the new socket gets them.
    expect(auth.state.creds.me).toBeUndefined();
    await store.settled();
    expect(await place.rows('auth_keys')).toBe(0);
    expect(double.sockets[1]!.config.auth.creds.registered).toBe(false);
    double.sockets[1]!.ev.emit('connection.update', { qr: 'fresh-qr' });
    await vi.waitFor(() =>
      expect(session.snapshot).toMatchObject({ status: 'qr_pending', qr: 'fresh-qr' }),
    );
    session.close();
  });

  it('our logout tells WhatsApp, wipes, and reconnects for a QR without a restart', async () => {
    const double = makeDouble();
    const { session, auth } = await makeSession(double, home());
    session.start();
    double.sockets[0]!.ev.emit('connection.update', { connection: 'open' });
    await vi.waitFor(() => expect(session.snapshot.status).toBe('ready'));
    auth.state.creds.registered = true;
    await session.logout();
    expect(double.sockets[0]!.logout).toHaveBeenCalled();
    expect(double.sockets[0]!.ended).toBe(true);
    expect(double.sockets).toHaveLength(2);
    expect(auth.state.creds.registered).toBe(false);
    expect(session.snapshot.status).toBe('logged_out');
    session.close();
  });

  it('refuses commands with a clear error while not ready', async () => {
    const double = makeDouble();
    const { session } = await makeSession(double, home());
    session.start();
    await expect(
      session.sendPoll({ chatId: '1@g.us', question: 'q', options: ['a'], selectableCount: 0 }),
    ).rejects.toMatchObject({ code: 'NOT_READY' });
    await expect(session.listChats()).rejects.toMatchObject({ code: 'NOT_READY' });
    await expect(session.requestPairingCode('491701234567')).rejects.toMatchObject({
      code: 'NOT_READY',
    });
    session.close();
  });
});

describe('the session on SQLite', () => {
  const home = storeHomes('sqlite', 'session');

  it('keeps auth state across a reopen of the database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pollmasters-auth-'));
    dirs.push(dir);
    let db = openDatabase(dir, 's');
    let auth = useSqliteAuthState(db);
    auth.state.creds.me = { id: '1@s.whatsapp.net' };
    auth.saveCreds();
    await auth.state.keys.set({
      'pre-key': { '1': { public: new Uint8Array([1]), private: new Uint8Array([2]) } },
    });
    const noiseKey = Buffer.from(auth.state.creds.noiseKey.private);
    db.close();
    db = openDatabase(dir, 's');
    auth = useSqliteAuthState(db);
    expect(auth.state.creds.me?.id).toBe('1@s.whatsapp.net');
    expect(Buffer.from(auth.state.creds.noiseKey.private)).toEqual(noiseKey);
    const keys = await auth.state.keys.get('pre-key', ['1', '2']);
    expect(Buffer.from(keys['1']!.private)).toEqual(Buffer.from([2]));
    expect(keys['2']).toBeUndefined();
    db.close();
  });

  it('stores and announces the votes of a batch as soon as it is handled', async () => {
    // Frozen timers: a flush that waited for a timer would never happen here.
    vi.useFakeTimers({ toFake: ['setTimeout', 'setImmediate'] });
    const double = makeDouble();
    const place = home();
    const { session, events, polls } = await makeSession(double, place);
    session.start();
    const secret = new Uint8Array(32).fill(9);
    polls.add({
      id: 'P1',
      chatId: GROUP,
      creator: { jid: ME.pn, fromMe: true },
      question: 'q',
      options: ['Pizza', 'Pasta', 'Salad'].map((name) => ({ name, hash: optionHash(name) })),
      selectableCount: 1,
      createdAt: 1,
      secret,
      creatorJids: [ME.pn, ME.lid],
      message: new Uint8Array([1]),
    });
    const vote = (who: typeof ALICE, option: string) =>
      voteMessage({
        pollId: 'P1',
        secret,
        signCreator: ME.lid,
        signVoter: who.lid,
        key: groupKey(who),
        options: [option],
        timestampMs: 1000,
      });
    double.sockets[0]!.ev.emit('messages.upsert', {
      type: 'notify',
      messages: [vote(ALICE, 'Pizza'), vote(BOB, 'Salad')],
    });
    // No timer to wait for (and none runs): once the batch's promises settle, it is stored.
    for (let i = 0; i < 1_000 && !events.some((e) => e.type === 'votes'); i++)
      await Promise.resolve();
    expect(events.filter((e) => e.type === 'votes')).toHaveLength(1);
    const stored = await place.select('votes', 'voter', 'voter');
    expect(stored).toEqual([{ voter: ALICE.pn }, { voter: BOB.pn }]);
    session.close();
  });
});
