import type { IncomingMessage, ServerResponse } from 'node:http';
import { Limits } from '@pollmasters/shared';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import type { Request, RequestHandler, Response } from 'express';
import { rememberPrincipal } from '../access.js';
import { type ApiKeyAuth, unauthorized } from '../auth.js';
import { encodeResponse, errorShape } from './errorResponse.js';
import { toTRPCError } from './errors.js';
import { rootConfig } from './init.js';

const declaredLength = (req: IncomingMessage): number => Number(req.headers['content-length'] ?? 0);

/** A body is still to come; once refused, it is not read: the connection closes instead. */
const hasBody = (req: IncomingMessage): boolean =>
  req.headers['transfer-encoding'] !== undefined || declaredLength(req) > 0;

/** An EventSource (httpSubscriptionLink): it reads an error only as an event of a 200 stream. */
const wantsEvents = (req: Request): boolean =>
  req.method === 'GET' && (req.headers.accept ?? '').includes('text/event-stream');

/**
 * How many calls a batch request holds (its procedure paths, comma-separated, as tRPC's Express
 * adapter takes them); null for a request that is not a batch.
 */
const batchSize = (req: Request): number | null => {
  const isBatch = new URL(req.originalUrl, 'http://localhost').searchParams.get('batch') === '1';
  return isBatch ? req.path.slice(req.path.lastIndexOf('/') + 1).split(',').length : null;
};

/**
 * Answers `error` in tRPC's shape, for every path alike: the calls are not looked up, so a
 * refusal tells nothing about which procedures exist. A batch gets one error per call, as
 * tRPC answers a batch, up to the calls a batch may hold; a longer one gets a single error,
 * which tRPC's httpBatchLink reads as every call's answer: a stranger's request of a few KiB
 * naming thousands of calls gets an answer of a few hundred bytes.
 */
const refuse = (req: Request, res: Response, error: TRPCError): void => {
  const shape = errorShape(error);
  if (hasBody(req)) res.set('connection', 'close');
  if (wantsEvents(req)) {
    // As tRPC ends a subscription that fails before it starts: one error event, which
    // httpSubscriptionLink takes as final (it retries only server-side failures).
    const data = JSON.stringify(rootConfig.transformer.output.serialize(shape));
    res.statusCode = 200;
    res.setHeader('content-type', 'text/event-stream');
    res.setHeader('cache-control', 'no-cache');
    res.end(`event: serialized-error\ndata: ${data}\n\n`);
    return;
  }
  const calls = batchSize(req);
  const body =
    calls !== null && calls <= Limits.batchMaxCalls
      ? Array.from({ length: calls }, () => ({ error: shape }))
      : { error: shape };
  res.status(getHTTPStatusCodeFromError(error)).type('application/json').end(encodeResponse(body));
};

/**
 * Closes the connection once a body sent without a length (chunked) passes the limit: tRPC's
 * `maxBodySize` stops reading it there and answers 413, and the rest is then not drained.
 * Listening does not take data from tRPC: its own listener is attached in the same tick,
 * before any data flows.
 */
const closeWhenOverLimit = (req: IncomingMessage, res: ServerResponse): void => {
  let size = 0;
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size <= Limits.bodyMaxBytes) return;
    req.off('data', onData);
    if (!res.headersSent) res.setHeader('connection', 'close');
  };
  req.on('data', onData);
};

/** A batch of more calls than one may hold: tRPC's own `maxBatchSize` error, saying what to do. */
const batchTooLarge = (calls: number): TRPCError =>
  new TRPCError({
    code: 'BAD_REQUEST',
    message: `Batch call exceeds maximum size: ${calls} calls, at most ${Limits.batchMaxCalls} in one request (httpBatchLink's maxItems)`,
  });

/**
 * What stands before tRPC over HTTP, as before the compat API: the API key (../auth.ts),
 * then the batch size (`Limits.batchMaxCalls`), then the body limit (`Limits.bodyMaxBytes`).
 * Refused in tRPC's shape before a procedure is looked up: 401 UNAUTHORIZED; 400 BAD_REQUEST
 * for a batch of too many calls; 413 PAYLOAD_TOO_LARGE for a body declared longer, before any
 * of it is read (one of unknown length is cut at the limit: `closeWhenOverLimit`).
 */
export const trpcHttpGuard =
  (auth: ApiKeyAuth): RequestHandler =>
  (req, res, next) => {
    const principal = auth.principalOfRequest(req);
    if (!principal) return refuse(req, res, toTRPCError(unauthorized()));
    // Which sessions it may touch is each procedure's check (./router.ts), by this.
    rememberPrincipal(req, principal);
    const calls = batchSize(req) ?? 1;
    if (calls > Limits.batchMaxCalls) return refuse(req, res, batchTooLarge(calls));
    if (declaredLength(req) > Limits.bodyMaxBytes) {
      return refuse(req, res, new TRPCError({ code: 'PAYLOAD_TOO_LARGE' }));
    }
    if (req.headers['transfer-encoding'] !== undefined) closeWhenOverLimit(req, res);
    next();
  };
