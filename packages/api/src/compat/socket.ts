import {
  allPollDataJsonParts,
  type CompatServerEvents,
  type Poll,
  type SessionState,
  toPollData,
} from '@pollmasters/shared';
import type { Server, Socket } from 'socket.io';
import type { PollUpdate } from '../session/readModel.js';
import { PollCoalescer } from './coalescer.js';
import type { CompatSession } from './context.js';
import { GuiPushes } from './guiPushes.js';
import { emitJsonText } from './initialData.js';
import { loadAwareBudget } from './pushBudget.js';
import { dropSlowClients } from './slowClients.js';
import { compatUser } from './views.js';

type EventName = keyof CompatServerEvents;
type Payload<E extends EventName> = Parameters<CompatServerEvents[E]>[0];

/** Anything Socket.IO can emit on: the server (everyone) or one socket. */
interface Emitter {
  emit(event: string, payload: unknown): unknown;
}

/** Emits a compat event with its contract payload type. */
const send = <E extends EventName>(to: Emitter, event: E, payload: Payload<E>): void => {
  to.emit(event, payload);
};

/** A poll of the read model, whole. It is there: the caller read its id in the same turn. */
const wholePoll = (session: CompatSession, id: string): Poll => {
  const poll = session.getPoll(id);
  if (!poll) throw new Error(`poll ${id} left the read model while it was read`);
  return poll;
};

/** What a client must see for a session state, in the order the GUI expects. */
const sendState = (to: Emitter, state: SessionState, previous: SessionState | null): void => {
  const statusChanged = state.status !== previous?.status;
  if (statusChanged) send(to, 'client_status', state.status);
  if (
    state.status === 'ready' &&
    state.user &&
    (statusChanged || state.user.id !== previous?.user?.id)
  ) {
    send(to, 'whatsapp_user', compatUser(state.user));
  }
  if (state.status === 'qr_pending' && state.qr && (statusChanged || state.qr !== previous?.qr)) {
    send(to, 'qr_code', state.qr);
  }
};

/**
 * The compat Socket.IO events: the state on each connection (`client_status`, then
 * `whatsapp_user` or `qr_code`, then `initial_poll_data`), state changes to everyone,
 * `new_poll_sent` after every send, and coalesced full-state `poll_update_to_gui`.
 * Returns a function that detaches it.
 */
export const mountCompatSocket = (
  io: Server,
  session: CompatSession,
  {
    coalesceMs,
    maxBufferedBytes = 4 * 1024 * 1024,
    pushBytesPerSec,
    onSlowClient = () => {},
  }: {
    coalesceMs: number;
    maxBufferedBytes?: number | undefined;
    pushBytesPerSec?: number | (() => number) | undefined;
    onSlowClient?: (id: string, bytes: number) => void;
  },
): (() => void) => {
  /** Broadcasts, after dropping the clients that stopped reading (./slowClients.ts). */
  // Full states go only to clients that took the previous ones, within one byte budget for
  // all polls together (./guiPushes.ts, ./coalescer.ts).
  const pushes = new GuiPushes(io, maxBufferedBytes, onSlowClient, () => coalescer.kick());
  // Ten polls of 1,000 voters, each pushed 20 times a second, take up to 20 MB/s: a GUI that
  // follows 2,000 votes a second gets every state (issue 21); a flood gets a poll's newest
  // state less often.
  const budget =
    pushBytesPerSec ??
    loadAwareBudget({
      idleBytesPerSec: 32 * 1024 * 1024,
      busyBytesPerSec: 4 * 1024 * 1024,
      votes: () => session.votesCounted,
      busyAboveVotesPerSec: 5_000,
    });
  const broadcast: Emitter = {
    emit: (event, payload) => {
      dropSlowClients(io, maxBufferedBytes, onSlowClient, (socket, queued) =>
        pushes.excess(socket, queued),
      );
      return io.emit(event, payload);
    },
  };
  type Pending = { id: string; version: number; update: PollUpdate };
  const coalescer: PollCoalescer<Pending> = new PollCoalescer<Pending>(
    coalesceMs,
    (pending) => {
      // The full state is built here, once per push that goes out, from what the read model
      // holds then. Its results are that state's, not `update.counts`: the read model may
      // already hold later changes whose `pollsUpdated` is still to come, and the GUI must
      // never see voters and results that disagree.
      const { bytes, owed } = pushes.send(pending.id, pending.version, () =>
        pending.update.guiJson(),
      );
      if (owed) coalescer.retry(pending);
      return bytes;
    },
    { bytesPerSec: budget },
  );
  let last: SessionState = session.sessionState;

  const onConnection = (socket: Socket) => {
    pushes.track(socket);
    sendState(socket, session.sessionState, null);
    // Every poll as JSON text, in one part per poll: one poll's voter objects at a time (the
    // read model's cache keeps only the recently read), and the parts are copied into one
    // whole only once, where the packet is written (./initialData.ts).
    const parts = () =>
      allPollDataJsonParts(session.listPollHeads(), (head) => wholePoll(session, head.id));
    pushes.sentInitial(socket, emitJsonText(socket, 'initial_poll_data', parts));
  };
  const onState = (state: SessionState) => {
    sendState(broadcast, state, last);
    last = state;
  };
  const onPollSent = (poll: Poll) => {
    coalescer.seen(poll);
    send(broadcast, 'new_poll_sent', { pollMsgId: poll.id, pollData: toPollData(poll) });
  };
  const onPollsUpdated = (updates: readonly PollUpdate[]) => {
    for (const update of updates) {
      coalescer.push({ id: update.pollId, version: update.version, update });
    }
  };

  io.on('connection', onConnection);
  session.on('state', onState);
  session.on('pollSent', onPollSent);
  session.on('pollsUpdated', onPollsUpdated);
  return () => {
    io.off('connection', onConnection);
    session.off('state', onState);
    session.off('pollSent', onPollSent);
    session.off('pollsUpdated', onPollsUpdated);
    coalescer.close();
    pushes.close();
  };
};
