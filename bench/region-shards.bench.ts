/**
 * One huge image by regions (`predict --queue … --shard region:SIZE`) against
 * one process, in the same run: an N x N r|g|b GeoTIFF made here, the demo's
 * heatmap model at its 256 px default window and overlap 0.3, quantized with
 * --expected-minmax 0,1.
 *   - one process: `coco-stitcher predict` (the built CLI) in a child process
 *   - 2 worker processes (started before the clock) and the coordinator
 * Reports wall time, windows (the extra from border windows), peak RSS of
 * each process (VmHWM, printed at exit by a preloaded hook), the assembly
 * time and its MB/s against `cp` of the same COG, and that the COG is
 * byte-identical to the single-process one.
 *
 *   N=8192 SIZE=4096 npm run bench -- region-shards
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { Affine } from '../src/array/affine.ts';
import { Raster } from '../src/array/raster.ts';
import { CocoDataset } from '../src/coco/dataset.ts';
import { writeCog } from '../src/io/cog/write-cog.ts';
import { buildHeatmapModel } from '../src/cli/onnx/build-model.ts';
import { predictDistributed } from '../src/distributed/index.ts';
import { RedisServer } from '../test/helpers/redis.ts';

const N = Number(process.env.N ?? 8192);
const SIZE = Number(process.env.SIZE ?? 4096);
const BIN = join(import.meta.dirname, '..', 'bin', 'coco-stitcher.js');

const root = mkdtempSync(join(tmpdir(), 'region-bench-'));
const hook = join(root, 'hwm.cjs');
writeFileSync(hook, `process.on('exit', () => { const m = /VmHWM:\\s+(\\d+) kB/.exec(require('fs').readFileSync('/proc/self/status', 'utf8')); process.stderr.write('PEAK_RSS_MB ' + (Number(m[1]) / 1024).toFixed(0) + '\\n'); });\nprocess.on('SIGTERM', () => {});\n`);
const redis = await RedisServer.start();
const workers: { proc: ChildProcess; err: string }[] = [];

function startWorker() {
  const w = { proc: spawn(process.execPath, ['--require', hook, BIN, 'worker', '--queue', redis.url], { stdio: ['ignore', 'ignore', 'pipe'] }), err: '' };
  w.proc.stderr!.on('data', (d) => { w.err += d; });
  workers.push(w);
}

const peakOf = (text: string) => Number(/PEAK_RSS_MB (\d+)/.exec(text)?.[1] ?? NaN);

try {
  // the input: a gradient with bright discs, written as a DEFLATE COG
  const d = new Uint8Array(N * N * 3);
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      const i = (y * N + x) * 3;
      const disc = ((x % 1500) - 700) ** 2 + ((y % 1300) - 600) ** 2 < 400 ** 2;
      d[i] = disc ? 230 : (x * 7 + y * 3) % 120;
      d[i + 1] = (x + y) & 255;
      d[i + 2] = (x >> 4) & 255;
    }
  }
  const img = join(root, 'in', 'scene.tif');
  await writeCog(img, new Raster(d, [N, N, 3]), { epsg: 32631, transform: new Affine([1, 0, 500000, 0, -1, 4600000, 0, 0, 1]) });
  const dset = await CocoDataset.fromImageFiles(img, { channels: 'r|g|b', fpath: join(root, 'in', 'in.kwcoco.json') });
  await dset.dump();
  const modelPath = join(root, 'heatmap.onnx');
  writeFileSync(modelPath, buildHeatmapModel(3, 0.34, 40, [1, 1, 0]));
  const args = {
    src: dset.fpath!, model: modelPath, channels: 'r|g|b', std: [255], chanCode: 'background|shapes',
    window: 256, overlap: 0.3, downweightEdges: true, expectedMinmax: [0, 1] as [number, number],
  };

  // one process
  const refDst = join(root, 'one', 'out.kwcoco.json');
  let t = performance.now();
  const one = spawnSync(process.execPath, ['--require', hook, BIN, 'predict', '--src', args.src, '--dst', refDst, '--model', modelPath,
    '--channels', 'r|g|b', '--std', '255', '--chan-code', args.chanCode, '--window', '256', '--overlap', '0.3', '--downweight-edges',
    '--expected-minmax', '0,1', '--no-progress'], { encoding: 'utf8' });
  const oneSeconds = (performance.now() - t) / 1000;
  if (one.status !== 0) throw new Error(`single-process predict failed: ${one.stderr}`);
  const oneWindows = Number(/(\d+) window\(s\)/.exec(one.stdout)?.[1]);

  // two workers
  startWorker();
  startWorker();
  await new Promise((r) => setTimeout(r, 2000));
  const lines: string[] = [];
  const dst = join(root, 'two', 'out.kwcoco.json');
  t = performance.now();
  const s = await predictDistributed({ ...args, dst, shard: `region:${SIZE}` as `region:${number}`, log: (l) => lines.push(l) }, { connection: redis.url });
  const twoSeconds = (performance.now() - t) / 1000;
  await Promise.all(workers.map((w) => new Promise((r) => { w.proc.once('exit', r); w.proc.kill('SIGTERM'); })));

  const ref = JSON.parse(readFileSync(refDst, 'utf8'));
  const a = (ref.images[0].assets ?? ref.images[0].auxiliary).at(-1);
  const refCog = resolve(dirname(refDst), a.file_name);
  const gotCog = resolve(dirname(dst), a.file_name);
  const same = readFileSync(refCog).equals(readFileSync(gotCog));
  const mb = statSync(gotCog).size / 1e6;

  // the coordinator times its assembly (all parts -> one COG)
  const asm = Number(/assembled .* from \d+ region part\(s\) in ([\d.]+) s/.exec(lines.join('\n'))?.[1]);
  t = performance.now();
  const cp = spawnSync('cp', [gotCog, join(root, 'copy.tif')]);
  const cpSeconds = (performance.now() - t) / 1000;
  if (cp.status !== 0) throw new Error('cp failed');

  console.log(`image ${N} x ${N} r|g|b, window 256, overlap 0.3, --shard region:${SIZE} (${Math.ceil(N / SIZE) ** 2} regions), output COG ${mb.toFixed(1)} MB (2 bands int16 DEFLATE, 2 overview levels)`);
  console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} at the end`);
  console.log('| what | one process | 2 workers + coordinator |');
  console.log('|---|---|---|');
  console.log(`| wall time | ${oneSeconds.toFixed(1)} s | ${twoSeconds.toFixed(1)} s (${(oneSeconds / twoSeconds).toFixed(2)}x) |`);
  console.log(`| windows run | ${oneWindows} | ${s.windows} (+${(100 * (s.windows / oneWindows - 1)).toFixed(1)}% from border windows) |`);
  console.log(`| peak RSS | ${peakOf(one.stderr)} MB | workers ${workers.map((w) => `${peakOf(w.err)} MB`).join(', ')} |`);
  console.log(`| assembly of ${mb.toFixed(1)} MB | | ${asm.toFixed(3)} s = ${(mb / asm).toFixed(0)} MB/s; cp of the COG: ${cpSeconds.toFixed(3)} s = ${(mb / cpSeconds).toFixed(0)} MB/s |`);
  console.log(`| COG byte-identical to one process | | ${same ? 'yes' : 'NO'} |`);
} finally {
  for (const w of workers) w.proc.kill('SIGKILL');
  await redis.stop();
  rmSync(root, { recursive: true, force: true });
}
