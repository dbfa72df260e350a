import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread from a module URL. A `.ts` entry (the workspace runs from source)
 * is loaded through tsx's loader, registered inside the new thread: on Node 20 an
 * `--import tsx` in a worker's execArgv does not reach the worker's own entry module.
 */
export const spawnWorker = (entry: URL, options: WorkerOptions = {}): Worker => {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
};
