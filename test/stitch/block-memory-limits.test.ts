/**
 * When the stitcher's block memory cannot be had: V8's own limits in a plain node process
 * running the built package (tsx's loader instantiates WebAssembly of its own, which a low
 * `ulimit -v` refuses first). An arena grows ahead of what it needs when its canvas can take
 * more; a refused grow falls back to what is needed, and only then is an error, which names
 * the sizes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Adds S x S x 4 windows on an N x N grid (row by row) until done or an error; prints what happened. */
const SCRIPT = `
const { Raster, Stitcher, slice } = await import('coco-stitcher');
const [N, S] = process.argv.slice(-2).map(Number);
let n = 0;
try {
  const s = new Stitcher([N, N, 4], { blocksize: 128 });
  const p = Raster.full([S, S, 4], 1);
  for (let y = 0; y + S <= N; y += S) for (let x = 0; x + S <= N; x += S) { s.add([slice(y, y + S), slice(x, x + S)], p, 0.5); n++; }
  const out = s.finalizeBlock(N - 128, N - 128, 128, 128);
  console.log(JSON.stringify({ n, last: out.get(127, 127, 3) }));
} catch (e) {
  console.log(JSON.stringify({ n, error: e.constructor.name, message: e.message }));
}`;

/** The script in a plain node process with `flags`, started by bash after `shell` (a limit to set). */
function run(shell: string, flags: string[], N: number, S: number) {
  const r = spawnSync('bash', ['-c', `${shell} exec "$@"`, 'sh', process.execPath, ...flags, '--input-type=module', '-e', SCRIPT, '--', String(N), String(S)],
    { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('memory capped by V8 (--wasm-max-mem-pages, 512 MiB): a canvas that fits is stitched; one that does not stops with a StitchError naming the sizes', () => {
  const cap = ['--wasm-max-mem-pages=8192'];
  // 4096x4096x4: 335 MB of blocks, under the cap
  assert.deepEqual(run('', cap, 4096, 512), { n: 64, last: 1 });
  // 8192x8192x4: 1.3 GB. The first grow asks for 512 MiB more than needed, which the cap refuses: the
  // arena then grows to what it needs, and windows go on until the cap itself is reached
  // (5 MiB of blocks a window: about 100 windows)
  const big = run('', cap, 8192, 512);
  assert.equal(big.error, 'StitchError', JSON.stringify(big));
  assert.match(big.message, /^cannot grow the stitcher's block memory from \d+ to \d+ bytes: .*memmap/);
  assert.ok(big.n >= 90 && big.n < 110, `windows added before the cap: ${big.n}`);
});

test('address space below what V8 reserves for a WebAssembly memory (ulimit -v 8 GB): a StitchError that says so', () => {
  const r = run('ulimit -v 8000000;', [], 1024, 256);
  assert.equal(r.error, 'StitchError', JSON.stringify(r));
  assert.match(r.message, /^cannot reserve memory for the stitcher's blocks: .*ulimit -v/);
  assert.equal(r.n, 0);
});
