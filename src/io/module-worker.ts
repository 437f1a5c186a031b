/**
 * Worker threads on our own modules, built or not: the compiled .js runs as
 * it is, and the .ts source (under the tsx loader, as in tests and benches
 * before a build) first registers tsx in the worker's own thread, which has
 * no loader otherwise. No node flags are inherited: some (--input-type, say)
 * stop a worker from loading a file.
 */
import { Worker } from 'node:worker_threads';

/** The URL of module `name` beside the module at `base` (its import.meta.url), with base's extension. */
export function siblingModule(name: string, base: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}

/** Starts a worker thread running the module at `url`, with `workerData`. */
export function startModuleWorker(url: URL, workerData?: unknown): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { execArgv: [], workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { eval: true, execArgv: [], workerData });
}
