import { z } from 'zod';

/** Server configuration: flags mirror the environment variables (see README). */
export const Config = z.object({
  port: z.coerce.number().int().min(0).max(65_535).default(3000),
  host: z.string().min(1).default('127.0.0.1'),
  dataDir: z.string().min(1).default('./data'),
  apiKey: z.string().min(16, 'POLLMASTERS_API_KEY must be at least 16 characters').optional(),
  baileysModule: z.string().min(1).default('@whiskeysockets/baileys'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Run against the simulated WhatsApp network (with these sandbox options). */
  sandbox: z.record(z.string(), z.unknown()).optional(),
  /** Pause between sends of one multi-chat send. */
  sendDelayMs: z.coerce.number().int().min(0).max(60_000).default(1_000),
});
export type Config = z.output<typeof Config>;
export type ConfigInput = z.input<typeof Config>;

export const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
