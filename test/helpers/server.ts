import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config, type ConfigInput, type RunningServer, startServer } from '@pollmasters/api';
import { type Logger, pino } from 'pino';

export interface TestServer extends RunningServer {
  dataDir: string;
  /** The BroadcastChannel name of this server's sandbox network. */
  sandboxChannel: string;
  /** Stops the server; keeps the data dir (for restart tests). */
  stop(): Promise<void>;
  /** Stops the server and deletes its data dir. */
  destroy(): Promise<void>;
}

let counter = 0;

/**
 * The real server, in sandbox mode, on a free port with a temporary data dir.
 * Pass `dataDir` to start again on the data of an earlier server.
 */
export const startTestServer = async (
  options: {
    dataDir?: string;
    sandbox?: Record<string, unknown>;
    config?: Partial<ConfigInput>;
    /** Where the server logs; default: stdout at TEST_LOG_LEVEL (silent). */
    logger?: Logger;
  } = {},
): Promise<TestServer> => {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'pollmasters-test-'));
  const sandboxChannel = `pollmasters-sandbox-${process.pid}-${++counter}`;
  const config = Config.parse({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    sendDelayMs: 0,
    ...options.config,
    sandbox: { qrScanDelayMs: 50, channelName: sandboxChannel, ...options.sandbox },
  });
  const server = await startServer(config, options.logger ?? pino({ level: config.logLevel }));
  const stop = () => server.close();
  return {
    ...server,
    dataDir,
    sandboxChannel,
    stop,
    destroy: async () => {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};
