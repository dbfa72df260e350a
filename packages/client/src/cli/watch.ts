import { parseArgs } from 'node:util';
import { SessionId } from '@pollmasters/shared';
import { createPollMastersClient } from '../index.js';
import { PollBoard } from './pollBoard.js';

// `pnpm watch [-- --url http://127.0.0.1:3000] [--session shop]`: prints every poll and its live vote counts,
// through the typed tRPC client. For the sandbox demo and as an example of the client.

const usage = `Usage: pnpm watch [-- --url <server>] [--api-key <key>] [--session <id>]
  --url <server>     the PollMasters server [POLLMASTERS_URL, default http://127.0.0.1:3000]
  --api-key <key>    for a server off loopback [POLLMASTERS_API_KEY]
  --session <id>     the session (WhatsApp account) to watch [POLLMASTERS_SESSION, default default]
`;
let values: { url?: string; 'api-key'?: string; session?: string; help?: boolean };
try {
  const argv = process.argv.slice(2);
  ({ values } = parseArgs({
    args: argv[0] === '--' ? argv.slice(1) : argv,
    options: {
      url: { type: 'string' },
      'api-key': { type: 'string' },
      session: { type: 'string' },
      help: { type: 'boolean' },
    },
  }));
} catch (err) {
  console.error(`pollmasters watch: ${(err as Error).message.split('. ')[0]} (see --help)`);
  process.exit(2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const url = values.url ?? process.env.POLLMASTERS_URL ?? 'http://127.0.0.1:3000';
const apiKey = values['api-key'] ?? (process.env.POLLMASTERS_API_KEY || undefined);
const sessionArg = SessionId.safeParse(
  values.session ?? (process.env.POLLMASTERS_SESSION || 'default'),
);
if (!sessionArg.success) {
  console.error(`pollmasters watch: --session: ${sessionArg.error.issues[0]?.message}`);
  process.exit(2);
}
const sessionId = sessionArg.data;

const client = createPollMastersClient({
  url,
  ...(apiKey ? { apiKey } : {}),
  onConnectionChange: (state) => {
    if (state === 'closed') console.log(`-- connection to ${url} closed; reconnecting...`);
  },
});
const board = new PollBoard((line) => console.log(line));
console.log(`Watching ${url}, session ${sessionId} (Ctrl+C to stop)`);

let lastStatus: string | null = null;
const session = client.session.events.subscribe(
  { sessionId },
  {
    onData: ({ data }) => {
      if (data.state.status !== lastStatus) console.log(`-- WhatsApp: ${data.state.status}`);
      lastStatus = data.state.status;
    },
    onError: (err) => console.error(`pollmasters watch: ${err.message}`),
  },
);
const updates = client.polls.updates.subscribe(
  { sessionId },
  {
    onData: ({ data }) => board.apply(data),
    onError: (err) => {
      console.error(`pollmasters watch: ${err.message}`);
      process.exitCode = 1;
      // A session that does not exist (or a key that may not see it) will not come.
      if (err.data?.code === 'NOT_FOUND' || err.data?.code === 'FORBIDDEN') stop();
    },
  },
);

function stop() {
  session.unsubscribe();
  updates.unsubscribe();
  void client.close().then(() => process.exit());
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
