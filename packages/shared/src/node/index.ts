// `@pollmasters/shared/node`: the parts of the shared package that only Node runs, kept out of
// the root entry so that the browser (packages/web) gets a contract without Node built-ins:
// the worker channel (its protocol, both ends, spawnWorker on worker_threads) and optionHash
// (node:crypto). The worker and the API import these from here.
export * from './channel/client.js';
export * from './channel/port.js';
export * from './channel/protocol.js';
export * from './channel/server.js';
export * from './channel/spawn.js';
export * from './channel/voteBatch.js';
export * from './channel/webhookCommands.js';
export * from './hash.js';
