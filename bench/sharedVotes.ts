import type { PreparedVotes } from '@pollmasters/worker/sandbox/remote';

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
