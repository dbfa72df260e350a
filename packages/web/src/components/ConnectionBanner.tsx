import { useConnectionState } from '../connection';

/** Shown while the live connection is down: what is on screen may be behind until it is back. */
export const ConnectionBanner = () => {
  const state = useConnectionState();
  if (state !== 'closed') return null;
  return (
    <div className="banner" role="status" aria-live="polite">
      Disconnected from the server: live updates are paused. Reconnecting…
    </div>
  );
};
