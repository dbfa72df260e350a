import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { Server } from 'socket.io';
import { io as connect, type Socket } from 'socket.io-client';
import { type CompatOptions, compatParser, mountCompat } from '../src/compat/index.js';
import { Config } from '../src/config.js';
import type { FakeSession } from './fakeSession.js';

export interface CompatServer {
  url: string;
  /** The server side, to look at its sockets. */
  io: Server;
  /**
   * A socket.io-client socket, over WebSocket unless `transports` says otherwise; `attach` runs
   * before anything can arrive (to record every event); resolves once `readyEvent` came.
   */
  client(
    readyEvent?: string,
    attach?: (socket: Socket) => void,
    transports?: ('websocket' | 'polling')[],
  ): Promise<Socket>;
  /** Disconnects every client and closes the server, stalled connections included. */
  close(): Promise<void>;
}

/** The compat API alone on a real http.Server and Socket.IO server, over a session double. */
export const startCompatServer = async (
  session: FakeSession,
  options: CompatOptions = {},
  config: Config = Config.parse({ port: 0, logLevel: 'silent' }),
): Promise<CompatServer> => {
  const app = express();
  const httpServer = createServer(app);
  const io = new Server(httpServer, {
    parser: compatParser,
    destroyUpgrade: false,
    serveClient: false,
  });
  mountCompat({ app, httpServer, io, session, config, logger: pino({ level: 'silent' }) }, options);
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  const sockets: Socket[] = [];
  return {
    url,
    io,
    client: async (readyEvent = 'connect', attach, transports = ['websocket']) => {
      const socket = connect(url, {
        transports,
        reconnection: false,
        forceNew: true,
      });
      sockets.push(socket);
      attach?.(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once(readyEvent, () => resolve());
        socket.once('connect_error', reject);
      });
      return socket;
    },
    close: async () => {
      for (const s of sockets) s.disconnect();
      const closed = new Promise<void>((resolve) => io.close(() => resolve()));
      // A stalled client's connection would keep the server open: end every one.
      httpServer.closeAllConnections();
      await closed;
    },
  };
};
