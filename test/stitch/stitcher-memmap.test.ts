/**
 * Stitcher memmap mode in child processes: bounded memory on a canvas far larger than the
 * cache, and the memmap folder removed on dispose, after errors, and at exit without dispose.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Raster } from '../../src/array/raster.ts';
import { slice } from '../../src/array/slices.ts';
import { Stitcher } from '../../src/stitch/stitcher.ts';
import { StitchError } from '../../src/stitch/errors.ts';

const stitcherUrl = new URL('../../src/stitch/stitcher.ts', import.meta.url).href;
const rasterUrl = new URL('../../src/array/raster.ts', import.meta.url).href;
const slicesUrl = new URL('../../src/array/slices.ts', import.meta.url).href;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Run `body` (an ES module; Stitcher, Raster, slice imported) in a child; returns its stdout lines. */
function child(dir: string, body: string): { status: number | null; out: string[]; err: string } {
  const file = join(dir, `child-${Math.random().toString(36).slice(2)}.mts`);
  writeFileSync(file, `import { Stitcher } from ${JSON.stringify(stitcherUrl)};
import { Raster } from ${JSON.stringify(rasterUrl)};
import { slice } from ${JSON.stringify(slicesUrl)};
${body}
`);
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', cwd: root, timeout: 120_000 });
    return { status: r.status, out: r.stdout.trim().split('\n'), err: r.stderr };
  } finally {
    rmSync(file, { force: true });
  }
}

