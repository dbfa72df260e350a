import { DEFAULT_SESSION } from '@pollmasters/shared';
import { useSyncExternalStore } from 'react';

/**
 * The dashboard's place, in the URL's hash (`#/polls/<id>?session=shop`): the server serves
 * one page at `/`, every screen is an address within it (bookmarkable, back button works).
 */
export interface Route {
  /** The screen: the first part of the path (`sessions`, `chats`, `polls`, ...). */
  screen: string;
  /** What follows it, e.g. a poll id. */
  rest: string[];
  /** The session the screens show. */
  sessionId: string;
}

const parse = (hash: string): Route => {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const [screen = '', ...rest] = path.split('/').map((part) => decodeURIComponent(part));
  const sessionId = new URLSearchParams(query).get('session') || DEFAULT_SESSION;
  return { screen, rest, sessionId };
};

/** The hash for a place: `href(route)` for links, `navigate(route)` to go there. */
export const href = ({ screen, rest = [], sessionId }: Partial<Route> & { screen: string }) => {
  const path = [screen, ...rest].map(encodeURIComponent).join('/');
  const query = sessionId && sessionId !== DEFAULT_SESSION ? `?session=${sessionId}` : '';
  return `#/${path}${query}`;
};

export const navigate = (route: Partial<Route> & { screen: string }): void => {
  window.location.hash = href(route);
};

const subscribe = (listener: () => void) => {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
};

export const useRoute = (): Route => {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parse(hash);
};
