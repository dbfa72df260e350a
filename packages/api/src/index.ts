export * from './config.js';
export * from './edge.js';
export * from './server.js';
export * from './session/readModel.js';
export * from './session/sessionService.js';
