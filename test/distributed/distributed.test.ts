/**
 * Distributed predict against a real redis-server, with workers as real
 * child processes of the CLI. The truth is single-process `predict` with
 * the same arguments: the manifests must be deep-equal and every COG
 * byte-for-byte the same file, whatever was killed or restarted on the way.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync, cpSync, truncateSync, renameSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { Raster } from '../../src/array/raster.ts';
import { writeCog } from '../../src/io/cog/write-cog.ts';
import { buildHeatmapModel } from '../../src/cli/onnx/build-model.ts';
import { runPredict } from '../../src/predict/run-predict.ts';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/scratch.ts';
import { CliProcess, RedisServer, freePort } from '../helpers/redis.ts';

const ort = await import('onnxruntime-node').then(() => true, () => false);
const redisInstalled = await import('node:child_process').then((cp) => cp.spawnSync('redis-server', ['--version']).status === 0);
const skip = !ort ? 'onnxruntime-node is not installed' : !redisInstalled ? 'redis-server is not installed' : false;

const assetsOf = (img: any): any[] => img.assets ?? img.auxiliary ?? [];

const root = scratchDir('distributed-test-');
const modelPath = join(root, 'heatmap.onnx');
let srcB = ''; // 2 videos x 3 frames of 160 px: shards of a few seconds
let refB = ''; // single-process output for srcB
const procs: CliProcess[] = [];
const servers: RedisServer[] = [];

const predictArgs = (src: string, dst: string, extra: string[] = []) => [
  'predict', '--src', src, '--dst', dst, '--model', modelPath, '--channels', 'r|g|b', '--std', '255',
  '--window', '32', '--overlap', '0.5', '--expected-minmax', '0,1', '--chan-code', 'background|shapes',
  '--no-progress', ...extra,
];

function worker(url: string, extra: string[] = []): CliProcess {
  const p = new CliProcess(['worker', '--queue', url, '--lock', '2', '--idle-exit', '60', ...extra]);
  procs.push(p);
  return p;
}

function coordinator(args: string[]): CliProcess {
  const p = new CliProcess(args);
  procs.push(p);
  return p;
}

async function redis(): Promise<RedisServer> {
  const r = await RedisServer.start();
  servers.push(r);
  return r;
}

/** Every image (or every one with predictions) has exactly one prediction asset, its file exists, and no temporary file is left beside it. */
function checkBundle(dst: string, chan: string, all: boolean): void {
  const out = JSON.parse(readFileSync(dst, 'utf8'));
  const dirs = new Set<string>();
  for (const img of out.images) {
    const preds = assetsOf(img).filter((a) => a.channels === chan);
    if (!all && preds.length === 0) continue;
    assert.equal(preds.length, 1, `image ${img.id} has ${preds.length} prediction assets`);
    const file = resolve(dirname(dst), preds[0].file_name);
    assert.ok(existsSync(file), `${file} is referenced but missing`);
    dirs.add(dirname(file));
  }
  for (const d of dirs) {
    const tmp = readdirSync(d).filter((f) => f.endsWith('.tmp'));
    assert.deepEqual(tmp, [], `temporary files left in ${d}`);
  }
}

/** The output equals the reference: manifests deep-equal, each new asset file byte-equal. */
function assertSameOutput(refDst: string, gotDst: string, chan = 'background|shapes', all = true): void {
  const ref = JSON.parse(readFileSync(refDst, 'utf8'));
  const got = JSON.parse(readFileSync(gotDst, 'utf8'));
  assert.deepEqual(got, ref);
  for (const img of ref.images) {
    for (const a of assetsOf(img).filter((x: any) => x.channels === chan)) {
      const want = readFileSync(resolve(dirname(refDst), a.file_name));
      const have = readFileSync(resolve(dirname(gotDst), a.file_name));
      assert.ok(want.equals(have), `${a.file_name} differs from the single-process file`);
    }
  }
  checkBundle(gotDst, chan, all);
}

/** Keys of Redis, except those an idle worker keeps refreshing (a queue's meta and stalled-check markers). */
function redisKeys(r: RedisServer): string[] {
  const out = execFileSync('redis-cli', ['-p', String(r.port), '--scan'], { encoding: 'utf8' });
  return out.split('\n').filter((k) => k !== '' && !/:(meta|stalled-check)$/.test(k));
}

/** Job ids a worker log says were started. */
const startedJobs = (log: string) => [...log.matchAll(/job (\S+) \(images [\d,]+\) started/g)].map((m) => m[1]);

