import { z } from 'zod';
import type { ApiArea } from '../area.js';

/** This document and its page (../serve.ts): public, as they are the same for every server. */
export const referenceArea: ApiArea = {
  tag: 'reference',
  description:
    'This document and its reference page. No key needed: they describe the API every PollMasters server has, and nothing of this one (no session, status, poll or key).',
  routes: [
    {
      method: 'get',
      path: '/openapi.json',
      operationId: 'getOpenApiDocument',
      summary: 'This OpenAPI 3.1 document',
      public: true,
      responses: {
        '200': {
          description: 'The document.',
          schema: z.object({ openapi: z.literal('3.1.0') }).loose(),
        },
      },
    },
    {
      method: 'get',
      path: '/docs',
      operationId: 'getReferencePage',
      summary: 'The API reference page (Swagger UI, served by this server: works offline)',
      public: true,
      responses: {
        '200': { description: 'The HTML page.', schema: z.string(), contentType: 'text/html' },
      },
    },
  ],
};
