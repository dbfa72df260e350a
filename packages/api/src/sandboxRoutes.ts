import { SandboxOptions, SandboxProbe } from '@pollmasters/worker/sandbox/remote';
import type { EdgeContext } from './edge.js';

/**
 * In sandbox mode only: `GET /sandbox/ledger` tells what the simulated network cast, as the
 * final selections a correct count must reach (`polls`: poll id -> voter -> option names) and
 * the votes it has yet to send (`pending`: poll id -> count). For the demo and for clients
 * written in other languages (the Python GUI test) that cannot hear the in-process channel.
 */
export const mountSandboxRoutes = ({ app, config }: EdgeContext): (() => void) => {
  if (!config.sandbox) return () => {};
  const { channelName } = SandboxOptions.parse(config.sandbox);
  const probe = new SandboxProbe(channelName);
  app.get('/sandbox/ledger', async (_req, res, next) => {
    try {
      const { polls, pending } = await probe.ledger();
      res.json({ success: true, polls, pending });
    } catch (err) {
      next(err);
    }
  });
  return () => probe.close();
};
