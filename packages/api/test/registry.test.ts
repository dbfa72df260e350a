import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SessionRecord, silentLogger } from '@pollmasters/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { pgTestDatabase } from '../../../test/helpers/pgTestDatabase.js';
import { openRegistry } from '../src/session/openRegistry.js';

const record = (id: string, shouldRun = false): SessionRecord => ({
  id,
  createdAt: 1_700_000_000_000,
  settings: { trackPolls: 'all' },
  shouldRun,
});

describe.each(['file', 'postgres'] as const)('the session registry in %s', (engine) => {
  const database = engine === 'postgres' ? pgTestDatabase('registry') : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'pollmasters-registry-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const open = () => openRegistry(dataDir, database?.url, silentLogger);

  it('starts with default, keeps every change across a reopen, in the order created', async () => {
    const first = await open();
    expect(first.list().map((r) => r.id)).toEqual(['default']);
    await first.put(record('shop'));
    await first.put(record('club'));
    await first.put(record('shop', true));
    await first.put(record('gone'));
    await first.remove('gone');
    await first.remove('never-was');
    await first.close();

    const second = await open();
    expect(second.list().map((r) => r.id)).toEqual(['default', 'shop', 'club']);
    expect(second.get('shop')).toEqual(record('shop', true));
    expect(second.get('gone')).toBeUndefined();
    await second.close();
  });
});
