/**
 * Region parts (issue 14): assembling one COG from region part files against
 * copying a file of the same size, in the same run.
 *
 * A 16384 x 16384 single-band uint8 image (pixels computed per block: a
 * smooth field plus noise, compressible like real data), DEFLATE, 128 px
 * tiles, 'auto' overviews (7 levels), cut into 4096 px regions (16 parts;
 * levels 1..5 are region-made, 6..7 made at assembly from level 5). The
 * parts are written once (timed, as is writeCog of the whole image, whose
 * file must equal the assembled one byte for byte); then, five times each,
 * alternating, each to a path that does not exist yet: assembleCogFromParts
 * (in a child process, so its peak RSS is its own; timed inside it, without
 * node's start), `cp` of the assembled file (coreutils: copy_file_range, no
 * user-space copy), fs.copyFile of it (the same, in-process), and a plain
 * user-space copy in node (4 MiB reads and writes, one at a time). Everything
 * is in the page cache: this is the copy's CPU and memory cost, not a disk's.
 *
 *   npm run bench -- region-parts      (REGION_BENCH_QUICK=1 for 4096 px in 1024 px regions)
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Raster } from '../src/array/raster.ts';
import { writeCog, type BlockSource, type WriteCogOptions } from '../src/io/cog/write-cog.ts';
import { assembleCogFromParts, writeCogPart, type CogRegionGrid } from '../src/io/cog/region-part.ts';
import { peakRssMB } from '../test/helpers/peak-rss.ts';
import { nativeAddon } from '../src/io/native-addon.ts';

const QUICK = process.env.REGION_BENCH_QUICK === '1';
const SIZE = QUICK ? 4096 : 16384;
const REGION = QUICK ? 1024 : 4096;
const OPTS: WriteCogOptions = { compress: 'DEFLATE', blocksize: 128, overviews: 'auto', overviewResample: 'average' };
const GRID: CogRegionGrid = { fullWidth: SIZE, fullHeight: SIZE, regionSize: REGION };

/** The image's block at (y0, x0) of the whole image. */
function block(y0: number, x0: number, h: number, w: number): Raster {
  const r = Raster.zeros([h, w, 1], 'uint8');
  const d = r.data;
  for (let y = 0, i = 0; y < h; y++) {
    const gy = y0 + y;
    let s = (gy * 2654435761) >>> 0;
    for (let x = 0; x < w; x++, i++) {
      const gx = x0 + x;
      s = (Math.imul(s ^ gx, 1664525) + 1013904223) >>> 0;
      d[i] = ((gx >> 4) + (gy >> 5) + ((s >>> 24) & 7)) & 255;
    }
  }
  return r;
}

const source = (y0: number, x0: number, h: number, w: number): BlockSource => ({
  height: h, width: w, bands: 1, dtype: 'uint8', readBlock: (by, bx, bh, bw) => block(y0 + by, x0 + bx, bh, bw),
});

function partPaths(dir: string): string[] {
  const out: string[] = [];
  for (let y = 0; y < SIZE; y += REGION) for (let x = 0; x < SIZE; x += REGION) out.push(join(dir, `part-${x}-${y}.cogpart`));
  return out;
}

/** A small assembly first, untimed, so that modules loaded on first use (compiled by tsx here, not in a built install) are not in the timing. */
async function warmUp(dir: string): Promise<void> {
  const grid: CogRegionGrid = { fullWidth: 256, fullHeight: 256, regionSize: 128 };
  const parts: string[] = [];
  for (const [x, y] of [[0, 0], [128, 0], [0, 128], [128, 128]]) {
    const p = join(dir, `warm-${x}-${y}.cogpart`);
    await writeCogPart(p, source(y, x, 128, 128), { ...grid, x, y }, OPTS);
    parts.push(p);
  }
  await assembleCogFromParts(join(dir, 'warm.tif'), parts, grid, 1, 'uint8', OPTS);
  for (const p of [...parts, join(dir, 'warm.tif')]) rmSync(p);
}

