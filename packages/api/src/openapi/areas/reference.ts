import { z } from 'zod';
import type { ApiArea } from '../area.js';

/**
 * This document and its page (../serve.ts), and the web dashboard's page (../../web/webApp.ts):
 * public, as they are the same for every server.
 */
export const referenceArea: ApiArea = {
  tag: 'reference',
  description:
    'This document, its reference page and the web dashboard. No key needed: they are the same on every PollMasters server and show nothing of this one (no session, status, poll or key); the dashboard asks for the key itself.',
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
    {
      method: 'get',
      path: '/',
      operationId: 'getDashboard',
      summary:
        'The web dashboard (packages/web, built by `pnpm build`; its files are under /assets/)',
      public: true,
      responses: {
        '200': { description: 'The dashboard page.', schema: z.string(), contentType: 'text/html' },
      },
    },
  ],
};
