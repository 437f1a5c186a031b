/**
 * Distributed predict: the demo's bundle (8 videos x 3 frames of 512 px,
 * `coco-stitcher demo --videos 8 --frames 3 --size 512`), the demo's model
 * and arguments, through
 *   - in-process predict (the reference, measured in the same run),
 *   - `--queue` with one worker process,
 *   - `--queue` with two worker processes,
 * each REPEAT times, best time kept. Workers run the built CLI (dist/) and
 * are started once, before the first clock starts, and kept for every
 * repeat (they are long-running services: warm after their first run, as
 * the bench process is for in-process runs after its first), the second
 * one watching only the 2-worker runs' queue (`--run-id`). Each run loads
 * the model inside the timed run, on both sides.
 * Also counts Redis commands (INFO commandstats) per window and per shard,
 * and the Redis memory a finished shard holds until the manifest is written
 * (peak used_memory over the run minus the empty server's, per shard).
 *
 * The best times give the ratios; the in-process / 1-worker pairs of each
 * repeat (run one after the other) are listed too, as the machine is shared.
 *
 *   npm run bench -- distributed
 *   CONCURRENCY=2 REPEAT=3 npm run bench -- distributed
 *   TWO=0 REPEAT=5 npm run bench -- distributed   (no 2-worker runs)
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { CocoDataset } from '../src/coco/dataset.ts';
import { buildHeatmapModel } from '../src/cli/onnx/build-model.ts';
import { runPredict } from '../src/predict/run-predict.ts';
import { predictDistributed } from '../src/distributed/index.ts';
import { RedisServer } from '../test/helpers/redis.ts';

const VIDEOS = Number(process.env.VIDEOS ?? 8);
const FRAMES = Number(process.env.FRAMES ?? 3);
const SIZE = Number(process.env.SIZE ?? 512);
const REPEAT = Number(process.env.REPEAT ?? 2);
/** shard jobs at once per worker process (`worker --concurrency`) */
const CONCURRENCY = String(process.env.CONCURRENCY ?? 1);
/** 0: skip the 2-worker runs */
const TWO = process.env.TWO !== '0';

const root = mkdtempSync(join(tmpdir(), 'distributed-bench-'));
const redis = await RedisServer.start();
const workers: ChildProcess[] = [];

function startWorker(extra: string[] = []): ChildProcess {
  const w = spawn(process.execPath, [join(import.meta.dirname, '..', 'bin', 'coco-stitcher.js'), 'worker', '--queue', redis.url, '--concurrency', CONCURRENCY, ...extra], { stdio: 'ignore' });
  workers.push(w);
  return w;
}

async function stopWorkers(): Promise<void> {
  const all = workers.splice(0);
  await Promise.all(all.map((w) => new Promise((r) => { w.once('exit', r); w.kill('SIGTERM'); })));
}

async function commandCalls(): Promise<number> {
  let n = 0;
  for (const [k, v] of await redis.info('commandstats')) {
    if (!k.startsWith('cmdstat_') || k === 'cmdstat_info') continue;
    n += Number(/calls=(\d+)/.exec(v)?.[1] ?? 0);
  }
  return n;
}

const usedMemory = async () => Number((await redis.info('memory')).get('used_memory'));

