import type { SessionInfo } from '@pollmasters/shared';
import { useMutation } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { type FormEvent, useState } from 'react';
import { useTRPC } from '../trpc';
import { ErrorAlert } from './ErrorAlert';
import { QrImage } from './QrImage';

/**
 * Logging a session in: the QR to scan, drawn here and replaced live as WhatsApp rotates it,
 * or a pairing code for a phone number; closes itself once the session is ready.
 */
export const LoginPanel = ({ session, onClose }: { session: SessionInfo; onClose: () => void }) => {
  const trpc = useTRPC();
  const live = useSubscription(trpc.session.events.subscriptionOptions({ sessionId: session.id }));
  const state = live.data?.data.state;
  const start = useMutation(trpc.sessions.start.mutationOptions());
  const pair = useMutation(trpc.sessions.login.mutationOptions());
  const [phone, setPhone] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    pair.mutate({ id: session.id, phoneNumber: phone });
  };
  const status = state?.status ?? session.status;
  return (
    <section className="panel login" aria-label={`Log in ${session.id}`}>
      <div className="card-head">
        <h3>Log in {session.id}</h3>
        <button type="button" onClick={onClose} aria-label="Close the login">
          Close
        </button>
      </div>
      {session.run === 'stopped' ? (
        <button type="button" onClick={() => start.mutate({ id: session.id })}>
          Start the session to get a QR
        </button>
      ) : null}
      {status === 'ready' ? (
        <p role="status" className="ok">
          Logged in{state?.user ? ` as ${state.user.name ?? state.user.id}` : ''}.
        </p>
      ) : state?.qr ? (
        <div className="qr-box">
          <QrImage payload={state.qr} />
          <p>
            In WhatsApp on your phone: <em>Settings › Linked devices › Link a device</em>, then scan
            this code. It renews by itself.
          </p>
        </div>
      ) : (
        <p className="muted">Waiting for WhatsApp ({status.replace('_', ' ')})…</p>
      )}
      {status !== 'ready' ? (
        <form onSubmit={submit} className="row-form">
          <label>
            Or link with a phone number{' '}
            <input
              name="phone"
              inputMode="tel"
              placeholder="491701234567"
              value={phone}
              onChange={(e) => setPhone(e.target.value)}
              required
            />
          </label>
          <button type="submit" disabled={pair.isPending}>
            Get a pairing code
          </button>
        </form>
      ) : null}
      {pair.data?.method === 'pairingCode' ? (
        <p className="pairing">
          Type <strong className="code">{pair.data.code}</strong> in WhatsApp: Linked devices › Link
          with phone number instead.
        </p>
      ) : null}
      <ErrorAlert error={pair.error ?? start.error} />
    </section>
  );
};
