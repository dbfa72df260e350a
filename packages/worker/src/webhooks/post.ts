import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { WebhookTarget } from './addressPolicy.js';

/** What one attempt got: the HTTP status, or why there was none. */
export interface PostResult {
  code: number | null;
  /** Null on a 2xx; else what went wrong (a 3xx is not followed: it is a failure). */
  error: string | null;
}

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  connectTimeoutMs: number;
  /** For the whole exchange: connect, send, and the answer's head and (capped) body. */
  responseTimeoutMs: number;
  signal: AbortSignal;
}

/** Bytes of an answer's body that are read (the rest is not waited for). */
export const RESPONSE_BODY_LIMIT = 4 * 1024;

/**
 * POSTs a webhook body to a checked target: the connection goes to the address the policy
 * checked (the lookup below answers with it, so no second DNS query can change it), while the
 * Host header and TLS SNI keep the URL's host name. No connection reuse, no redirects.
 */
export const postWebhook = (target: WebhookTarget, options: PostOptions): Promise<PostResult> =>
  new Promise((resolve) => {
    const { url, host, address, family } = target;
    const lookup: LookupFunction = (_hostname, opts, callback) => {
      if (opts.all) callback(null, [{ address, family }]);
      else callback(null, address, family);
    };
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const finish = (result: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(overall);
      options.signal.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const req = request({
      method: 'POST',
      protocol: url.protocol,
      host,
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      lookup,
      agent: false,
      ...(url.protocol === 'https:' ? { servername: isIpLiteral(host) ? undefined : host } : {}),
      headers: {
        ...options.headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(options.body)),
        'user-agent': 'PollMasters-Webhooks/1',
      },
    });
    const fail = (error: string) => {
      req.destroy();
      finish({ code: null, error });
    };
    const connectTimer = setTimeout(
      () => fail(`no connection within ${options.connectTimeoutMs} ms`),
      options.connectTimeoutMs,
    );
    const overall = setTimeout(
      () => fail(`no answer within ${options.responseTimeoutMs} ms`),
      options.responseTimeoutMs,
    );
    const onAbort = () => fail('stopped');
    options.signal.addEventListener('abort', onAbort);
    req.on('socket', (socket) => {
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () =>
        clearTimeout(connectTimer),
      );
    });
    req.on('error', (err) => finish({ code: null, error: err.message }));
    req.on('response', (res) => {
      const code = res.statusCode ?? 0;
      let read = 0;
      const done = () => {
        if (code >= 200 && code < 300) finish({ code, error: null });
        else
          finish({
            code,
            error: `answered ${code}${code >= 300 && code < 400 ? ' (redirects are not followed)' : ''}`,
          });
        req.destroy();
      };
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= RESPONSE_BODY_LIMIT) done();
      });
      res.on('end', done);
      res.on('error', done);
    });
    req.end(options.body);
  });

const isIpLiteral = (host: string) => /^[\d.]+$/.test(host) || host.includes(':');
