import { ErrorCode } from '@pollmasters/shared';
import { describe, expect, it } from 'vitest';
import { boom } from '../src/sandbox/boom.js';
import { sendError } from '../src/sendError.js';

const GROUP = '120363000000000001@g.us';

describe('sendError: what a refused poll means for the caller', () => {
  it("is NOT_FOUND for WhatsApp's item-not-found, as Baileys throws it", () => {
    // Baileys' assertNodeErrorFree: `new Boom(text, { data: +code })`, status 500.
    for (const err of [boom('item-not-found', 500, 404), boom('not a member', 500, 404)]) {
      const mapped = sendError(GROUP, err);
      expect(mapped.code).toBe(ErrorCode.NOT_FOUND);
      expect(mapped.message).toBe(
        `chat ${GROUP} not found: WhatsApp has no such chat for this account (item-not-found)`,
      );
      expect(mapped.cause).toBe(err);
    }
  });

  it('is SEND_FAILED for anything else, with what WhatsApp said', () => {
    for (const err of [boom('rate-overlimit', 500, 429), new Error('Connection Closed')]) {
      const mapped = sendError(GROUP, err);
      expect(mapped.code).toBe(ErrorCode.SEND_FAILED);
      expect(mapped.message).toBe(`WhatsApp did not accept the poll: ${err.message}`);
    }
    expect(sendError(GROUP, 'odd').message).toBe('WhatsApp did not accept the poll: odd');
  });
});
