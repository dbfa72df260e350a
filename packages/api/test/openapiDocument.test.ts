import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ApiArea } from '../src/openapi/area.js';
import { buildOpenApiDocument } from '../src/openapi/document.js';

// The document builder on its own: how a declaration becomes OpenAPI 3.1 (the served document
// is checked against the real server in test/issue-19-openapi.test.ts).

const info = { title: 'T', version: '1', description: 'D' };
const Thing = z.object({ id: z.string(), size: z.number().int().default(1) });
const ThingList = z.object({ things: z.array(Thing) });
const Problem = z.object({ message: z.string() });

const area = (extra: Partial<ApiArea> = {}): ApiArea => ({
  tag: 'things',
  description: 'Things.',
  schemas: { Thing, ThingList, Problem },
  routes: [
    {
      method: 'get',
      path: '/things',
      operationId: 'listThings',
      summary: 'List',
      responses: { '200': { description: 'All.', schema: ThingList } },
    },
    {
      method: 'post',
      path: '/things/{id}',
      operationId: 'putThing',
      summary: 'Put',
      parameters: [{ name: 'id', in: 'path', description: 'Its id.', schema: z.string().min(1) }],
      body: { schema: z.object({ size: z.number().int().default(1) }) },
      responses: {
        '200': { description: 'Put.', schema: Thing },
        '404': { description: 'No.', schema: Problem },
      },
    },
  ],
  ...extra,
});

describe('buildOpenApiDocument', () => {
  it('names declared schemas once, as components, and refers to them wherever they appear', () => {
    const doc = buildOpenApiDocument([area()], info);
    expect(doc.components.schemas.ThingList).toMatchObject({
      properties: { things: { type: 'array', items: { $ref: '#/components/schemas/Thing' } } },
    });
    // An answer as sent: a field with a default is always there.
    expect(doc.components.schemas.Thing).toMatchObject({ required: ['id', 'size'] });
    expect(JSON.stringify(doc)).not.toMatch(/"\$(id|schema)"|~inline/);
    const put = doc.paths['/things/{id}']!.post as {
      parameters: unknown[];
      requestBody: { content: Record<string, { schema: { required?: string[] } }> };
      responses: Record<string, { content: Record<string, { schema: unknown }> }>;
    };
    expect(put.parameters[0]).toMatchObject({
      in: 'path',
      required: true,
      schema: { minLength: 1 },
    });
    // A body as read: a field with a default may be left out.
    const body = put.requestBody.content['application/json']!.schema;
    expect(body.required).toBeUndefined();
    expect(put.responses['404']!.content['application/json']!.schema).toEqual({
      $ref: '#/components/schemas/Problem',
    });
  });

  it('puts webhook events under `webhooks`, each a POST of its payload', () => {
    const doc = buildOpenApiDocument(
      [
        area({
          webhooks: {
            'thing.changed': {
              summary: 'A thing changed',
              payload: z.object({ event: z.literal('thing.changed'), thing: Thing }),
              responses: { '200': { description: 'Received.' } },
            },
          },
        }),
      ],
      info,
    );
    expect(doc.webhooks?.['thing.changed']?.post).toMatchObject({
      summary: 'A thing changed',
      tags: ['things'],
      requestBody: {
        content: {
          'application/json': {
            schema: { properties: { thing: { $ref: '#/components/schemas/Thing' } } },
          },
        },
      },
      responses: { '200': { description: 'Received.' } },
    });
    expect(buildOpenApiDocument([area()], info).webhooks).toBeUndefined();
  });

  it('refuses a route, an operation id or a schema name declared twice', () => {
    const twice = area();
    expect(() => buildOpenApiDocument([twice, { ...twice, schemas: {} }], info)).toThrow(/twice/);
    expect(() =>
      buildOpenApiDocument(
        [area(), { tag: 'x', description: 'x', schemas: { Thing: Problem }, routes: [] }],
        info,
      ),
    ).toThrow(/Thing .*declared twice/);
  });
});
