// The public contract, browser-safe: schemas, types, the transformer, limits, errors. It imports
// no Node built-in (packages/web bundles it; test/web-bundle.test.ts checks); the Node-only parts
// are `@pollmasters/shared/node` (./node/index.ts).
export * from './backoff.js';
export * from './compat.js';
export * from './errors.js';
export * from './health.js';
export * from './limits.js';
export * from './logger.js';
export * from './poll.js';
export * from './pollDataJson.js';
export * from './pollExport.js';
export * from './pollVote.js';
export * from './selections.js';
export * from './session.js';
export * from './sessions.js';
export * from './tracking.js';
export * from './transformer.js';
export * from './trpc.js';
export * from './validation.js';
export * from './voterTable.js';
export * from './webhooks.js';
