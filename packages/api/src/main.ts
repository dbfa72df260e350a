import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { Config } from './config.js';
import { startServer } from './server.js';

// The command-line entry: `pnpm start [-- --sandbox]`.
// pnpm passes the `--` of `pnpm start -- --sandbox` through; it is not an argument.
const argv = process.argv.slice(2);
if (argv[0] === '--') argv.shift();
const { values } = parseArgs({
  args: argv,
  options: {
    sandbox: { type: 'boolean', default: false },
    port: { type: 'string' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
    'log-level': { type: 'string' },
  },
  strict: true,
});

const parsed = Config.safeParse({
  port: values.port ?? process.env.PORT,
  host: values.host ?? process.env.HOST,
  dataDir: values['data-dir'] ?? process.env.POLLMASTERS_DATA_DIR,
  apiKey: process.env.POLLMASTERS_API_KEY || undefined,
  baileysModule: process.env.POLLMASTERS_BAILEYS_MODULE || undefined,
  logLevel: values['log-level'] ?? process.env.LOG_LEVEL,
  sandbox: values.sandbox ? {} : undefined,
});
if (!parsed.success) {
  console.error(
    `PollMasters: invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
  );
  process.exit(2);
}
const logger = pino({ level: parsed.data.logLevel });
const server = await startServer(parsed.data, logger);

let stoppingSince = 0;
const stop = (signal: string) => {
  if (stoppingSince) {
    // A process manager (pnpm, a terminal's process group) may pass one Ctrl+C on twice at
    // once; only a signal sent again by a person forces the exit.
    if (Date.now() - stoppingSince < 500) return;
    logger.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  stoppingSince = Date.now();
  logger.info({ signal }, 'shutting down');
  server.close().then(
    () => process.exit(0),
    (err) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
