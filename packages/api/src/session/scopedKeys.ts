import { randomBytes } from 'node:crypto';
import type { SessionRecord } from '@pollmasters/shared';
import { keyHashOf } from '../auth.js';

/** A new session key and the hash the registry keeps of it. */
export const mintScopedKey = (): { apiKey: string; keyHash: string } => {
  // 256 random bits: as hard to guess as a SHA-256 digest is to invert.
  const apiKey = `pm_${randomBytes(32).toString('base64url')}`;
  return { apiKey, keyHash: keyHashOf(apiKey) };
};

/**
 * Which session each session key belongs to, by the key's hash: kept in step with the
 * registry (set on create and rotate, dropped on delete), so a rotated or deleted session's
 * old key is refused from the next request on.
 */
export class ScopedKeys {
  private readonly byHash = new Map<string, string>();
  private readonly hashOf = new Map<string, string>();

  /** Follows a session's record: its `keyHash`, or none. */
  track(record: SessionRecord): void {
    this.forget(record.id);
    if (!record.keyHash) return;
    this.byHash.set(record.keyHash, record.id);
    this.hashOf.set(record.id, record.keyHash);
  }

  forget(sessionId: string): void {
    const old = this.hashOf.get(sessionId);
    if (old !== undefined) this.byHash.delete(old);
    this.hashOf.delete(sessionId);
  }

  /** The session whose key has this hash, if any. */
  readonly sessionOf = (keyHash: string): string | undefined => this.byHash.get(keyHash);
}
