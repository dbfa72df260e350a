import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HmacSha256Key, macCapacity } from '../src/votes/hmacSha256.js';

/** Ours, into a buffer with room to pad (garbage after the message, as a reused buffer has). */
const ours = (key: Uint8Array, message: Uint8Array): string => {
  const buf = new Uint8Array(macCapacity(message.length) + 7).fill(0xa5);
  buf.set(message);
  const out = new Uint8Array(32);
  new HmacSha256Key(key).mac(buf, message.length, out);
  return Buffer.from(out).toString('hex');
};
const node = (key: Uint8Array, message: Uint8Array): string =>
  createHmac('sha256', key).update(message).digest('hex');

describe('HMAC-SHA256 with precomputed pads against node:crypto', () => {
  it('agrees for any key (shorter, as long as and longer than a block) and any message', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 150 }),
        fc.uint8Array({ maxLength: 400 }),
        (key, message) => {
          expect(ours(key, message)).toBe(node(key, message));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('agrees at every padding boundary (messages of 0 to 200 bytes)', () => {
    const key = Buffer.from('a 32-byte key, as HKDF-Extract...');
    for (let length = 0; length <= 200; length++) {
      const message = Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 0xff);
      expect(ours(key, message)).toBe(node(key, message));
    }
  });

  it('one key gives the same MAC again after other messages (no state leaks between calls)', () => {
    const key = new HmacSha256Key(Buffer.alloc(32, 7));
    const mac = (text: string): string => {
      const buf = Buffer.alloc(macCapacity(text.length));
      buf.write(text);
      const out = Buffer.alloc(32);
      key.mac(buf, text.length, out);
      return out.toString('hex');
    };
    const first = mac('pollMsgId creator voter Poll Vote\u0001');
    mac('x'.repeat(130));
    expect(mac('pollMsgId creator voter Poll Vote\u0001')).toBe(first);
    expect(first).toBe(
      createHmac('sha256', Buffer.alloc(32, 7))
        .update('pollMsgId creator voter Poll Vote\u0001')
        .digest('hex'),
    );
  });

  it('refuses a buffer with no room for the padding instead of writing past the message', () => {
    const key = new HmacSha256Key(Buffer.alloc(32));
    expect(() => key.mac(new Uint8Array(64), 60, new Uint8Array(32))).toThrow(RangeError);
  });
});
