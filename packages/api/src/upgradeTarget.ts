import type { IncomingMessage } from 'node:http';

/** What an upgrade asks for: its path as sent (no dot segments resolved) and its query. */
export interface UpgradeTarget {
  path: string;
  searchParams: URLSearchParams;
}

/**
 * The one reading of an upgrade's request target, for every router of upgrades (the key check,
 * tRPC, the catch-all): null when it is not a path (`//`, `/\`, `*`, absolute-form) or when the
 * request makes no URL with its `Host` (tRPC's adapter builds one and would throw). Never throws:
 * it runs in `upgrade` listeners, where a throw is an uncaught exception that ends the server.
 * The path is the raw one because Socket.IO matches the raw prefix too: a normalised path could
 * send one upgrade to two routers.
 */
export const upgradeTarget = (req: IncomingMessage): UpgradeTarget | null => {
  const target = req.url ?? '';
  if (!target.startsWith('/') || target.startsWith('//') || target.includes('\\')) return null;
  if (!URL.canParse(target, `http://${req.headers.host ?? 'localhost'}`)) return null;
  const query = target.indexOf('?');
  return query < 0
    ? { path: target, searchParams: new URLSearchParams() }
    : { path: target.slice(0, query), searchParams: new URLSearchParams(target.slice(query + 1)) };
};
