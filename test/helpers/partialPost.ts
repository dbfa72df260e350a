import { type ClientRequest, type IncomingHttpHeaders, request } from 'node:http';

/** Resolves on the first of `events`; never rejects (errors are the caller's). */
const settled = (emitter: ClientRequest, events: string[]): Promise<void> =>
  new Promise((resolve) => {
    const done = () => {
      for (const event of events) emitter.off(event, done);
      resolve();
    };
    for (const event of events) emitter.once(event, done);
  });

export interface EarlyAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** How many body bytes the client had written when the answer came. */
  written: number;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
}

/**
 * POSTs a body that the client keeps writing, `chunk` after `chunk` (up to `maxBytes`), until
 * the server answers: for answers that must come before the body is read in full. With a
 * `content-length` header the body is declared (and never finished); without one it is sent
 * chunked. Resolves with the answer; rejects if `maxBytes` were written without one.
 */
export const partialPost = (
  url: string,
  headers: Record<string, string>,
  chunk: Buffer,
  maxBytes: number,
): Promise<EarlyAnswer> =>
  new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers });
    // The server may end the connection while the body is still coming: that is the point.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    let written = 0;
    let answered = false;
    const closed = new Promise<void>((r) => req.once('socket', (s) => s.once('close', () => r())));
    req.once('response', (res) => {
      answered = true;
      const at = written;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (part: string) => {
        body += part;
      });
      res.once('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, written: at, closed }),
      );
    });
    void (async () => {
      while (!answered && written < maxBytes) {
        written += chunk.length;
        if (!req.write(chunk)) await settled(req, ['drain', 'response', 'close']);
        // Lets the answer in between two writes.
        await new Promise((r) => setImmediate(r));
      }
      if (!answered) reject(new Error(`no answer after ${written} bytes of the body`));
    })().catch(reject);
  });