describe('distributed predict', { skip }, () => {
  before(async () => {
    writeFileSync(modelPath, buildHeatmapModel(3, 0.34, 40, [1, 1, 0]));
    const b = await CocoDataset.demo('vidshapes-msi', { numVideos: 2, numFrames: 3, imageSize: 160, geodata: true, dpath: join(root, 'inputB'), seed: 1 });
    srcB = b.fpath!;
    refB = join(root, 'refB', 'out.kwcoco.json');
    const r = await runCli(predictArgs(srcB, refB));
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    for (const s of servers) await s.stop();
  });

  it('two workers: the same manifest and the same COG files as single-process predict; the queue is gone after', async () => {
    const r = await redis();
    const w1 = worker(r.url);
    const w2 = worker(r.url);
    const dst = join(root, 'two', 'out.kwcoco.json');
    const c = await runCli(predictArgs(srcB, dst, ['--queue', r.url]));
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /wrote 6 image\(s\), \d+ window\(s\) from 2 of 2 shard\(s\)/);
    assertSameOutput(refB, dst);
    assert.deepEqual(redisKeys(r), [], 'the finished run left keys in Redis');
    w1.kill('SIGTERM');
    w2.kill('SIGTERM');
    assert.deepEqual(await w1.exited, { code: 0, signal: null });
    assert.deepEqual(await w2.exited, { code: 0, signal: null });
  });

  it('a worker SIGKILLed mid-job: its job comes back and another worker redoes it; output as single-process', async () => {
    const r = await redis();
    const dst = join(root, 'sigkill', 'out.kwcoco.json');
    const a = worker(r.url);
    const c = coordinator(predictArgs(srcB, dst, ['--queue', r.url, '--shard', 'video']));
    const [, job] = await a.waitFor(/job (\S+) \(images [\d,]+\) started/);
    await new Promise((res) => setTimeout(res, 700));
    assert.doesNotMatch(a.err, new RegExp(`job ${job} done`), 'the job finished before the kill; make the shard slower');
    a.kill('SIGKILL');
    await a.exited;
    const b = worker(r.url);
    assert.equal((await c.exited).code, 0, c.err);
    assert.ok(startedJobs(b.err).includes(job), `worker b did not redo ${job}:\n${b.err}`);
    assertSameOutput(refB, dst);
  });

  it('a worker sent SIGTERM finishes its job and exits 0', async () => {
    const r = await redis();
    const dst = join(root, 'sigterm', 'out.kwcoco.json');
    const a = worker(r.url);
    const c = coordinator(predictArgs(srcB, dst, ['--queue', r.url]));
    const [, job] = await a.waitFor(/job (\S+) \(images [\d,]+\) started/);
    a.kill('SIGTERM');
    assert.deepEqual(await a.exited, { code: 0, signal: null }, a.err);
    assert.match(a.err, new RegExp(`job ${job} done`), 'the running job was not finished');
    assert.equal(startedJobs(a.err).length, 1, 'the worker took a new job after SIGTERM');
    // the shard it held ready behind the running one (if it had taken it yet) went back to the queue
    for (const [, held] of a.err.matchAll(/job (\S+) \(images [\d,]+\) taken/g)) {
      assert.match(a.err, new RegExp(`job ${held} handed back before it started`), a.err);
    }
    const b = worker(r.url);
    assert.equal((await c.exited).code, 0, c.err);
    assert.ok(!startedJobs(b.err).includes(job), 'the finished job was run again');
    assertSameOutput(refB, dst);
  });

  it('the coordinator killed and run again: finished shards are not recomputed, output the same', async () => {
    const r = await redis();
    const dst = join(root, 'coord-kill', 'out.kwcoco.json');
    const w = worker(r.url);
    const c1 = coordinator(predictArgs(srcB, dst, ['--queue', r.url]));
    await w.waitFor(/job \S+ done/);
    c1.kill('SIGKILL');
    await c1.exited;
    assert.ok(!existsSync(dst), 'the killed coordinator wrote a manifest');
    const c2 = await runCli(predictArgs(srcB, dst, ['--queue', r.url]));
    assert.equal(c2.code, 0, c2.stderr);
    assert.match(c2.stdout, /[12] shard\(s\) resumed/);
    const started = startedJobs(w.err);
    assert.equal(started.length, 2, `jobs started: ${started.join(' ')}`);
    assert.equal(new Set(started).size, 2, `a job ran twice: ${started.join(' ')}`);
    assertSameOutput(refB, dst);
  });

  it('a shard that fails every time is retried --attempts times with backoff, then reported; the others are written; exit 3', async () => {
    const r = await redis();
    const bundle = join(root, 'corrupt-input');
    cpSync(dirname(srcB), bundle, { recursive: true });
    const src = join(bundle, 'data.kwcoco.json');
    const dset = await CocoDataset.load(src);
    const [bad] = dset.index.vidToGids.get(2)!;
    const rgb = assetsOf(dset.index.imgs.get(bad)).find((a) => a.channels === 'r|g|b');
    truncateSync(resolve(bundle, rgb.file_name), 300);
    const badShard = dset.index.vidToGids.get(2)!;
    const good = dset.imageIds().filter((g) => !badShard.includes(g));

    const w = worker(r.url);
    const dst = join(root, 'partial', 'out.kwcoco.json');
    const c = await runCli(predictArgs(src, dst, ['--queue', r.url, '--attempts', '3', '--backoff', '0.5']));
    assert.equal(c.code, 3, c.stderr);
    assert.match(c.stderr, new RegExp(`shard video-2 failed after 3 attempt\\(s\\), images ${badShard.join(',')} not predicted: .*${rgb.file_name.replace(/^\.\//, '').replace(/[.]/g, '\\.')}`));
    // three attempts, each later than the one before by at least the backoff (0.5 s, then 1 s)
    const times = [...w.err.matchAll(/^(\S+) worker \S+: job video-2-\S+ \(images [\d,]+\) started, attempt (\d)/gm)].map((m) => [Date.parse(m[1]), Number(m[2])]);
    assert.deepEqual(times.map((t) => t[1]), [1, 2, 3], w.err);
    assert.ok(times[1][0] - times[0][0] >= 450 && times[2][0] - times[1][0] >= 950, `attempts at ${times.map((t) => t[0])}`);

    // the other images: as single-process predict of just them on the same input
    const refDst = join(root, 'partial-ref', 'out.kwcoco.json');
    await runPredict({
      src, dst: refDst, model: modelPath, channels: 'r|g|b', std: [255], window: 32, overlap: 0.5,
      expectedMinmax: [0, 1], chanCode: 'background|shapes', imageIds: good,
    });
    assertSameOutput(refDst, dst, 'background|shapes', false);
    const out = JSON.parse(readFileSync(dst, 'utf8'));
    for (const gid of badShard) {
      const img = out.images.find((i: any) => i.id === gid);
      assert.equal(assetsOf(img).filter((a) => a.channels === 'background|shapes').length, 0);
    }
  });

  it('a worker that cannot see the src manifest, or sees another model file, fails the job naming the path and the host', async () => {
    const r = await redis();
    const bundle = join(root, 'unshared');
    cpSync(dirname(srcB), bundle, { recursive: true });
    const src = join(bundle, 'data.kwcoco.json');
    const dst = join(root, 'unshared-out', 'out.kwcoco.json');
    const host = hostname();

    const c1 = coordinator(predictArgs(src, dst, ['--queue', r.url, '--attempts', '1']));
    await c1.waitFor(/run queue/);
    renameSync(src, `${src}.hidden`); // as if this host did not mount the shared folder
    const w1 = worker(r.url);
    assert.equal((await c1.exited).code, 2, c1.err);
    assert.match(c1.err, new RegExp(`every shard failed .*host ${host} cannot read the src manifest ${src.replace(/[.]/g, '\\.')}`));
    renameSync(`${src}.hidden`, src);
    w1.kill('SIGTERM');
    await w1.exited;

    const model2 = join(bundle, 'model.onnx');
    writeFileSync(model2, readFileSync(modelPath));
    const c2 = coordinator([...predictArgs(src, dst, ['--queue', r.url, '--attempts', '1']), '--model', model2]);
    await c2.waitFor(/run queue/);
    writeFileSync(model2, buildHeatmapModel(3, 0.5, 40, [1, 1, 0])); // another model at the same path
    worker(r.url);
    assert.equal((await c2.exited).code, 2, c2.err);
    assert.match(c2.err, new RegExp(`model file ${model2.replace(/[.]/g, '\\.')} on host ${host} has sha256 [0-9a-f]{64}, but the run was started with sha256 [0-9a-f]{64}`));
    assert.ok(!existsSync(dst));
  });

  it('Redis unreachable: a clear error naming the URL within seconds, exit 2 (coordinator and worker)', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const t0 = Date.now();
    const c = await runCli(predictArgs(srcB, join(root, 'unreachable', 'out.kwcoco.json'), ['--queue', url]));
    assert.equal(c.code, 2);
    assert.match(c.stderr, new RegExp(`cannot reach Redis at ${url.replace(/[.]/g, '\\.')}`));
    const w = worker(url);
    assert.equal((await w.exited).code, 2);
    assert.match(w.err, new RegExp(`cannot reach Redis at ${url.replace(/[.]/g, '\\.')}`));
    assert.ok(Date.now() - t0 < 15_000, `took ${Date.now() - t0} ms`);
  });

  it('Redis restarted mid-run (its data gone): the coordinator adds the lost jobs again and finishes; output the same', async () => {
    const r = await redis();
    const dst = join(root, 'restart', 'out.kwcoco.json');
    const w = worker(r.url);
    const c = coordinator(predictArgs(srcB, dst, ['--queue', r.url]));
    await w.waitFor(/job \S+ \(images [\d,]+\) started/);
    await r.restart();
    assert.equal((await c.exited).code, 0, c.err);
    assert.match(c.err + c.out, /vanished from Redis/);
    assertSameOutput(refB, dst);
  });

  it('Redis gone for good mid-run: the coordinator stops with a clear error within --redis-timeout, exit 2', async () => {
    const r = await redis();
    const dst = join(root, 'gone', 'out.kwcoco.json');
    const c = coordinator(predictArgs(srcB, dst, ['--queue', r.url, '--redis-timeout', '3']));
    await c.waitFor(/run queue/);
    await r.stop();
    const t0 = Date.now();
    assert.equal((await c.exited).code, 2, c.err);
    assert.ok(Date.now() - t0 < 15_000, `took ${Date.now() - t0} ms`);
    assert.match(c.err, new RegExp(`lost Redis at ${r.url.replace(/[.]/g, '\\.')}: no answer for 3 s`));
    assert.ok(!existsSync(dst));
  });

  it('6 workers and 500 one-image shards: every image exactly once, as single-process', async () => {
    // 500 images without a video, all reading one 8x8 input: shards of one window each
    const bundle = join(root, 'many');
    const pixels = new Uint8Array(8 * 8 * 3).map((_, i) => (i * 37) % 251);
    await writeCog(join(bundle, 'rgb.tif'), new Raster(pixels, [8, 8, 3]), { compress: 'NONE' });
    const images = Array.from({ length: 500 }, (_, i) => ({
      id: i + 1, name: `img${i + 1}`, width: 8, height: 8,
      assets: [{ file_name: 'rgb.tif', channels: 'r|g|b', width: 8, height: 8 }],
    }));
    const src = join(bundle, 'data.kwcoco.json');
    writeFileSync(src, JSON.stringify({ categories: [], videos: [], images, annotations: [] }));
    const args = (dst: string, extra: string[] = []) => [
      'predict', '--src', src, '--dst', dst, '--model', modelPath, '--channels', 'r|g|b', '--std', '255',
      '--space', 'image', '--window', '8', '--expected-minmax', '0,1', '--chan-code', 'background|shapes', '--no-progress', ...extra,
    ];
    const ref = join(root, 'many-ref', 'out.kwcoco.json');
    const rr = await runCli(args(ref));
    assert.equal(rr.code, 0, rr.stderr);
    const r = await redis();
    // the default lock time: on a loaded machine a 2 s lock can lapse and a job run twice (BullMQ is at-least-once; the manifest would still hold it once)
    const ws = Array.from({ length: 6 }, () => worker(r.url, ['--threads', '1', '--lock', '30']));
    const dst = join(root, 'many-out', 'out.kwcoco.json');
    const c = await runCli(args(dst, ['--queue', r.url, '--shard', 'image']));
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /wrote 500 image\(s\), 500 window\(s\) from 500 of 500 shard\(s\)/);
    assertSameOutput(ref, dst);
    for (const w of ws) w.kill('SIGTERM');
    const started = ws.flatMap((w) => startedJobs(w.err));
    assert.equal(started.length, 500, 'some shard ran more than once or not at all');
    assert.equal(new Set(started).size, 500);
    assert.ok(ws.filter((w) => startedJobs(w.err).length > 0).length >= 2, 'the jobs did not spread over the workers');
  });
});
