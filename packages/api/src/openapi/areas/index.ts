import type { ApiArea } from '../area.js';
import { compatArea } from './compat.js';
import { operationsArea } from './operations.js';
import { pollsArea } from './polls.js';
import { referenceArea } from './reference.js';
import { sessionsArea } from './sessions.js';
import { webhooksArea } from './webhooks.js';

/** Every area of the HTTP API, in the order the reference page shows them. */
export const apiAreas: readonly ApiArea[] = [
  compatArea,
  pollsArea,
  sessionsArea,
  webhooksArea,
  operationsArea,
  referenceArea,
];
