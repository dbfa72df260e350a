import type { WebSocket } from 'ws';

/** How many sockets without the key the server holds at once: in all, and per remote address. */
export interface HeldSocketLimits {
  total: number;
  perAddress: number;
}

/**
 * The tRPC WebSockets of callers who have not shown the key: refused ones, which stay open so
 * that tRPC's client ends its calls on the refusal instead of reconnecting (./wsRefusal.ts),
 * and ones whose key is still to come (connectionParams). Nothing of theirs is bounded by the
 * API key, so their number is: past a limit, the oldest socket (of that address, or of all) is
 * terminated. The tRPC client behind it may reconnect; it is refused again.
 */
export class HeldSockets {
  /** Each socket's remote address, in the order they came: the first is the oldest. */
  private readonly all = new Map<WebSocket, string>();
  private readonly byAddress = new Map<string, Set<WebSocket>>();

  constructor(
    private readonly limits: HeldSocketLimits,
    /** Told of each socket terminated to make room. */
    private readonly onEvicted: (address: string) => void = () => {},
  ) {}

  get size(): number {
    return this.all.size;
  }

  /** Holds `ws` until it closes or is `release`d; terminates the oldest ones over a limit. */
  hold(ws: WebSocket, address: string): void {
    const ofAddress = this.byAddress.get(address) ?? new Set<WebSocket>();
    this.byAddress.set(address, ofAddress);
    this.all.set(ws, address);
    ofAddress.add(ws);
    ws.once('close', () => this.release(ws));
    if (ofAddress.size > this.limits.perAddress) this.evict(first(ofAddress));
    if (this.all.size > this.limits.total) this.evict(first(this.all.keys()));
  }

  /** Stops holding `ws` (admitted, or closed). Idempotent. */
  release(ws: WebSocket): void {
    const address = this.all.get(ws);
    if (address === undefined) return;
    this.all.delete(ws);
    const ofAddress = this.byAddress.get(address);
    ofAddress?.delete(ws);
    if (ofAddress?.size === 0) this.byAddress.delete(address);
  }

  private evict(ws: WebSocket): void {
    const address = this.all.get(ws) ?? '';
    // Its `close` event comes later: out of the count now, so that one eviction makes room.
    this.release(ws);
    ws.terminate();
    this.onEvicted(address);
  }
}

const first = (sockets: Iterable<WebSocket>): WebSocket => {
  for (const ws of sockets) return ws;
  throw new Error('no socket held');
};
