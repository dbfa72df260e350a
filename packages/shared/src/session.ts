import { z } from 'zod';

/**
 * Connection status of the WhatsApp session; the same strings as the compat contract.
 * - `disconnected`: not connected (starting, reconnecting, or WhatsApp unreachable)
 * - `qr_pending`: waiting for a QR scan or a pairing code
 * - `ready`: logged in and connected
 * - `logged_out`: the session was logged out; a fresh QR follows
 * - `auth_failure`: WhatsApp rejected the stored credentials
 */
export const SessionStatus = z.enum([
  'disconnected',
  'qr_pending',
  'ready',
  'logged_out',
  'auth_failure',
]);
export type SessionStatus = z.infer<typeof SessionStatus>;

export const WhatsAppUser = z.object({ id: z.string(), name: z.string().optional() });
export type WhatsAppUser = z.infer<typeof WhatsAppUser>;

export const Chat = z.object({ id: z.string(), name: z.string(), isGroup: z.boolean() });
export type Chat = z.infer<typeof Chat>;

/** Phone number for pairing-code login: digits only, with country code. */
export const PhoneNumber = z
  .string()
  .trim()
  .transform((s) => s.replace(/[\s+()-]/g, ''))
  .pipe(z.string().regex(/^\d{7,15}$/, 'must be a phone number with country code, digits only'));

export const SessionState = z.object({
  status: SessionStatus,
  /** The raw QR payload while `qr_pending`. */
  qr: z.string().nullable(),
  user: WhatsAppUser.nullable(),
});
export type SessionState = z.infer<typeof SessionState>;
