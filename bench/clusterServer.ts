import { type RunningServer, sandboxChannelOf, startServer } from '@pollmasters/api';
import { SandboxProbe } from '@pollmasters/worker/sandbox/remote';
import { pino } from 'pino';
import { benchConfig } from './benchConfig.js';
import type { FromNode, NodeSettings, ToNode } from './clusterProtocol.js';
import { sendPolls } from './sendPolls.js';
import { castBurst } from './sharedVotes.js';
import { waitFor } from './waitFor.js';

/*
 * One node of `pnpm bench -- cluster`, in its own process (its CPU time is its own): the real
 * server in sandbox mode on a free port, with the store and cluster settings it is given, and
 * a sandbox probe for each session it runs, driven by the bench over IPC (bench/clusterProtocol.ts).
 */
const [dataDir, channelName, settingsJson] = process.argv.slice(2);
if (!dataDir || !channelName || !settingsJson || !process.send) {
  throw new Error(
    'usage: a child of bench/cluster.ts: clusterServer.ts <dataDir> <channel> <json>',
  );
}
const settings = JSON.parse(settingsJson) as NodeSettings;
const send = (message: FromNode) => process.send?.(message);

const config = benchConfig(
  dataDir,
  { channelName, groups: 10, membersPerGroup: 5, directChats: 0 },
  {
    ...(settings.databaseUrl ? { databaseUrl: settings.databaseUrl } : {}),
    ...(settings.cluster
      ? {
          redisUrl: settings.cluster.redisUrl,
          nodeId: settings.cluster.nodeId,
          redisPrefix: settings.cluster.prefix,
        }
      : {}),
  },
);
const server: RunningServer = await startServer(config, pino({ level: config.logLevel }));
const probes = new Map<string, SandboxProbe>();
const probeOf = (sessionId: string): SandboxProbe => {
  let probe = probes.get(sessionId);
  if (!probe) {
    probe = new SandboxProbe(sandboxChannelOf(config, sessionId));
    probes.set(sessionId, probe);
  }
  return probe;
};
send({ type: 'ready', url: server.url });

process.on('message', (raw) => {
  const message = raw as ToNode;
  void handle(message).catch((err: Error) =>
    send({ type: 'error', id: message.id, message: err.message }),
  );
});

const isReady = (id: string) => server.sessions.get(id)?.service.sessionState.status === 'ready';

async function handle(message: ToNode): Promise<void> {
  const { id } = message;
  switch (message.type) {
    case 'sessions': {
      for (const sessionId of message.ids) {
        if (!server.sessions.get(sessionId)) await server.sessions.create({ id: sessionId });
        await server.sessions.start(sessionId);
      }
      send({ type: 'done', id });
      return;
    }
    case 'awaitReady': {
      await waitFor(
        () => `${message.ids.filter((s) => !isReady(s)).join(', ')} to be ready`,
        () => message.ids.every(isReady),
        message.timeoutMs,
      );
      send({ type: 'done', id });
      return;
    }
    case 'owned': {
      // Only the process whose worker runs a session's network answers on its channel (at once;
      // 3 s leaves room for a busy machine).
      const answers = await Promise.all(
        message.ids.map((s) =>
          Promise.race([
            probeOf(s)
              .ledger()
              .then(() => s),
            new Promise<null>((r) => setTimeout(() => r(null), 3_000)),
          ]).catch(() => null),
        ),
      );
      send({ type: 'owned', id, ids: answers.filter((s): s is string => s !== null) });
      return;
    }
    case 'createPolls': {
      const service = server.sessions.require(message.sessionId).service;
      send({ type: 'polls', id, polls: await sendPolls(service, message) });
      return;
    }
    case 'burstKeys': {
      const keys = await probeOf(message.sessionId).burstKeys(message.pollIds);
      send({ type: 'burstKeys', id, keys });
      return;
    }
    case 'burst': {
      send({ type: 'burst', id, result: await castBurst(probeOf(message.sessionId), message) });
      return;
    }
    case 'usage': {
      const cpu = process.cpuUsage();
      const peakRssBytes = process.resourceUsage().maxRSS * 1024;
      send({ type: 'usage', id, cpuUs: cpu.user + cpu.system, peakRssBytes });
      return;
    }
    case 'stop': {
      for (const probe of probes.values()) probe.close();
      await server.close();
      send({ type: 'stopped', id });
      process.disconnect();
      return;
    }
  }
}
