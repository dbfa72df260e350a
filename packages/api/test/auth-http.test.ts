import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FailureResponse } from '@pollmasters/shared';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKeyAuth } from '../src/auth.js';

const KEY = 'correct-horse-battery-staple';
let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** The key check alone in front of one route: no error handler of the compat API, or any. */
const start = async (): Promise<string> => {
  const app = express();
  app.use(new ApiKeyAuth(KEY).http());
  app.get('/status', (_req, res) => {
    res.json({ status: 'ready' });
  });
  server = createServer(app);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

describe('the API key check over HTTP (issue #16 review)', () => {
  it('answers a refused request 401 itself, as JSON in the compat failure shape', async () => {
    const url = await start();
    const refused: Record<string, string>[] = [
      {},
      { 'x-api-key': 'wrong' },
      { authorization: 'Bearer wrong' },
    ];
    for (const headers of refused) {
      const res = await fetch(`${url}/status`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(FailureResponse.parse(await res.json())).toEqual({
        success: false,
        message: expect.stringMatching(/missing or wrong API key/),
      });
    }
    const ok = await fetch(`${url}/status`, { headers: { 'x-api-key': KEY } });
    expect(await ok.json()).toEqual({ status: 'ready' });
  });
});
