/**
 * `predict --queue … --shard region:SIZE` against a real redis-server, with
 * workers as child processes of the CLI: one image cut into regions, each
 * region a job, the COG assembled by the coordinator. The truth is
 * single-process `predict` with the same arguments: the manifest deep-equal
 * and the COG byte for byte the same file, also after a worker was killed
 * mid-region or a finished region's part went missing.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Affine } from '../../src/array/affine.ts';
import { Raster } from '../../src/array/raster.ts';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { writeCog } from '../../src/io/cog/write-cog.ts';
import { buildHeatmapModel, buildPointwiseModel } from '../../src/cli/onnx/build-model.ts';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/scratch.ts';
import { CliProcess, RedisServer } from '../helpers/redis.ts';

const ort = await import('onnxruntime-node').then(() => true, () => false);
const redisInstalled = await import('node:child_process').then((cp) => cp.spawnSync('redis-server', ['--version']).status === 0);
const skip = !ort ? 'onnxruntime-node is not installed' : !redisInstalled ? 'redis-server is not installed' : false;

const assetsOf = (img: any): any[] => img.assets ?? img.auxiliary ?? [];
const CHAN = 'bg|fg';
const root = scratchDir('region-shards-test-');
const modelPath = join(root, 'heatmap.onnx');
const N = 384; // 2 x 2 regions of 256 (clipped to 128 at the right and bottom)
let src = '';
let ref = '';
const procs: CliProcess[] = [];
const servers: RedisServer[] = [];

const predictArgs = (dst: string, extra: string[] = []) => [
  'predict', '--src', src, '--dst', dst, '--model', modelPath, '--channels', 'r|g|b', '--std', '255',
  '--window', '32', '--overlap', '0.75', '--expected-minmax', '0,1', '--chan-code', CHAN, '--downweight-edges',
  '--no-progress', ...extra,
];

function worker(url: string): CliProcess {
  const p = new CliProcess(['worker', '--queue', url, '--lock', '2', '--idle-exit', '60']);
  procs.push(p);
  return p;
}

async function redis(): Promise<RedisServer> {
  const r = await RedisServer.start();
  servers.push(r);
  return r;
}

/** The output equals the reference (manifest deep-equal, COG byte-equal); no part folder and no temporary file is left. */
function assertSameOutput(gotDst: string, refDst = ref, chan = CHAN): void {
  const want = JSON.parse(readFileSync(refDst, 'utf8'));
  const got = JSON.parse(readFileSync(gotDst, 'utf8'));
  assert.deepEqual(got, want);
  const a = assetsOf(want.images[0]).find((x: any) => x.channels === chan);
  const file = resolve(dirname(gotDst), a.file_name);
  assert.ok(readFileSync(resolve(dirname(refDst), a.file_name)).equals(readFileSync(file)), `${a.file_name} differs from the single-process file`);
  assert.deepEqual(readdirSync(dirname(file)), [a.file_name.split('/').at(-1)], 'parts or temporary files left beside the COG');
}

