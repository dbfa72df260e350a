import type { SessionState, StatusResponse, WhatsAppUser } from '@pollmasters/shared';

/** `GET /status`: the QR only while pending, the user only when ready. */
export const statusResponse = ({ status, qr, user }: SessionState): StatusResponse => ({
  status,
  ...(status === 'qr_pending' && qr ? { qrCode: qr } : {}),
  ...(status === 'ready' && user ? { user: compatUser(user) } : {}),
});

/** The GUI reads `name`: fall back to the number when WhatsApp gave no push name. */
export const compatUser = (user: WhatsAppUser): WhatsAppUser => ({
  id: user.id,
  name: user.name ?? user.id.split(/[@:]/)[0] ?? user.id,
});
