/**
 * The pieces of distributed predict that need no Redis: URLs, queue names,
 * job ids, shards, result checks and the merge, each against values worked
 * out by hand. Also: the default (in-process) path loads nothing of Redis.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { parseRedisUrl, describeConnection } from '../../src/distributed/connection.ts';
import { JOB_FORMAT, checkJobData, checkResult, jobId, queueName, sha256File, type ShardJobData } from '../../src/distributed/job-data.ts';
import { DEFAULT_REGION_SIZE, parseShard, planRegionShards, planShards } from '../../src/distributed/shards.ts';
import { mergeShardResult, removeStaleTempFiles } from '../../src/distributed/merge-results.ts';
import { scratchDir } from '../helpers/scratch.ts';

const job = (over: Partial<ShardJobData> = {}): ShardJobData => ({
  format: JOB_FORMAT, run: 'coco-stitcher-x', shard: 'video-1', src: '/b/in.json', dst: '/b/out.json',
  model: { path: '/m.onnx', sha256: 'a'.repeat(64) }, imageIds: [1, 2], options: { channels: 'r', window: 64 }, ...over,
});

function dataset(): CocoDataset {
  return CocoDataset.fromJSON({
    videos: [{ id: 1, name: 'v1' }, { id: 2, name: 'v2' }],
    images: [
      { id: 1, name: 'a', video_id: 1, frame_index: 1, width: 4, height: 4, assets: [{ file_name: '/in/a.tif', channels: 'r' }] },
      { id: 2, name: 'b', video_id: 1, frame_index: 0, width: 4, height: 4, assets: [{ file_name: '/in/b.tif', channels: 'r' }] },
      { id: 3, name: 'c', video_id: 2, frame_index: 0, width: 4, height: 4, assets: [{ file_name: '/in/c.tif', channels: 'r' }] },
      { id: 4, name: 'd', width: 4, height: 4, assets: [{ file_name: '/in/d.tif', channels: 'r' }] },
    ],
  }, { fpath: '/out/out.kwcoco.json' });
}

describe('distributed: connection, names, shards', () => {
  it('parses redis URLs and refuses others with the value in the message', () => {
    assert.deepEqual(parseRedisUrl('redis://h:1234/3'), { host: 'h', port: 1234, db: 3 });
    assert.deepEqual(parseRedisUrl('redis://h'), { host: 'h', port: 6379, db: 0 });
    assert.deepEqual(parseRedisUrl('rediss://u:p%40ss@h:1'), { host: 'h', port: 1, db: 0, username: 'u', password: 'p@ss', tls: {} });
    assert.throws(() => parseRedisUrl('http://h:1'), /redis:\/\/ or rediss:\/\/ URL, got "http:\/\/h:1"/);
    assert.throws(() => parseRedisUrl('not a url'), /Redis URL like redis:\/\/HOST:PORT\[\/DB\], got "not a url"/);
    assert.throws(() => parseRedisUrl('redis://h:1/x'), /database in redis:\/\/h:1\/x must be a non-negative integer/);
    // no password in messages
    assert.equal(describeConnection('redis://u:secret@h:1/2'), 'redis://h:1/2');
  });

  it('names the queue from --run-id, or from a hash of the resolved dst', () => {
    assert.equal(queueName('my-run.1', '/x'), 'coco-stitcher-my-run.1');
    assert.equal(queueName(undefined, '/b/out.json'), `coco-stitcher-${createHash('sha256').update('/b/out.json').digest('hex').slice(0, 16)}`);
    assert.throws(() => queueName('a:b', '/x'), /--run-id must be .* got "a:b"/);
  });

  it('job ids: the same job gives the same id; any change of what decides the output gives another', () => {
    const base = jobId(job());
    assert.match(base, /^video-1-[0-9a-f]{16}$/);
    assert.equal(jobId(job({ run: 'other' })), base, 'the run name alone does not change the output');
    for (const over of [{ src: '/c' }, { dst: '/c' }, { imageIds: [1] }, { options: { channels: 'r', window: 65 } }, { model: { path: '/m.onnx', sha256: 'b'.repeat(64) } }]) {
      assert.notEqual(jobId(job(over)), base, JSON.stringify(over));
    }
  });

  it('shards: one per video in frame order, images outside videos alone; or one per image', () => {
    const d = dataset();
    assert.deepEqual(planShards(d, 'video'), [
      { key: 'video-1', imageIds: [2, 1] }, { key: 'video-2', imageIds: [3] }, { key: 'image-4', imageIds: [4] },
    ]);
    assert.deepEqual(planShards(d, 'image').map((s) => s.key), ['image-1', 'image-2', 'image-3', 'image-4']);
    assert.throws(() => planShards(d, 'frame' as never), /--shard must be video or image, got "frame"/);
  });

  it('region shards: --shard region:SIZE parsed and checked; regions cover each output grid row by row, clipped at the edges', () => {
    assert.deepEqual(parseShard('video'), { by: 'video' });
    assert.deepEqual(parseShard('region'), { by: 'region', size: DEFAULT_REGION_SIZE });
    assert.deepEqual(parseShard('region:1024'), { by: 'region', size: 1024 });
    assert.throws(() => parseShard('region:1000'), /--shard region:SIZE .* must be a positive multiple of the output tile size 128 .*got 1000/);
    assert.throws(() => parseShard('region:0'), /multiple of the output tile size 128/);
    assert.throws(() => parseShard('region:-128'), /got "-128"/);
    assert.throws(() => parseShard('regions'), /--shard must be video, image, region or region:SIZE, got "regions"/);
    const plan = (gid: number, w: number, h: number) => ({ gid, assetDsize: [w, h] }) as never;
    assert.deepEqual(planRegionShards([plan(7, 300, 200), plan(8, 128, 128)], 128).map((s) => [s.key, s.region]), [
      ['image-7-x0-y0', { x: 0, y: 0, size: 128 }], ['image-7-x128-y0', { x: 128, y: 0, size: 128 }], ['image-7-x256-y0', { x: 256, y: 0, size: 128 }],
      ['image-7-x0-y128', { x: 0, y: 128, size: 128 }], ['image-7-x128-y128', { x: 128, y: 128, size: 128 }], ['image-7-x256-y128', { x: 256, y: 128, size: 128 }],
      ['image-8-x0-y0', { x: 0, y: 0, size: 128 }],
    ]);
  });

  it('checks job data and results, naming what is wrong', () => {
    assert.deepEqual(checkJobData(job(), 'j'), job());
    assert.throws(() => checkJobData({ ...job(), format: 99 }, 'j'), /job j: job format 99, but this worker reads format 2/);
    assert.throws(() => checkJobData({ ...job(), imageIds: [] }, 'j'), /imageIds must be a non-empty list/);
    assert.throws(() => checkJobData({ ...job(), model: { path: '/m', sha256: 'xyz' } }, 'j'), /model must be \{path, sha256/);
    const ok = { format: JOB_FORMAT, host: 'h', pid: 1, windows: 3, seconds: 1, images: [{ id: 2 }, { id: 1 }] };
    assert.equal(checkResult(ok, job(), 'j'), ok);
    assert.throws(() => checkResult({ ...ok, images: [{ id: 1 }] }, job(), 'j'), /result of job j \(shard video-1\) holds images \[1\], expected \[1,2\]/);
    assert.throws(() => checkResult({ ...ok, format: 0 }, job(), 'j'), /has format 0, expected 2/);
  });

  it('sha256File is the sha256 of the bytes', async () => {
    const dir = scratchDir('dist-sha-');
    const f = join(dir, 'm.bin');
    const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 256));
    writeFileSync(f, bytes);
    assert.equal(await sha256File(f), createHash('sha256').update(bytes).digest('hex'));
  });
});

describe('distributed: merging results', () => {
  const predicted = (img: any, file: string) => ({
    ...img, prediction_region: { type: 'MultiPolygon', coordinates: [] }, has_predictions: { p: true },
    assets: [...img.assets, { file_name: file, channels: 'p' }],
  });

  it('rewrites each image in place with the worker\'s entry and returns the new files', () => {
    const d = dataset();
    const img1 = d.index.imgs.get(1)!;
    const entry = predicted(JSON.parse(JSON.stringify(img1)), '_assets/pred/a_p.tif');
    const added = mergeShardResult(d, { format: 1, host: 'h', pid: 1, windows: 1, seconds: 0, images: [entry] }, 'video-1', new Map());
    assert.deepEqual(added, ['/out/_assets/pred/a_p.tif']);
    assert.equal(d.index.imgs.get(1), img1, 'the index still points at the same object');
    assert.deepEqual(Object.keys(img1), Object.keys(entry));
    assert.deepEqual(img1, entry);
  });

  it('refuses an entry whose src fields differ (another manifest at the src path), and two images claiming one file', () => {
    const d = dataset();
    const e1 = predicted({ ...JSON.parse(JSON.stringify(d.index.imgs.get(1))), width: 5 }, '_assets/pred/x.tif');
    assert.throws(() => mergeShardResult(d, { format: 1, host: 'hostA', pid: 7, windows: 1, seconds: 0, images: [e1] }, 'video-1', new Map()),
      /shard video-1 \(run on hostA, pid 7\): image 1 field width differs from the src manifest \(4 vs 5\)/);
    const claimed = new Map<string, number>();
    const a = predicted(JSON.parse(JSON.stringify(d.index.imgs.get(3))), '_assets/pred/same.tif');
    const b = predicted(JSON.parse(JSON.stringify(d.index.imgs.get(4))), '_assets/pred/same.tif');
    mergeShardResult(d, { format: 1, host: 'h', pid: 1, windows: 1, seconds: 0, images: [a] }, 'video-2', claimed);
    assert.throws(() => mergeShardResult(d, { format: 1, host: 'h', pid: 1, windows: 1, seconds: 0, images: [b] }, 'image-4', claimed),
      /images 3 and 4 both wrote \/out\/_assets\/pred\/same\.tif/);
  });

  it('removes only the temporary files of the given targets', async () => {
    const dir = scratchDir('dist-tmp-');
    mkdirSync(join(dir, 'p'));
    const names = ['.a.tif.123.deadbeef.tmp', '.b.tif.9.0a0a.tmp', 'a.tif', '.a.tif.x.tmp'];
    for (const n of names) writeFileSync(join(dir, 'p', n), 'x');
    assert.equal(await removeStaleTempFiles([join(dir, 'p', 'a.tif')]), 1);
    assert.deepEqual(names.map((n) => existsSync(join(dir, 'p', n))), [false, true, true, true]);
  });

  it('the package root and in-process predict load nothing of BullMQ or ioredis', () => {
    const script = `
      import { createRequire } from 'node:module';
      const root = await import('./src/index.ts');
      if (typeof root.predictDistributed !== 'function' || typeof root.startWorker !== 'function') throw new Error('exports missing');
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => /node_modules\\/(bullmq|ioredis)\\//.test(k));
      console.log(JSON.stringify(loaded));
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: join(import.meta.dirname, '..', '..') });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim()), []);
  });
});
