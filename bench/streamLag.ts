import { Redis } from 'ioredis';
import { decodeReport } from '../packages/api/src/cluster/streamCodec.js';
import { entryFields } from '../packages/api/src/cluster/streamFollower.js';
import { streamKeys } from '../packages/api/src/cluster/streamKeys.js';

/*
 * Where a cluster's latency goes: for every vote in the sessions' event streams, the time from
 * its injection (the vote's timestamp, the sandbox's wall clock) to its append to the stream
 * (the entry id's milliseconds, Redis' clock: the same machine's). What remains of a
 * subscriber's latency is the stream's way to every node and on to the subscriber.
 */
export const injectionToStreamMs = async (
  url: string,
  prefix: string,
  sessionIds: readonly string[],
): Promise<number[]> => {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const lags: number[] = [];
    for (const sessionId of sessionIds) {
      const entries = await redis.xrange(streamKeys(prefix, sessionId).stream, '-', '+');
      for (const [id, fields] of entries) {
        const entry = entryFields(fields);
        if (!entry) continue;
        const report = decodeReport(entry.data);
        if (report.type !== 'votes') continue;
        const appendedAt = Number(id.split('-')[0]);
        for (const change of report.changes) lags.push(appendedAt - change.timestampMs);
      }
    }
    return lags;
  } finally {
    redis.disconnect();
  }
};
