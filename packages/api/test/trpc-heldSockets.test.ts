import { describe, expect, it } from 'vitest';
import { HeldSockets } from '../src/trpc/heldSockets.js';
import { FakeWebSocket } from './fakeWebSocket.js';

const holding = (limits = { total: 6, perAddress: 3 }) => {
  const evicted: string[] = [];
  const held = new HeldSockets(limits, (address) => evicted.push(address));
  const hold = (address: string) => {
    const socket = new FakeWebSocket();
    held.hold(socket.ws, address);
    return socket;
  };
  return { held, hold, evicted };
};

describe('sockets held without the key (issue #16 review)', () => {
  it('terminates the oldest socket of an address past its share', () => {
    const { held, hold, evicted } = holding();
    const [first, ...others] = [hold('a'), hold('a'), hold('a')];
    const other = hold('b');
    expect(held.size).toBe(4);
    hold('a');
    expect(first!.terminated).toBe(1);
    expect([...others, other].map((s) => s.terminated)).toEqual([0, 0, 0]);
    expect(evicted).toEqual(['a']);
    expect(held.size).toBe(4);
  });

  it('terminates the oldest socket of all past the total, whatever its address', () => {
    const { held, hold, evicted } = holding();
    const sockets = ['a', 'b', 'c', 'd', 'e', 'f'].map(hold);
    hold('g');
    expect(sockets.map((s) => s.terminated)).toEqual([1, 0, 0, 0, 0, 0]);
    expect(evicted).toEqual(['a']);
    expect(held.size).toBe(6);
  });

  it('counts no socket that closed or was released (admitted)', () => {
    const { held, hold } = holding();
    const closing = hold('a');
    const admitted = hold('a');
    closing.terminate();
    held.release(admitted.ws);
    held.release(admitted.ws);
    expect(held.size).toBe(0);
    const kept = [hold('a'), hold('a'), hold('a')];
    expect(kept.map((s) => s.terminated)).toEqual([0, 0, 0]);
  });
});
