import { DEFAULT_SESSION, errors, Limits, PollId, parseInput } from '@pollmasters/shared';
import { CreatePoll, SandboxProbe } from '@pollmasters/worker/sandbox/remote';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { EdgeContext } from './edge.js';
import { sandboxChannelOf } from './session/sessionOpen.js';

/**
 * In sandbox mode only, for the demo and for clients written in other languages (the Python
 * GUI test) that cannot hear the in-process channel:
 * - `GET /sandbox/ledger` tells what the simulated network cast, as the final selections a
 *   correct count must reach (`polls`: poll id -> voter -> option names), the votes it has
 *   yet to send (`pending`: poll id -> count), and who created each poll (`creators`);
 * - `POST /sandbox/polls` creates a poll on the account's phone, or by a member (`creator`),
 *   optionally held back (`hold`) until `POST /sandbox/polls/:id/release`.
 * Each session has its own simulated network: `?session=<id>` picks it (default `default`).
 */
export const mountSandboxRoutes = ({ app, config, sessions }: EdgeContext): (() => void) => {
  if (!config.sandbox) return () => {};
  const probes = new Map<string, SandboxProbe>();
  /** The probe of the network of the session named by `?session=` (an unknown one: 404). */
  const probeOf = (req: Request): SandboxProbe => {
    const asked = req.query.session ?? DEFAULT_SESSION;
    if (typeof asked !== 'string') throw errors.badInput('session: one session id');
    const id = sessions.require(asked).record.id;
    let probe = probes.get(id);
    if (!probe) {
      probe = new SandboxProbe(sandboxChannelOf(config, id));
      probes.set(id, probe);
    }
    return probe;
  };
  const json = express.json({ limit: Limits.bodyMaxBytes });
  /** The network's refusals (unknown chat, not a member, not held) are the caller's mistakes. */
  const asked = async <T>(ask: () => Promise<T>): Promise<T> => {
    try {
      return await ask();
    } catch (err) {
      const message = (err as Error).message;
      throw /did not answer/.test(message) ? err : errors.badInput(message);
    }
  };
  /** Failures go to the server's one error mapping (a JSON `{success: false}`). */
  const reply =
    (handler: (req: Request) => Promise<object>) =>
    async (req: Request, res: Response, next: NextFunction) => {
      try {
        res.json({ success: true, ...(await handler(req)) });
      } catch (err) {
        next(err);
      }
    };

  app.get(
    '/sandbox/ledger',
    reply(async (req) => {
      const { polls, pending, creators } = await probeOf(req).ledger();
      return { polls, pending, creators };
    }),
  );
  app.post(
    '/sandbox/polls',
    json,
    reply(async (req) => {
      const probe = probeOf(req);
      const input = parseInput(CreatePoll, req.body ?? {});
      return { poll: await asked(() => probe.createPoll(input)) };
    }),
  );
  app.post(
    '/sandbox/polls/:id/release',
    reply(async (req) => {
      const probe = probeOf(req);
      const pollId = parseInput(PollId, req.params.id);
      // The network answers only for its own polls (several may share a channel): ask first.
      if (!(pollId in (await probe.ledger()).creators)) throw errors.notFound(`poll ${pollId}`);
      await asked(() => probe.releasePoll(pollId));
      return { pollId };
    }),
  );
  return () => {
    for (const probe of probes.values()) probe.close();
  };
};
