import type { SessionInfo } from '@pollmasters/shared';
import { navigate, type Route } from '../route';

/** Which session the screens show; the choice is part of the address. */
export const SessionPicker = ({
  sessions,
  route,
  screen,
}: {
  sessions: SessionInfo[];
  route: Route;
  screen: string;
}) => {
  const ids = sessions.map((s) => s.id);
  if (!ids.includes(route.sessionId)) ids.unshift(route.sessionId);
  return (
    <label className="picker">
      Session{' '}
      <select
        value={route.sessionId}
        onChange={(e) => navigate({ screen, sessionId: e.target.value })}
      >
        {ids.map((id) => (
          <option key={id} value={id}>
            {id}
          </option>
        ))}
      </select>
    </label>
  );
};
