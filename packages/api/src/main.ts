import { pino } from 'pino';
import { parseCommandLine } from './cli.js';
import { runSandboxAccounts } from './sandboxAccounts.js';
import { startServer } from './server.js';
import { TerminalUi } from './terminalUi.js';

// The command-line entry: `pnpm start [-- --sandbox]` (bin/pollmasters). Parsing lives in ./cli.ts.
const command = parseCommandLine(process.argv.slice(2), process.env);
if ('help' in command) {
  process.stdout.write(command.help);
  process.exit(0);
}
if ('error' in command) {
  process.stderr.write(`pollmasters: ${command.error}\n`);
  process.exit(2);
}
const { config, pair, demoEveryMs, sandboxSessions } = command;
// Logs go to stderr as JSON lines; stdout is the terminal UI (URL, status, QR).
const logger = pino({ level: config.logLevel }, pino.destination(2));
const server = await startServer(config, logger).catch((err: unknown) => {
  logger.fatal({ err }, 'could not start');
  process.stderr.write(`pollmasters: could not start: ${(err as Error).message}\n`);
  process.exit(1);
});
const ui = new TerminalUi(server.session, { out: process.stdout, logger, pair });
ui.listening(server.url);
let stopDemo = () => {};

/** Shutdown must end within this; past it the process exits anyway, with 1. */
const shutdownDeadlineMs = 4_500;
/** What the server's stop may take: the deadline, less the time to log and exit. */
const stopBudgetMs = shutdownDeadlineMs - 500;
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
  stopDemo();
  ui.close();
  setTimeout(() => {
    logger.error({ afterMs: shutdownDeadlineMs }, 'shutdown took too long: exiting now');
    process.exit(1);
  }, shutdownDeadlineMs).unref();
  server.close(stopBudgetMs).then(
    () => {
      logger.info('stopped');
      logger.flush();
      process.exit(0);
    },
    (err) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
// After the handlers: in a cluster starting the sandbox accounts waits for the nodes to take
// them, and a stop meanwhile must still hand over and exit cleanly.
if (config.sandbox) {
  const stopAccounts = await runSandboxAccounts(server.sessions, {
    count: sandboxSessions,
    demoEveryMs,
    out: process.stdout,
    logger,
  });
  if (stoppingSince) stopAccounts();
  else stopDemo = stopAccounts;
}
