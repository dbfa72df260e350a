import type { z } from 'zod';

/**
 * The HTTP API as the OpenAPI document describes it: areas (a tag each) of routes and webhook
 * events, each declared once, with the zod schemas the server validates and answers with.
 * ./document.ts turns them into OpenAPI 3.1; ./areas/ holds one file per area.
 */

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** One answer of a route: its status's description and body. */
export interface ResponseDoc {
  description: string;
  /** The body's schema; none for an empty body. */
  schema?: z.ZodType;
  /** Default `application/json`. */
  contentType?: string;
}

/** A path or query parameter. */
export interface ParameterDoc {
  name: string;
  in: 'path' | 'query';
  description: string;
  schema: z.ZodType;
  /** Path parameters are always required; query parameters default to optional. */
  required?: boolean;
}

export interface RouteDoc {
  method: HttpMethod;
  /** OpenAPI's form: `/api/sessions/{id}`. */
  path: string;
  /** Unique over the document; tests and clients name the operation by it. */
  operationId: string;
  summary: string;
  description?: string;
  parameters?: ParameterDoc[];
  /** A JSON body, as the route validates it (zod's input side: defaults make a field optional). */
  body?: { schema: z.ZodType; required?: boolean; description?: string };
  /** By HTTP status (`'200'`, `'404'`) or `'default'`. */
  responses: Record<string, ResponseDoc>;
  /** No API key needed (the document and its page). */
  public?: boolean;
}

/** An event the server POSTs to a subscriber (OpenAPI 3.1 `webhooks`). */
export interface WebhookDoc {
  summary: string;
  description?: string;
  /** The JSON body the server sends. */
  payload: z.ZodType;
  /** What the subscriber answers, by status. */
  responses: Record<string, ResponseDoc>;
}

export interface ApiArea {
  /** The tag of its routes. */
  tag: string;
  description: string;
  /**
   * Schemas shown under `components.schemas` by these names: wherever one of them appears (as
   * a body or nested), the document refers to it instead of repeating it.
   */
  schemas?: Record<string, z.ZodType>;
  routes: RouteDoc[];
  /** Webhook events by name. */
  webhooks?: Record<string, WebhookDoc>;
}
