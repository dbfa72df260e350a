/*
 * The sandbox as seen from outside the worker thread: its options, and the probe that drives
 * and reads it over its BroadcastChannel. Nothing here loads Baileys, so the API's main thread
 * (CLI, `GET /sandbox/ledger`) stays free of it; the network itself is ./index.ts.
 */
export type { BurstResult } from './burst.js';
export {
  BurstKeys,
  ControlMessage,
  CreatePoll,
  type CreatePollInput,
  PreparedVotes,
  SandboxEvent,
} from './channel.js';
export { type ExpectedResult, expectedFrom, Ledger, LedgerVote } from './ledger.js';
export { SandboxOptions, type SandboxOptionsInput } from './options.js';
export { SandboxProbe } from './probe.js';
export { SentPoll } from './store.js';