try {
  const dset = await CocoDataset.demo('vidshapes-msi', {
    numVideos: VIDEOS, numFrames: FRAMES, imageSize: SIZE, geodata: true, dpath: join(root, 'input'), seed: 0,
  });
  const modelPath = join(root, 'heatmap.onnx');
  writeFileSync(modelPath, buildHeatmapModel(3, 0.34, 40, [1, 1, 0]));
  // the demo command's arguments
  const args = {
    src: dset.fpath!, model: modelPath, channels: 'r|g|b', std: [255], chanCode: 'background|shapes',
    window: 128, overlap: 0.3, downweightEdges: true, shortCode: 'heatmap', expectedMinmax: [0, 1] as [number, number],
  };

  const local: number[] = [];
  const one: number[] = [];
  const two: number[] = [];
  let windows = 0;
  let shards = 0;
  let calls = 0;
  let perShardBytes = 0;
  let sameManifest = true;
  for (let rep = 0; rep < REPEAT; rep++) {
    let t = performance.now();
    const ref = await runPredict({ ...args, dst: join(root, `local-${rep}`, 'out.kwcoco.json') });
    local.push((performance.now() - t) / 1000);
    windows = ref.windows;

    if (rep === 0) {
      startWorker();
      if (TWO) startWorker(['--run-id', 'bench-two']);
    }
    await new Promise((r) => setTimeout(r, 1500)); // the workers are up and watching
    const calls0 = await commandCalls();
    const mem0 = await usedMemory();
    let peak = mem0;
    const sampler = setInterval(() => { void usedMemory().then((m) => { peak = Math.max(peak, m); }, () => {}); }, 50);
    t = performance.now();
    const dst1 = join(root, `one-${rep}`, 'out.kwcoco.json');
    const d1 = await predictDistributed({ ...args, dst: dst1 }, { connection: redis.url });
    one.push((performance.now() - t) / 1000);
    clearInterval(sampler);
    calls = (await commandCalls()) - calls0;
    shards = d1.shards;
    perShardBytes = (peak - mem0) / shards;
    const a = JSON.parse(readFileSync(join(root, `local-${rep}`, 'out.kwcoco.json'), 'utf8'));
    const b = JSON.parse(readFileSync(dst1, 'utf8'));
    sameManifest &&= JSON.stringify(a) === JSON.stringify(b);

    if (TWO) {
      await new Promise((r) => setTimeout(r, 1500));
      t = performance.now();
      await predictDistributed({ ...args, dst: join(root, `two-${rep}`, 'out.kwcoco.json'), runId: 'bench-two' }, { connection: redis.url });
      two.push((performance.now() - t) / 1000);
    }
  }
  const best = (xs: number[]) => Math.min(...xs);
  const fmt = (xs: number[]) => `${best(xs).toFixed(2)} s (runs: ${xs.map((x) => x.toFixed(2)).join(', ')})`;
  console.log(`bundle: ${VIDEOS} videos x ${FRAMES} frames of ${SIZE}px = ${dset.imageIds().length} images, ${windows} windows of 128 px, ${shards} shards (one per video)`);
  console.log(`worker --concurrency ${CONCURRENCY}`);
  console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} at the end`);
  console.log('| what | value |');
  console.log('|---|---|');
  console.log(`| in-process predict (reference) | ${fmt(local)} |`);
  console.log(`| --queue, 1 worker | ${fmt(one)}: ${(100 * (best(one) / best(local) - 1)).toFixed(1)}% vs in-process |`);
  const pairs = local.map((l, i) => one[i] / l - 1).sort((a, b) => a - b);
  const median = (pairs[Math.floor((pairs.length - 1) / 2)] + pairs[Math.ceil((pairs.length - 1) / 2)]) / 2;
  const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
  console.log(`| --queue, 1 worker vs the in-process run just before it | ${local.map((l, i) => pct(one[i] / l - 1)).join(', ')} (median ${pct(median)}) |`);
  if (TWO) console.log(`| --queue, 2 workers | ${fmt(two)}: speedup ${(best(one) / best(two)).toFixed(2)}x vs 1 worker |`);
  console.log(`| Redis commands, whole 1-worker run | ${calls} (${(calls / shards).toFixed(1)} per shard, ${(calls / windows).toFixed(3)} per window) |`);
  console.log(`| Redis memory per finished shard (peak used_memory - empty, / shards) | ${perShardBytes.toFixed(0)} bytes |`);
  console.log(`| manifest (--queue) equals in-process | ${sameManifest ? 'yes' : 'NO'} |`);
} finally {
  await stopWorkers();
  await redis.stop();
  rmSync(root, { recursive: true, force: true });
}
