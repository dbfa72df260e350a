import { startServer } from '@pollmasters/api';
import { processThreadsCpuUs, threadCpuUs } from '@pollmasters/worker';
import { SandboxProbe } from '@pollmasters/worker/sandbox/remote';
import { pino } from 'pino';
import { benchConfig } from './benchConfig.js';
import type { FromServer, ToServer } from './protocol.js';
import { sendPolls } from './sendPolls.js';
import { castBurst } from './sharedVotes.js';

/*
 * The server under test, in its own process (so that its RSS is its own): the real server in
 * sandbox mode on a free port with the data dir it is given, and the sandbox probe, driven by
 * the bench over IPC. BroadcastChannels only reach threads of one process, so the probe must
 * live here.
 */
const [dataDir, channelName] = process.argv.slice(2);
if (!dataDir || !channelName || !process.send) {
  throw new Error(
    'usage: a child of the bench (bench/serverProcess.ts): server.ts <dataDir> <channelName>',
  );
}
const send = (message: FromServer) => process.send?.(message);

const config = benchConfig(dataDir, {
  channelName,
  groups: 10,
  membersPerGroup: 5,
  directChats: 0,
});
const server = await startServer(config, pino({ level: config.logLevel }));
const { session } = server;
if (session.sessionState.status !== 'ready') {
  await new Promise<void>((resolve) => {
    const onState = () => {
      if (session.sessionState.status !== 'ready') return;
      session.off('state', onState);
      resolve();
    };
    session.on('state', onState);
  });
}
const probe = new SandboxProbe(channelName);
send({ type: 'ready', url: server.url });

process.on('message', (raw) => {
  const message = raw as ToServer;
  void handle(message).catch((err: Error) =>
    send({ type: 'error', id: message.id, message: err.message }),
  );
});

async function handle(message: ToServer): Promise<void> {
  switch (message.type) {
    case 'createPolls': {
      send({ type: 'polls', id: message.id, polls: await sendPolls(session, message) });
      return;
    }
    case 'burstKeys': {
      send({ type: 'burstKeys', id: message.id, keys: await probe.burstKeys(message.pollIds) });
      return;
    }
    case 'burst': {
      send({ type: 'burst', id: message.id, result: await castBurst(probe, message) });
      return;
    }
    case 'usage': {
      const usage = process.memoryUsage();
      const cpu = process.cpuUsage();
      send({
        type: 'usage',
        id: message.id,
        peakRssBytes: process.resourceUsage().maxRSS * 1024,
        rssBytes: usage.rss,
        heapUsedBytes: usage.heapUsed,
        heapTotalBytes: usage.heapTotal,
        externalBytes: usage.external,
        cpuUs: cpu.user + cpu.system,
        workerActiveMs: session.workerBusyMs(),
        workerCpuUs: await session.workerCpuUs(),
        // This is the server process's main thread: the API's.
        apiCpuUs: threadCpuUs(),
        threadsCpuUs: [...processThreadsCpuUs()],
      });
      return;
    }
    case 'stop': {
      probe.close();
      await server.close();
      send({ type: 'stopped', id: message.id });
      process.disconnect();
      return;
    }
  }
}
