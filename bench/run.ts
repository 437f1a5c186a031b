/**
 * Runs every benchmark in bench/ (files named *.bench.ts) one after the
 * other, each in its own process so peak RSS is measured per benchmark.
 * `npm run bench -- writer` runs only benchmarks whose name contains "writer".
 */
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2] ?? '';
const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts') && f.includes(filter)).sort();
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f} ===`);
  const res = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, f)], { stdio: 'inherit' });
  if (res.status !== 0) { failed++; console.log(`!!! ${f} exited with ${res.status}`); }
}
process.exit(failed ? 1 : 0);
