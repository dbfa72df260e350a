import type { OpenApiDocument } from '@pollmasters/api';
import { type Answer, openApiChecker } from './openApiCheck.js';

export interface CallOptions {
  method?: string;
  /** The API key to send; null: none. */
  key?: string | null;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is, as `application/json`. */
  rawBody?: string;
}

/**
 * Calls routes of running servers and checks each answer against the OpenAPI document
 * (./openApiCheck.ts), remembering which statuses each operation was seen to answer.
 */
export const documentedCalls = (doc: OpenApiDocument) => {
  const checker = openApiChecker(doc);
  const seen = new Map<string, Set<number>>();
  /** The calls to the server at `url`, with `defaultKey` unless a call says otherwise. */
  const at =
    (url: string, defaultKey: string | null) =>
    async (
      operationId: string,
      path: string,
      expected: number | number[],
      options: CallOptions = {},
    ): Promise<Answer> => {
      const key = options.key === undefined ? defaultKey : options.key;
      const headers: Record<string, string> = key ? { 'x-api-key': key } : {};
      const body =
        options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${url}${path}`, { method: options.method ?? 'GET', headers, body });
      const contentType = res.headers.get('content-type') ?? '';
      // As sent: a byte order mark is kept (`res.text()` would drop it).
      const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
      const answer: Answer = {
        status: res.status,
        contentType,
        body: contentType.startsWith('application/json') ? JSON.parse(text) : text,
      };
      const statuses = Array.isArray(expected) ? expected : [expected];
      if (!statuses.includes(res.status)) {
        throw new Error(
          `${operationId} ${options.method ?? 'GET'} ${path}: ${res.status}, not ${statuses}: ${text.slice(0, 500)}`,
        );
      }
      checker.check(operationId, answer);
      seen.set(operationId, new Set([...(seen.get(operationId) ?? []), res.status]));
      return answer;
    };
  return { at, seen, operationIds: checker.operationIds, checkEvent: checker.checkEvent };
};

/** A documented path with its parameters filled in, e.g. `/api/sessions/{id}` -> `.../x`. */
export const filledPath = (path: string, value = 'x'): string => path.replace(/\{\w+\}/g, value);
