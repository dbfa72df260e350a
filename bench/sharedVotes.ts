import type { BurstResult, PreparedVotes, SandboxProbe } from '@pollmasters/worker/sandbox/remote';

/** Prepared votes whose arrays live in one SharedArrayBuffer (posting them copies nothing). */
export const inSharedMemory = (v: PreparedVotes): PreparedVotes => {
  const sizes = [v.payloads.byteLength, v.ivs.byteLength, v.offsets.byteLength];
  const memory = new SharedArrayBuffer(sizes[0]! + sizes[1]! + sizes[2]! + 4);
  const payloads = new Uint8Array(memory, 0, sizes[0]);
  const ivs = new Uint8Array(memory, sizes[0], sizes[1]);
  // Uint32Array views must start on a multiple of 4.
  const at = Math.ceil((sizes[0]! + sizes[1]!) / 4) * 4;
  const offsets = new Uint32Array(memory, at, v.offsets.length);
  payloads.set(v.payloads);
  ivs.set(v.ivs);
  offsets.set(v.offsets);
  return { ...v, payloads, ivs, offsets };
};

/**
 * A burst's votes, encrypted by the bench (the voters' phones), delivered by a server process's
 * sandbox probe. Into shared memory first: the sandbox's BroadcastChannel has other listeners
 * in the process (the API's probe), and each would get its own copy of a plain buffer. The IPC
 * message's copies are let go; what stays is the network's one copy of its queue.
 */
export const castBurst = (
  probe: SandboxProbe,
  message: { votes: PreparedVotes[]; ratePerSec?: number; batchSize: number },
): Promise<BurstResult> => {
  const votes = message.votes.map(inSharedMemory);
  message.votes = [];
  return probe.castPrepared(votes, {
    ...(message.ratePerSec ? { ratePerSec: message.ratePerSec } : {}),
    batchSize: message.batchSize,
    timeoutMs: 120_000,
  });
};
