import { z } from 'zod';
import type { ApiArea, ParameterDoc, ResponseDoc, RouteDoc, WebhookDoc } from './area.js';

/**
 * Builds the OpenAPI 3.1 document of the HTTP API from its areas (./areas/), with zod 4's own
 * JSON Schema output (draft 2020-12, the dialect of OpenAPI 3.1). A request body is described
 * as the route parses it (zod's input side: a field with a default is optional), an answer as
 * the server sends it (the output side).
 */

type JsonSchema = { [key: string]: unknown };
type Io = 'input' | 'output';

export interface OpenApiInfo {
  title: string;
  version: string;
  description: string;
}

export type OpenApiDocument = {
  openapi: '3.1.0';
  info: OpenApiInfo;
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, unknown>>;
  webhooks?: Record<string, { post: unknown }>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown> };
  security: Record<string, string[]>[];
};

const componentRef = (name: string): string => `#/components/schemas/${name}`;
/** The id of a schema that is written out where it is used, not under a name. */
const inlinePrefix = '~inline-';

/** Without the keys that a standalone JSON Schema has and a schema inside the document must not. */
const embedded = ({ $schema: _s, $id: _i, ...rest }: JsonSchema): JsonSchema => rest;

/**
 * The JSON Schemas of `schemas` on one side (`io`): those named in `names` become components
 * that the others refer to; the rest are written out where they are used (`of`).
 */
const convert = (schemas: Set<z.ZodType>, names: Map<z.ZodType, string>, io: Io) => {
  const registry = z.registry<{ id: string }>();
  let n = 0;
  for (const schema of schemas) {
    registry.add(schema, { id: names.get(schema) ?? `${inlinePrefix}${n++}` });
  }
  const json = z.toJSONSchema(registry, { target: 'draft-2020-12', io, uri: componentRef })
    .schemas as Record<string, JsonSchema>;
  const inlineRef = componentRef(inlinePrefix);
  const resolve = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(resolve);
    if (node === null || typeof node !== 'object') return node;
    const { $ref } = node as JsonSchema;
    if (typeof $ref === 'string' && $ref.startsWith(inlineRef)) {
      return resolve(embedded(json[$ref.slice(componentRef('').length)]!));
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolve(v)]));
  };
  const components: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(json)) {
    if (!id.startsWith(inlinePrefix)) components[id] = resolve(embedded(schema)) as JsonSchema;
  }
  const of = (schema: z.ZodType): JsonSchema => {
    const name = names.get(schema);
    if (name) return { $ref: componentRef(name) };
    return resolve(embedded(json[registry.get(schema)!.id]!)) as JsonSchema;
  };
  return { components, of };
};

/** Schema -> component name over all areas; one name names one schema. */
const namedSchemas = (areas: readonly ApiArea[]): Map<z.ZodType, string> => {
  const names = new Map<z.ZodType, string>();
  const taken = new Set<string>();
  for (const area of areas) {
    for (const [name, schema] of Object.entries(area.schemas ?? {})) {
      if (names.get(schema) === name) continue;
      if (taken.has(name) || names.has(schema)) {
        throw new Error(`OpenAPI: schema name ${name} or its schema is declared twice`);
      }
      names.set(schema, name);
      taken.add(name);
    }
  }
  return names;
};

const responseSchemas = (responses: Record<string, ResponseDoc>): z.ZodType[] =>
  Object.values(responses).flatMap((r) => (r.schema ? [r.schema] : []));

/** Which schemas are read from a request (input side) and which are sent (output side). */
const schemaUses = (areas: readonly ApiArea[], names: Map<z.ZodType, string>) => {
  const input = new Set<z.ZodType>();
  const output = new Set<z.ZodType>();
  for (const area of areas) {
    for (const route of area.routes) {
      for (const p of route.parameters ?? []) input.add(p.schema);
      if (route.body) input.add(route.body.schema);
      for (const s of responseSchemas(route.responses)) output.add(s);
    }
    for (const hook of Object.values(area.webhooks ?? {})) {
      output.add(hook.payload);
      for (const s of responseSchemas(hook.responses)) input.add(s);
    }
  }
  // A named schema that is only ever nested (e.g. `Poll`) is shown as sent.
  for (const schema of names.keys()) if (!input.has(schema)) output.add(schema);
  return { input, output };
};