test('memmap: 4096x4096x4 canvas (320 MB of blocks) with an 8 MB cache; child peak RSS stays far below the canvas size', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'stitch-mm-'));
  const work = join(dir, 'work');
  try {
    const r = child(dir, `
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
const work = ${JSON.stringify(work)};
mkdirSync(work);
const rss0 = process.memoryUsage().rss;
const N = 4096, P = 256, C = 4;
const s = new Stitcher([N, N, C], { memmap: work, cacheBytes: 8 * 2 ** 20 });
const sub = readdirSync(work);
const patch = new Raster(new Float32Array(P * P * C), [P, P, C]);
let k = 0;
for (let y = 0; y + P <= N; y += 128) for (let x = 0; x + P <= N; x += 128) {
  patch.data.fill(k % 7); s.add([slice(y, y + P), slice(x, x + P)], patch, 1 + (k % 3)); k++;
}
// check a few finished blocks against the closed form: weighted mean of the windows covering each pixel
let checked = 0, bad = 0;
for (const [by, bx] of [[0, 0], [5, 9], [31, 31], [17, 2]]) {
  const r = s.finalizeBlock(by * 128, bx * 128, 128, 128);
  const wy = [by - 1, by].filter((v) => v >= 0 && v <= 30), wx = [bx - 1, bx].filter((v) => v >= 0 && v <= 30);
  let num = 0, den = 0;
  for (const a of wy) for (const b of wx) { const kk = a * 31 + b; num += (kk % 7) * (1 + (kk % 3)); den += 1 + (kk % 3); }
  for (let i = 0; i < r.data.length; i++) { checked++; if (Math.abs(r.data[i] - num / den) > 1e-5) bad++; }
}
const fileBytes = statSync(join(work, sub[0], 'blocks.bin')).size;
s.dispose();
console.log(JSON.stringify({ windows: k, sub, checked, bad, fileBytes, left: readdirSync(work), grew: (process.resourceUsage().maxRSS * 1024 - rss0) / 2 ** 20 }));
`);
    assert.equal(r.status, 0, r.err);
    const o = JSON.parse(r.out[r.out.length - 1]);
    assert.equal(o.windows, 961);
    assert.equal(o.sub.length, 1);
    assert.match(o.sub[0], /^coco-stitcher-/);
    // blocks are written one after the other (narrow: sums and one weight plane); all but the (at most 25) still-cached ones were written out
    const slot = 128 * 128 * 5 * 4;
    assert.ok(o.fileBytes >= (32 * 32 - 25) * slot && o.fileBytes <= 32 * 32 * slot, `file of ${o.fileBytes} bytes`);
    assert.equal(o.bad, 0);
    assert.equal(o.checked, 4 * 128 * 128 * 4);
    assert.deepEqual(o.left, [], 'dispose removes the memmap folder');
    // blocks alone are 320 MB; the cache is 8 MB. Allow the cache plus a fixed overhead for V8 and the patch.
    t.diagnostic(`child peak RSS grew by ${o.grew.toFixed(1)} MB while stitching`);
    assert.ok(o.grew < 8 + 64, `peak RSS grew by ${o.grew.toFixed(1)} MB (cache 8 MB, canvas 320 MB)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('memmap: folder removed at exit without dispose, also after an uncaught error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stitch-mm-'));
  try {
    for (const ending of ['', 'process.exit(3);', "throw new Error('boom');"]) {
      const work = mkdtempSync(join(dir, 'w-'));
      const r = child(dir, `
import { existsSync } from 'node:fs';
const s = new Stitcher([300, 300, 2], { memmap: ${JSON.stringify(work)}, blocksize: 64, cacheBytes: 64 * 64 * 3 * 4 });
for (let y = 0; y < 300; y += 50) s.add([slice(y, y + 60), slice(0, 60)], Raster.full([60, 60, 2], 1));
const t = new Stitcher([10, 10, 1], { memmap: ${JSON.stringify(work)} });
console.log(JSON.stringify({ path: s.memmapPath, exists: existsSync(s.memmapPath), other: t.memmapPath }));
${ending}
`);
      const o = JSON.parse(r.out[0]);
      assert.ok(o.exists && o.path.startsWith(work), JSON.stringify(o));
      assert.notEqual(o.other, o.path);
      assert.equal(r.status, ending === '' ? 0 : ending.startsWith('process') ? 3 : 1, r.err);
      assert.equal(existsSync(o.path), false);
      assert.deepEqual(readdirSync(work), [], `memmap folders left after "${ending}"`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('memmap: a process killed with SIGKILL leaves its folder, and the next memmap stitcher there removes it (not those of running processes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stitch-mm-'));
  try {
    const work = mkdtempSync(join(dir, 'w-'));
    // a process that makes a memmap stitcher, then is killed before any exit handler can run
    const r = child(dir, `
const s = new Stitcher([300, 300, 2], { memmap: ${JSON.stringify(work)}, blocksize: 64 });
s.add([slice(0, 60), slice(0, 60)], Raster.full([60, 60, 2], 1));
console.log(s.memmapPath);
process.kill(process.pid, 'SIGKILL');
`);
    assert.equal(r.status, null, 'killed');
    const left = readdirSync(work);
    assert.equal(left.length, 1, 'the killed process left its folder');
    assert.match(left[0], /^coco-stitcher-\d+-[A-Za-z0-9]{6}$/);
    // folders of running processes (this one, and init) and ones not ours by name must stay
    const keep = [`coco-stitcher-${process.pid}-abcdef`, 'coco-stitcher-1-abcdef', 'coco-stitcher-notapid-abcdef', 'keep-me'];
    for (const name of keep) mkdirSync(join(work, name));
    const s = new Stitcher([10, 10, 1], { memmap: work });
    const created = s.memmapPath!.split('/').at(-2)!;
    assert.deepEqual(readdirSync(work).sort(), [...keep, created].sort(), 'only the dead process\'s folder is gone');
    s.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('memmap: error inside add leaves nothing half-added; dispose afterwards removes the file; use after dispose is an error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stitch-mm-'));
  try {
    const s = new Stitcher([64, 64, 2], { memmap: dir, blocksize: 16, nanPolicy: 'raise', cacheBytes: 16 * 16 * 3 * 4 });
    assert.ok(s.memmapPath !== null && s.memmapPath.startsWith(dir));
    s.add([slice(0, 32), slice(0, 32)], Raster.full([32, 32, 2], 2));
    assert.throws(() => s.add([slice(0, 32), slice(0, 32)], Raster.zeros([31, 32, 2])), StitchError);
    const p = Raster.full([32, 32, 2], 5);
    p.set(31, 31, 1, NaN);
    assert.throws(() => s.add([slice(0, 32), slice(0, 32)], p), /non-finite value NaN at canvas pixel \(31, 31\) band 1/);
    assert.deepEqual(Array.from(new Set(s.finalize([slice(0, 32), slice(0, 32)]).data)), [2], 'the failed adds left no trace');
    assert.deepEqual(s.stats, { windows: 1, outside: 0, clipped: 0 });
    assert.equal(readdirSync(dir).length, 1);
    s.dispose();
    assert.deepEqual(readdirSync(dir), []);
    s.dispose(); // idempotent
    assert.throws(() => s.add([slice(0, 2), slice(0, 2)], Raster.zeros([2, 2, 2])), /after dispose/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('memmap: a folder that does not exist is a StitchError naming it', () => {
  const missing = join(tmpdir(), 'no-such-folder-for-stitcher', 'x');
  assert.throws(() => new Stitcher([10, 10, 1], { memmap: missing }), (e: Error) => e instanceof StitchError && e.message.includes(missing));
});

test('memmap and in-memory stitchers merge both ways', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stitch-mm-'));
  try {
    const mk = (memmap: string | false) => new Stitcher([50, 70, 3], { memmap, blocksize: 8, cacheBytes: 8 * 8 * 4 * 4 * 2 });
    const all = mk(false), m = mk(dir), d = mk(false);
    for (let k = 0; k < 20; k++) {
      const y = (k * 13) % 45 - 3, x = (k * 29) % 65 - 4;
      const p = Raster.full([9, 11, 3], k);
      all.add([slice(y, y + 9), slice(x, x + 11)], p, 1 + k);
      (k % 2 ? m : d).add([slice(y, y + 9), slice(x, x + 11)], p, 1 + k);
    }
    const d2 = mk(false); d2.merge(d); d2.merge(m);
    m.merge(d);
    const exp = all.finalize().data;
    for (const got of [m.finalize().data, d2.finalize().data]) {
      for (let i = 0; i < exp.length; i++) {
        if (Number.isNaN(exp[i])) assert.ok(Number.isNaN(got[i])); else assert.ok(Math.abs(got[i] - exp[i]) < 1e-5, `${i}: ${got[i]} vs ${exp[i]}`);
      }
    }
    assert.throws(() => m.merge(m), StitchError);
    assert.throws(() => m.merge(new Stitcher([50, 71, 3])), /cannot merge/);
    m.dispose();
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
