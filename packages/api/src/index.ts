export * from './config.js';
export * from './edge.js';
export * from './server.js';
export * from './session/poolWorker.js';
export * from './session/readModel.js';
export * from './session/sessionManager.js';
export { sandboxChannelOf } from './session/sessionOpen.js';
export * from './session/sessionService.js';
export * from './session/workerPool.js';