/** One components map; a name on both sides must describe the same JSON. */
const mergeComponents = (
  a: Record<string, JsonSchema>,
  b: Record<string, JsonSchema>,
): Record<string, JsonSchema> => {
  for (const [name, schema] of Object.entries(b)) {
    if (name in a && JSON.stringify(a[name]) !== JSON.stringify(schema)) {
      throw new Error(`OpenAPI: ${name} differs as a request and as an answer: name them apart`);
    }
  }
  return { ...a, ...b };
};

type Converter = (schema: z.ZodType) => JsonSchema;

const responsesDoc = (responses: Record<string, ResponseDoc>, output: Converter) =>
  Object.fromEntries(
    Object.entries(responses).map(([status, r]) => [
      status,
      {
        description: r.description,
        ...(r.schema
          ? { content: { [r.contentType ?? 'application/json']: { schema: output(r.schema) } } }
          : {}),
      },
    ]),
  );

const parameterDoc = (p: ParameterDoc, input: Converter) => ({
  name: p.name,
  in: p.in,
  description: p.description,
  required: p.in === 'path' || (p.required ?? false),
  schema: input(p.schema),
});

const operationDoc = (route: RouteDoc, tag: string, input: Converter, output: Converter) => ({
  operationId: route.operationId,
  summary: route.summary,
  ...(route.description ? { description: route.description } : {}),
  tags: [tag],
  ...(route.parameters ? { parameters: route.parameters.map((p) => parameterDoc(p, input)) } : {}),
  ...(route.body
    ? {
        requestBody: {
          required: route.body.required ?? true,
          ...(route.body.description ? { description: route.body.description } : {}),
          content: { 'application/json': { schema: input(route.body.schema) } },
        },
      }
    : {}),
  responses: responsesDoc(route.responses, output),
  ...(route.public ? { security: [] } : {}),
});

const webhookDoc = (hook: WebhookDoc, tag: string, input: Converter, output: Converter) => ({
  post: {
    summary: hook.summary,
    ...(hook.description ? { description: hook.description } : {}),
    tags: [tag],
    requestBody: {
      required: true,
      content: { 'application/json': { schema: output(hook.payload) } },
    },
    responses: responsesDoc(hook.responses, input),
  },
});

/** How a client shows the API key (../auth.ts): either header. */
const securitySchemes = {
  ApiKey: {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description:
      "The server's key (POLLMASTERS_API_KEY) or a session's own key. A server started without a key (loopback only) takes none.",
  },
  Bearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'The same key as `Authorization: Bearer <key>`.',
  },
};

export const buildOpenApiDocument = (
  areas: readonly ApiArea[],
  info: OpenApiInfo,
): OpenApiDocument => {
  const names = namedSchemas(areas);
  const uses = schemaUses(areas, names);
  const input = convert(uses.input, names, 'input');
  const output = convert(uses.output, names, 'output');
  const paths: OpenApiDocument['paths'] = {};
  const webhooks: NonNullable<OpenApiDocument['webhooks']> = {};
  const operationIds = new Set<string>();
  for (const area of areas) {
    for (const route of area.routes) {
      if (operationIds.has(route.operationId) || paths[route.path]?.[route.method]) {
        throw new Error(`OpenAPI: ${route.method} ${route.path} (${route.operationId}) twice`);
      }
      operationIds.add(route.operationId);
      paths[route.path] ??= {};
      paths[route.path]![route.method] = operationDoc(route, area.tag, input.of, output.of);
    }
    for (const [name, hook] of Object.entries(area.webhooks ?? {})) {
      if (webhooks[name]) throw new Error(`OpenAPI: webhook ${name} twice`);
      webhooks[name] = webhookDoc(hook, area.tag, input.of, output.of);
    }
  }
  return {
    openapi: '3.1.0',
    info,
    tags: areas.map(({ tag, description }) => ({ name: tag, description })),
    paths,
    ...(Object.keys(webhooks).length > 0 ? { webhooks } : {}),
    components: {
      schemas: mergeComponents(input.components, output.components),
      securitySchemes,
    },
    security: [{ ApiKey: [] }, { Bearer: [] }],
  };
};
