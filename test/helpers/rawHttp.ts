import { connect, type Socket } from 'node:net';

export interface RawExchange {
  /** Everything the server wrote before it closed the connection (or before the timeout). */
  reply: string;
  /** Whether the server closed the connection within the time allowed. */
  closed: boolean;
}

/** Connects a raw TCP socket to `port` on loopback; resolves once connected. */
export const rawConnect = (port: number, options: { allowHalfOpen?: boolean } = {}) =>
  new Promise<Socket>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ...options }, () => resolve(socket));
    socket.once('error', reject);
  });

/** Resolves once `socket` is closed (`close` event); never rejects. */
export const socketClosed = (socket: Socket): Promise<void> =>
  new Promise((resolve) => {
    if (socket.closed) resolve();
    else socket.once('close', () => resolve());
  });

/**
 * Writes `request` (bytes as they go on the wire: a request line and headers a client library
 * would refuse to send) on a new connection and collects the reply until the server closes it,
 * or `timeoutMs` passes.
 */
export const rawExchange = async (
  port: number,
  request: string,
  timeoutMs = 5_000,
): Promise<RawExchange> => {
  const socket = await rawConnect(port);
  let reply = '';
  socket.on('data', (chunk: Buffer) => {
    reply += chunk.toString('latin1');
  });
  // A reset is a close too.
  socket.on('error', () => {});
  socket.write(request);
  const closed = await Promise.race([
    socketClosed(socket).then(() => true),
    new Promise<boolean>((resolve) => setTimeout(resolve, timeoutMs, false).unref()),
  ]);
  socket.destroy();
  return { reply, closed };
};

/** A WebSocket upgrade request for `target`, with extra header lines. */
export const upgradeRequest = (target: string, headers: string[] = ['Host: 127.0.0.1']) =>
  [
    `GET ${target} HTTP/1.1`,
    ...headers,
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    '',
    '',
  ].join('\r\n');

/**
 * Sends an upgrade on a socket that keeps its own side open whatever the server does
 * (`allowHalfOpen`) and answers nothing after the headers: a client that ignores close frames
 * and never closes. Resolves with the socket once the server's answer headers came.
 */
export const silentUpgrade = async (
  port: number,
  request: string,
): Promise<{ socket: Socket; head: string }> => {
  const socket = await rawConnect(port, { allowHalfOpen: true });
  socket.on('error', () => {});
  let received = '';
  const head = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      // Still reading (and dropping) whatever comes, as a client that ignores it.
      socket.resume();
      resolve(received.slice(0, end));
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed before answering: ${received}`)));
  });
  socket.write(request);
  return { socket, head: await head };
};
