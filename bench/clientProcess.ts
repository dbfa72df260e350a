import { SocketWatcher, TrpcWatcher, type Watcher } from './clientWatchers.js';
import type { FromClient, ToClient } from './protocol.js';

/*
 * One client of `pnpm bench` in a process of its own, as a real client is: the tRPC subscriber
 * or the Socket.IO client (bench/clientWatchers.ts), driven by the bench over IPC. Apart, the
 * tRPC client's receipt times do not wait while the Socket.IO client parses full poll states.
 */
const [kind, url] = process.argv.slice(2);
if ((kind !== 'trpc' && kind !== 'socket') || !url || !process.send) {
  throw new Error(
    'usage: a child of the bench (bench/clients.ts): clientProcess.ts trpc|socket <url>',
  );
}
const send = (message: FromClient) => process.send?.(message);

const watcher: Watcher = kind === 'trpc' ? new TrpcWatcher(url) : new SocketWatcher(url);
await watcher.connect();
send({ type: 'ready', url });

process.on('message', (raw) => {
  const message = raw as ToClient;
  void handle(message).catch((err: Error) =>
    send({ type: 'error', id: message.id, message: err.message }),
  );
});

async function handle(message: ToClient): Promise<void> {
  const { id } = message;
  switch (message.type) {
    case 'watch':
      watcher.watch(message.phase);
      send({ type: 'watching', id });
      return;
    case 'progress':
      send({ type: 'progress', id, count: watcher.count });
      return;
    case 'done':
      send({ type: 'report', id, report: await watcher.done(message.timeoutMs) });
      return;
    case 'usage': {
      const cpu = process.cpuUsage();
      send({ type: 'usage', id, cpuUs: cpu.user + cpu.system });
      return;
    }
    case 'stop':
      await watcher.close();
      send({ type: 'stopped', id });
      process.disconnect();
      return;
  }
}
