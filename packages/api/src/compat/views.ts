import {
  type AllPollData,
  type Poll,
  type PollUpdateToGui,
  type SessionState,
  type StatusResponse,
  toPollData,
  type WhatsAppUser,
} from '@pollmasters/shared';

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

/** pollMsgId -> poll data, for `initial_poll_data` and `GET /get-all-poll-data`. */
export const allPollData = (polls: readonly Poll[]): AllPollData =>
  Object.fromEntries(polls.map((poll) => [poll.id, toPollData(poll)]));

/** `poll_update_to_gui`: the poll's full current state. */
export const pollUpdateToGui = (poll: Poll): PollUpdateToGui => ({
  pollMsgId: poll.id,
  ...toPollData(poll),
});
