/**
 * LZW and ZSTD on worker threads: the same bytes as on the main thread
 * (predictor 2 applied by the worker instead of the caller), files of the
 * size that uses them read back exactly by GDAL and by our reader, a clear
 * error from a failing job, and a process that writes such a file still
 * exits by itself (idle workers do not keep it alive), also from the built
 * package without tsx.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCompressor } from '../../src/io/cog/compress.ts';
import { applyHorizontal } from '../../src/io/cog/predictor-encode.ts';
import { lzwBound } from '../../src/io/cog/lzw-encode.ts';
import { lzwDecode } from '../../src/io/tiff-read/lzw-decode.ts';
import { runOnWorker } from '../../src/io/cog/worker-codecs.ts';
import { writeCog } from '../../src/io/cog/write-cog.ts';
import { readRaster } from '../../src/io/read-raster.ts';
import { gdalBatch, HAVE_ZSTD, patternRaster } from './write-cog.helpers.ts';

const CODECS = (['LZW', 'ZSTD'] as const).filter((c) => c !== 'ZSTD' || HAVE_ZSTD);

let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'worker-codecs-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

describe('worker-thread LZW and ZSTD', () => {
  it('compress each tile to the same bytes as the main-thread codec, predictor 2 included', async () => {
    const layout = { sampleBytes: 2, width: 64, spp: 3 };
    const tileBytes = 64 * 64 * 3 * 2;
    const tiles = [0, 1, 2, 3, 4, 5].map((seed) => new Uint8Array(patternRaster([64, 64, 3], 'int16', seed + 1).data.buffer));
    for (const codec of CODECS) {
      const inline = await createCompressor(codec, undefined, 'auto', tileBytes, layout, false);
      const threaded = await createCompressor(codec, undefined, 'auto', tileBytes, layout, true);
      assert.equal(inline.predicts, false);
      assert.equal(threaded.predicts, true);
      const got = await Promise.all(tiles.map((t) => threaded.compress(t)));
      for (const [i, t] of tiles.entries()) {
        const predicted = t.slice();
        applyHorizontal(predicted, 2, 64, 3);
        const want = await inline.compress(predicted);
        assert.ok(Buffer.from(got[i]).equals(Buffer.from(want)), `${codec} tile ${i}: ${got[i].length} vs ${want.length} bytes`);
      }
      // the caller's tile is left as it was (the worker predicts on its copy)
      assert.deepEqual(tiles[0], new Uint8Array(patternRaster([64, 64, 3], 'int16', 1).data.buffer));
    }
  });

  it('files big enough for the workers read back exactly in GDAL and our reader, as valid COGs', async () => {
    const paths: string[] = [];
    const rasters = [patternRaster([700, 800, 5], 'int16', 3), patternRaster([600, 520, 4], 'float32', 4)];
    for (const codec of CODECS) {
      for (const [i, r] of rasters.entries()) {
        assert.ok(r.data.byteLength >= 4 << 20, 'at least the 4 MiB that uses the workers');
        const p = join(dir, `${codec}-${i}.tif`);
        await writeCog(p, r, { compress: codec, blocksize: 128, overviews: 1 });
        paths.push(p);
        const back = await readRaster(p);
        assert.deepEqual(back.raster.data, r.data, `${codec} ${r.dtype}: our reader`);
      }
    }
    for (const [k, g] of gdalBatch(paths).entries()) {
      assert.deepEqual(g.errors, [], paths[k]);
      const want = rasters[k % rasters.length].data;
      const got = g.levels[0].data;
      assert.equal(got.length, want.length);
      for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) assert.fail(`${paths[k]}: sample ${i} is ${got[i]}, expected ${want[i]}`);
    }
  });

  it('a tile of several MB of random bytes (near LZW\'s worst case) fits its slot and decodes back', async () => {
    const tileBytes = 512 * 512 * 16; // 4 MiB: blocksize 512, 16 uint8 bands
    let s = 7;
    const raw = new Uint8Array(tileBytes).map(() => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24);
    const lzw = await createCompressor('LZW', undefined, 'auto', tileBytes, null, true);
    const out = await lzw.compress(raw);
    assert.ok(out.length > tileBytes, `random bytes expand (${out.length} bytes)`);
    assert.ok(out.length <= lzwBound(tileBytes));
    assert.deepEqual(lzwDecode(out, tileBytes), raw);
    lzw.release(out);
  });

  it('a job that fails in the worker rejects with an error saying so', async () => {
    const slot = new SharedArrayBuffer(4096 + 8192);
    await assert.rejects(runOnWorker({ codec: 'BOGUS' as 'LZW', level: 0, horizontal: null, slot, rawLength: 4096, outOffset: 4096 }),
      /tile compression failed in a worker thread: unknown codec "BOGUS" \(expected LZW or ZSTD\)/);
    // the worker is still there for the next job
    assert.ok(await runOnWorker({ codec: 'LZW', level: 0, horizontal: null, slot, rawLength: 4096, outOffset: 4096 }) > 0);
  });

  it('a process that wrote through the workers exits by itself, under tsx and from the built package', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const body = (imp: string, out: string) => `
const { writeCog, readRaster, Raster } = await import(${JSON.stringify(imp)});
const r = Raster.zeros([1024, 1024, 4], 'int16');
for (let i = 0; i < r.data.length; i++) r.data[i] = (i * 7) % 1000;
for (const compress of ${JSON.stringify(CODECS)}) {
  await writeCog(${JSON.stringify(out)} + compress + '.tif', r, { compress, overviews: 1 });
  const back = await readRaster(${JSON.stringify(out)} + compress + '.tif');
  if (back.raster.data.some((v, i) => v !== r.data[i])) throw new Error(compress + ' read back differs');
}
console.log('done');`;
    const runs = [
      { what: 'tsx', args: ['--import', 'tsx', '--input-type=module', '-e', body(join(root, 'src/index.ts'), join(dir, 'child-tsx-'))] },
      { what: 'built', args: ['--input-type=module', '-e', body('coco-stitcher', join(dir, 'child-built-'))] },
    ];
    for (const { what, args } of runs) {
      const res = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
      assert.equal(res.error, undefined, `${what}: ${res.error?.message} (a worker kept the process alive?)`);
      assert.equal(res.status, 0, `${what}: ${res.stderr}`);
      assert.equal(res.stdout.trim(), 'done', what);
    }
  });
});
