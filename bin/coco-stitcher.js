#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm run build`, which `npm ci` and
// `npm test` run); without a build (a checkout before it), the TypeScript
// sources through tsx, a dev dependency.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';

// DEFLATE tiles compress (and decode) on libuv's thread pool, which has 4 threads unless
// told otherwise: give this process one per CPU, as GDAL's NUM_THREADS=ALL_CPUS does,
// before anything starts the pool (a value the user set is kept).
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism()));

const compiled = new URL('../dist/cli/main.js', import.meta.url);
let main;
if (existsSync(compiled)) {
  ({ main } = await import(compiled.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