describe('distributed predict of one image by regions', { skip }, () => {
  before(async () => {
    writeFileSync(modelPath, buildHeatmapModel(3, 0.5, 12, [1, 0.5, 0.5]));
    const d = new Uint8Array(N * N * 3);
    for (let i = 0; i < N * N; i++) {
      const y = Math.floor(i / N), x = i % N;
      d[i * 3] = (x - 200) ** 2 + (y - 250) ** 2 < 90 ** 2 ? 220 : (x * 7 + y * 13) % 160;
      d[i * 3 + 1] = (x + y) % 256;
      d[i * 3 + 2] = (x * 3) % 256;
    }
    const img = join(root, 'in', 'scene.tif');
    await writeCog(img, new Raster(d, [N, N, 3]), { epsg: 32631, transform: new Affine([10, 0, 500000, 0, -10, 4600000, 0, 0, 1]) });
    const dset = await CocoDataset.fromImageFiles(img, { channels: 'r|g|b', fpath: join(root, 'in', 'in.kwcoco.json') });
    await dset.dump();
    src = dset.fpath!;
    ref = join(root, 'ref', 'out.kwcoco.json');
    const r = await runCli(predictArgs(ref));
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    for (const s of servers) await s.stop();
  });

  it('two workers, --shard region:256: 4 region jobs, one COG byte-equal to single-process, the same manifest; parts removed', async () => {
    const r = await redis();
    worker(r.url);
    worker(r.url);
    const dst = join(root, 'two', 'out.kwcoco.json');
    const c = await runCli(predictArgs(dst, ['--queue', r.url, '--shard', 'region:256']));
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /wrote 1 image\(s\), \d+ window\(s\) from 4 of 4 shard\(s\)/);
    assert.match(c.stderr, /image 1: assembled .* from 4 region part\(s\)/);
    assertSameOutput(dst);
  });

  it('bad --shard values and options a region run cannot honour: exit 2 with a clear error', async () => {
    const dst = join(root, 'bad', 'out.kwcoco.json');
    const url = 'redis://127.0.0.1:1';
    const cases: [string[], RegExp][] = [
      [['--shard', 'region:100'], /--shard region:SIZE .* must be a positive multiple of the output tile size 128/],
      [['--shard', 'region:abc'], /--shard region:SIZE .*got "abc"/],
      [['--shard', 'tiles'], /--shard must be video, image, region or region:SIZE, got "tiles"/],
    ];
    for (const [extra, re] of cases) {
      const c = await runCli(predictArgs(dst, ['--queue', url, ...extra]));
      assert.equal(c.code, 2, c.stderr);
      assert.match(c.stderr, re);
    }
  });

  it('no --expected-minmax: two phases (regions report their range, then quantize with the image\'s); the same COG and manifest as single-process', async () => {
    // 10 r / 255 - 3: the regions' ranges differ, the image's is their union (floor(-3 - 1 ulp), ceil(5.6))
    const linear = join(root, 'linear.onnx');
    writeFileSync(linear, buildPointwiseModel([[10, 0, 0]], [-3]));
    const args = (dst: string, extra: string[] = []) => predictArgs(dst, extra).map((a) => (a === modelPath ? linear : a))
      .filter((a, i, all) => a !== '--expected-minmax' && all[i - 1] !== '--expected-minmax' && a !== '--chan-code' && all[i - 1] !== '--chan-code');
    const ref2 = join(root, 'ref2', 'out.kwcoco.json');
    const r0 = await runCli(args(ref2));
    assert.equal(r0.code, 0, r0.stderr);
    const r = await redis();
    worker(r.url);
    worker(r.url);
    const dst = join(root, 'twophase', 'out.kwcoco.json');
    const c = await runCli(args(dst, ['--queue', r.url, '--shard', 'region:256']));
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stderr, /image 1: every region reported its range; quantizing 4 region\(s\) with \[-4, 6\]/);
    assert.match(c.stdout, /from 8 of 8 shard\(s\)/);
    assertSameOutput(dst, ref2, 'pred.0');
  });

  it('a worker SIGKILLed in the middle of a region: the region is redone by another worker; output as single-process', async () => {
    const r = await redis();
    const dst = join(root, 'kill', 'out.kwcoco.json');
    const a = worker(r.url);
    const c = new CliProcess(predictArgs(dst, ['--queue', r.url, '--shard', 'region:256']));
    procs.push(c);
    const [, job] = await a.waitFor(/job (\S+) \(images [\d,]+\) started/);
    await new Promise((res) => setTimeout(res, 400));
    assert.doesNotMatch(a.err, new RegExp(`job ${job} done`), 'the region finished before the kill; make it slower');
    a.kill('SIGKILL');
    await a.exited;
    const b = worker(r.url);
    assert.equal((await c.exited).code, 0, c.err);
    assert.match(b.err, new RegExp(`job ${job} \\(images 1\\) started`), `worker b did not redo ${job}`);
    assertSameOutput(dst);
  });

  it('a finished region whose part went missing: assembly stops naming the region and lets its job go; the next run redoes only it', async () => {
    const r = await redis();
    const dst = join(root, 'missing', 'out.kwcoco.json');
    // the jobs queued, then every region done by a worker while no coordinator runs
    const c1 = new CliProcess(predictArgs(dst, ['--queue', r.url, '--shard', 'region:256']));
    procs.push(c1);
    await c1.waitFor(/4 shard\(s\)/);
    c1.kill('SIGKILL');
    await c1.exited;
    const w = worker(r.url);
    await w.waitFor(/(job \S+ done[\s\S]*){4}/, 60_000);
    w.kill('SIGTERM');
    await w.exited;
    const assetDir = join(root, 'missing', '_assets', 'pred');
    const part = join(assetDir, readdirSync(assetDir).find((e) => e.endsWith('.parts'))!, 'x256_y0.tif');
    assert.ok(existsSync(part));
    rmSync(part);
    const c2 = await runCli(predictArgs(dst, ['--queue', r.url, '--shard', 'region:256']));
    assert.equal(c2.code, 2, c2.stderr);
    assert.match(c2.stderr, /the part file of region x 256, y 0 of image 1 .* is missing: .*x256_y0\.tif; its job was let go, run the same command again/);
    assert.ok(!existsSync(dst), 'a manifest was written without the image');
    const w2 = worker(r.url);
    const c3 = await runCli(predictArgs(dst, ['--queue', r.url, '--shard', 'region:256']));
    assert.equal(c3.code, 0, c3.stderr);
    assert.match(c3.stdout, /3 shard\(s\) resumed/);
    assert.equal([...w2.err.matchAll(/job (\S+) \(images 1\) started/g)].map((m) => m[1]).filter((j) => j.startsWith('image-1-x256-y0-')).length, 1);
    assert.equal([...w2.err.matchAll(/ started,/g)].length, 1, `worker 2 ran more than the missing region:\n${w2.err}`);
    assertSameOutput(dst);
  });
});