async function child(kind: string, dir: string): Promise<void> {
  if (kind.startsWith('assemble')) await warmUp(dir);
  const t = performance.now();
  if (kind === 'parts') {
    for (const p of partPaths(dir)) {
      const [, x, y] = /part-(\d+)-(\d+)/.exec(p)!.map(Number);
      await writeCogPart(p, source(y, x, Math.min(REGION, SIZE - y), Math.min(REGION, SIZE - x)), { ...GRID, x, y }, OPTS);
    }
  } else if (kind === 'whole') {
    await writeCog(join(dir, 'whole.tif'), source(0, 0, SIZE, SIZE), OPTS);
  } else {
    if (kind === 'assemble-buffered') {
      // the copy without the addon's copy_file_range: through buffers, as on a machine without the addon
      const lib = nativeAddon() as Record<string, unknown> | null;
      if (lib) delete lib.copyFileRange;
    }
    await assembleCogFromParts(join(dir, 'assembled.tif'), partPaths(dir), GRID, 1, 'uint8', OPTS);
  }
  console.log(JSON.stringify({ seconds: (performance.now() - t) / 1000, maxRssMB: peakRssMB() }));
}

function runChild(kind: string, dir: string): { seconds: number; maxRssMB: number } {
  const res = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', kind, dir], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`child ${kind} failed: ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').at(-1)!);
}

function timed(fn: () => void): number {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
}

const RUNS = 5;

/** A plain user-space copy: 4 MiB reads and writes, one at a time. */
async function plainCopy(from: string, to: string): Promise<void> {
  const a = await open(from, 'r'), b = await open(to, 'wx');
  try {
    const buf = new Uint8Array(4 << 20);
    for (let pos = 0; ;) {
      const { bytesRead } = await a.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      for (let off = 0; off < bytesRead;) off += (await b.write(buf, off, bytesRead - off, pos + off)).bytesWritten;
      pos += bytesRead;
    }
  } finally {
    await a.close();
    await b.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'region-bench-'));
  try {
    console.log(`load before: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
    const parts = runChild('parts', dir);
    const whole = runChild('whole', dir);
    console.log(`${SIZE}^2 uint8, ${(SIZE / REGION) ** 2} regions of ${REGION}: parts written in ${parts.seconds.toFixed(1)} s (one process, in turn), ` +
      `writeCog of the whole image ${whole.seconds.toFixed(1)} s`);
    const asm: number[] = [], buffered: number[] = [], cp: number[] = [], copyFile: number[] = [], userCopy: number[] = [];
    let rss = 0;
    const out = join(dir, 'assembled.tif');
    for (let i = 0; i < RUNS; i++) {
      rmSync(out, { force: true });
      const b = runChild('assemble-buffered', dir);
      buffered.push(b.seconds);
      rmSync(out, { force: true });
      const a = runChild('assemble', dir);
      asm.push(a.seconds);
      rss = Math.max(rss, a.maxRssMB);
      cp.push(timed(() => { const r = spawnSync('cp', [out, join(dir, 'cp.tif')]); if (r.status !== 0) throw new Error(`cp failed: ${r.stderr}`); }));
      copyFile.push(timed(() => copyFileSync(out, join(dir, 'copyfile.tif'))));
      const t = performance.now();
      await plainCopy(out, join(dir, 'user.tif'));
      userCopy.push((performance.now() - t) / 1000);
      for (const f of ['cp.tif', 'copyfile.tif', 'user.tif']) rmSync(join(dir, f));
    }
    const bytes = statSync(out).size;
    const same = sha(out) === sha(join(dir, 'whole.tif'));
    const mbps = (s: number) => (bytes / 2 ** 20 / s).toFixed(0);
    console.log(`assembled COG: ${(bytes / 2 ** 20).toFixed(1)} MiB, byte-identical to writeCog's: ${same}`);
    const row = (name: string, xs: number[]) => console.log(`${name.padEnd(22)} median ${median(xs).toFixed(3)} s (${mbps(median(xs))} MB/s), best ${Math.min(...xs).toFixed(3)} s; runs ${xs.map((s) => s.toFixed(3)).join(' ')}`);
    row('  without copy_file_range:', buffered);
    row('assembleCogFromParts:', asm);
    console.log(`  peak RSS of the assembling process ${rss.toFixed(0)} MB`);
    row('cp:', cp);
    row('fs.copyFile:', copyFile);
    row('node read/write copy:', userCopy);
    console.log(`assembly / cp: ${(median(asm) / median(cp)).toFixed(2)}x the time (median), ${(Math.min(...asm) / Math.min(...cp)).toFixed(2)}x (best); ` +
      `assembly / node copy: ${(median(asm) / median(userCopy)).toFixed(2)}x (median)`);
    console.log(`load after: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
    if (!same) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4]);
else await main();
