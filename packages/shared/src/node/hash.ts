import { createHash } from 'node:crypto';

/** WhatsApp's poll option hash: SHA-256 of the option's UTF-8 text, as lowercase hex. */
export const optionHash = (optionName: string): string =>
  createHash('sha256').update(optionName, 'utf8').digest('hex');
