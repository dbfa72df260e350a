import { parseArgs } from 'node:util';
import { createPollMastersClient } from '../index.js';
import { PollBoard } from './pollBoard.js';

// `pnpm watch [-- --url http://127.0.0.1:3000]`: prints every poll and its live vote counts,
// through the typed tRPC client. For the sandbox demo and as an example of the client.

const usage = `Usage: pnpm watch [-- --url <server>] [--api-key <key>]
  --url <server>     the PollMasters server [POLLMASTERS_URL, default http://127.0.0.1:3000]
  --api-key <key>    for a server off loopback [POLLMASTERS_API_KEY]
`;
let values: { url?: string; 'api-key'?: string; help?: boolean };
try {
  const argv = process.argv.slice(2);
  ({ values } = parseArgs({
    args: argv[0] === '--' ? argv.slice(1) : argv,
    options: { url: { type: 'string' }, 'api-key': { type: 'string' }, help: { type: 'boolean' } },
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

const client = createPollMastersClient({
  url,
  ...(apiKey ? { apiKey } : {}),
  onConnectionChange: (state) => {
    if (state === 'closed') console.log(`-- connection to ${url} closed; reconnecting...`);
  },
});
const board = new PollBoard((line) => console.log(line));
console.log(`Watching ${url} (Ctrl+C to stop)`);

let lastStatus: string | null = null;
const session = client.session.events.subscribe(
  {},
  {
    onData: ({ data }) => {
      if (data.state.status !== lastStatus) console.log(`-- WhatsApp: ${data.state.status}`);
      lastStatus = data.state.status;
    },
    onError: (err) => console.error(`pollmasters watch: ${err.message}`),
  },
);
const updates = client.polls.updates.subscribe(
  {},
  {
    onData: ({ data }) => board.apply(data),
    onError: (err) => {
      console.error(`pollmasters watch: ${err.message}`);
      process.exitCode = 1;
    },
  },
);

const stop = () => {
  session.unsubscribe();
  updates.unsubscribe();
  void client.close().then(() => process.exit());
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
