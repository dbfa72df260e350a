import type { TestServer } from './server.js';

/** One sample of the Prometheus text, e.g. `pollmasters_votes_rejected_total{reason="stale"}`. */
export const sample = (text: string, name: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no sample ${name} in:\n${text}`);
  return Number(line.slice(name.length + 1));
};

/** The server's `/metrics` text. */
export const metricsOf = async (server: Pick<TestServer, 'url'>): Promise<string> => {
  const res = await fetch(`${server.url}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  if (!res.headers.get('content-type')?.includes('text/plain')) {
    throw new Error(`/metrics is not text: ${res.headers.get('content-type')}`);
  }
  return res.text();
};
