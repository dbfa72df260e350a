import { describe, expect, it } from 'vitest';
import { ALICE, BOB, GROUP } from './fixtures.js';
import { engines, storeHomes } from './storeEngines.js';

const OTHER_GROUP = '120363000000000002@g.us';

describe.each(engines)('chats and the login on %s', (engine) => {
  const home = storeHomes(engine, 'chatauth');

  it('keep chats, names and pair hints across a reopen', async () => {
    const place = home();
    let store = await place.open();
    store.chats.saveChats([
      { id: GROUP, name: 'Lunch club', isGroup: true },
      { id: BOB.pn, name: null, isGroup: false },
      { id: ALICE.pn, isGroup: false },
    ]);
    // A later save without a name keeps the name known; in one batch, the last name counts.
    store.chats.saveChats([{ id: GROUP, name: null, isGroup: true }]);
    const renamed = ['Old club', 'Lunch club', null].map((name) => ({
      id: OTHER_GROUP,
      name,
      isGroup: true,
    }));
    store.chats.saveChats(renamed);
    store.chats.saveContacts([
      { id: ALICE.pn, name: 'Alice' },
      { id: BOB.lid, name: '  ' },
    ]);
    store.chats.rememberPair(GROUP, 1, 'participantAlt');
    await store.close();

    store = await place.open();
    expect(await store.chats.chats()).toEqual([
      { id: BOB.pn, name: BOB.pn.split('@')[0], isGroup: false },
      { id: ALICE.pn, name: 'Alice', isGroup: false },
      { id: GROUP, name: 'Lunch club', isGroup: true },
      { id: OTHER_GROUP, name: 'Lunch club', isGroup: true },
    ]);
    expect(store.chats.nameOf(ALICE.pn)).toBe('Alice');
    expect(store.chats.nameOf(BOB.lid)).toBeUndefined();
    expect(store.chats.hint(GROUP)).toEqual({ creatorIndex: 1, voterSource: 'participantAlt' });
    await store.close();
    place.remove();
  });

  it('keeps the login (creds and keys) until it is wiped', async () => {
    const place = home();
    let store = await place.open();
    const { state } = store.auth;
    // Out of the range initAuthCreds draws from: a wiped login can never have it.
    Object.assign(state.creds, { registrationId: 99_999 });
    await store.auth.saveCreds();
    await state.keys.set({
      'pre-key': { '1': { public: Buffer.from([1, 2]), private: Buffer.from([3, 4]) } },
      session: { 'alice.0': Buffer.from([9, 9]) },
    });
    await state.keys.set({ session: { 'alice.0': null } });
    await store.close();

    store = await place.open();
    expect(store.auth.state.creds.registrationId).toBe(99_999);
    const keys = await store.auth.state.keys.get('pre-key', ['1', '2']);
    expect(Object.keys(keys)).toEqual(['1']);
    expect(Buffer.from(keys['1']!.private)).toEqual(Buffer.from([3, 4]));
    expect(await store.auth.state.keys.get('session', ['alice.0'])).toEqual({});

    await store.auth.wipe();
    expect(store.auth.state.creds.registrationId).not.toBe(99_999);
    await store.close();
    store = await place.open();
    expect(store.auth.state.creds.registrationId).not.toBe(99_999);
    expect(await store.auth.state.keys.get('pre-key', ['1'])).toEqual({});
    await store.close();
    place.remove();
  });
});
