import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawExchange, upgradeRequest } from './helpers/rawHttp.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sessionStatus } from './helpers/wait.js';

// Issue 16 review: an upgrade whose target a URL parser cannot read (`GET //`, `GET /\`) threw
// in the server's upgrade listener, before any key check: an uncaught exception, the server
// gone, and the votes its worker held with it. Every upgrade, however malformed, is answered
// or dropped, and the server goes on.

const KEY = 'correct-horse-battery-staple';
let keyed: TestServer;
let open: TestServer;

beforeAll(async () => {
  [keyed, open] = await Promise.all([
    startTestServer({ config: { apiKey: KEY } }),
    startTestServer(),
  ]);
  await Promise.all([sessionStatus(keyed.session), sessionStatus(open.session)]);
});
afterAll(() => Promise.all([keyed.destroy(), open.destroy()]));

/** Upgrades no router can serve: targets that are not a path, and hosts that make no URL. */
const malformed: [string, string][] = [
  ['//', upgradeRequest('//')],
  ['///', upgradeRequest('///')],
  ['/\\', upgradeRequest('/\\')],
  ['//trpc', upgradeRequest('//trpc')],
  ['/\\socket.io/', upgradeRequest('/\\socket.io/?EIO=4&transport=websocket')],
  ['absolute-form', upgradeRequest('http://127.0.0.1/trpc')],
  ['asterisk-form', upgradeRequest('*')],
  ['/trpc with a host that makes no URL', upgradeRequest('/trpc', ['Host: [::1'])],
  [
    '/trpc?connectionParams=1 with a host that makes no URL',
    upgradeRequest('/trpc?connectionParams=1', ['Host: a b']),
  ],
  [
    '/socket.io/ with a host that makes no URL',
    upgradeRequest('/socket.io/?EIO=4&transport=websocket', ['Host: [']),
  ],
  [
    '/trpc without a WebSocket key',
    'GET /trpc HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
  ],
  [
    '/trpc, another protocol',
    'GET /trpc HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n',
  ],
];

const healthy = async (server: TestServer) => {
  const res = await fetch(`http://127.0.0.1:${server.port}/healthz`, {
    headers: { 'x-api-key': KEY },
  });
  return res.status;
};

describe('malformed WebSocket upgrades (issue #16 review)', () => {
  for (const [name, getServer] of [
    ['with an API key', () => keyed],
    ['without one', () => open],
  ] as const) {
    it(`${name}: each is dropped or refused, never upgraded, and the server goes on`, async () => {
      const server = getServer();
      for (const [what, request] of malformed) {
        const { reply, closed } = await rawExchange(server.port, request);
        expect(closed, what).toBe(true);
        expect(reply, what).not.toMatch(/^HTTP\/1\.1 101/);
        expect(await healthy(server), what).toBe(200);
      }
    });
  }
});
