/**
 * The decoded-tile cache: LRU within a byte budget (unit), reads with
 * `cacheTiles` equal to reads without (property, several codecs, overviews,
 * boundless windows), and proof that cached tiles are served: after the
 * file's tile bytes are corrupted in place, a cached read still returns the
 * pixels while an uncached read, or a new open of the file, fails on them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { slice } from '../../src/array/slices.ts';
import { ValueError } from '../../src/array/errors.ts';
import { writeCog } from '../../src/io/cog/write-cog.ts';
import { openRaster } from '../../src/io/read-raster.ts';
import { readTiffLayout } from '../../src/io/tiff-layout.ts';
import { setTileCacheBytes, sharedTileCache, TileCache } from '../../src/io/tiff-read/tile-cache.ts';
import { patternRaster } from './write-cog.helpers.ts';

let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'tile-cache-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); setTileCacheBytes(64 * 2 ** 20); });

describe('TileCache', () => {
  it('keeps the most recently used tiles within its budget', () => {
    const c = new TileCache(300);
    const t = (n: number, v: number) => new Uint8Array(n).fill(v);
    c.set('a', t(100, 1));
    c.set('b', t(100, 2));
    c.set('c', t(100, 3));
    assert.equal(c.bytes, 300);
    assert.equal(c.get('a')?.[0], 1); // a is now the most recent
    c.set('d', t(100, 4)); // drops b, the least recent
    assert.equal(c.get('b'), undefined);
    assert.deepEqual(['a', 'c', 'd'].map((k) => c.get(k)?.[0]), [1, 3, 4]);
    c.set('big', t(301, 9)); // larger than the budget: not kept, nothing dropped
    assert.equal(c.get('big'), undefined);
    assert.equal(c.size, 3);
    c.set('a', t(50, 5)); // replacing counts the new size only
    assert.equal(c.bytes, 250);
    c.maxBytes = 120; // lowering drops at once, least recent first
    assert.ok(c.bytes <= 120);
    assert.equal(c.get('a')?.[0], 5);
    c.deletePrefix('a');
    assert.equal(c.get('a'), undefined);
  });

  it('copies a view on a larger buffer, so it holds no memory beyond its tiles', () => {
    const c = new TileCache(1000);
    const big = new Uint8Array(4096).fill(7);
    c.set('v', big.subarray(10, 20));
    const got = c.get('v')!;
    assert.equal(got.buffer.byteLength, 10);
    assert.deepEqual([...got], new Array(10).fill(7));
  });

  it('rejects a bad budget clearly', () => {
    assert.throws(() => new TileCache(-1), ValueError);
    assert.throws(() => setTileCacheBytes(1.5), /tile cache size must be a whole number of bytes >= 0, got 1.5/);
  });
});

describe('reads through the tile cache', () => {
  it('equal reads without it, for any window, level and codec', async () => {
    const r = patternRaster([300, 260, 3], 'int16', 5);
    const files: string[] = [];
    for (const compress of ['DEFLATE', 'LZW', 'NONE'] as const) {
      const p = join(dir, `eq-${compress}.tif`);
      await writeCog(p, r, { compress, blocksize: 64, overviews: 2 });
      files.push(p);
    }
    const opened = await Promise.all(files.map((p) => openRaster(p)));
    try {
      await fc.assert(fc.asyncProperty(
        fc.integer({ min: 0, max: 2 }), fc.integer({ min: -1, max: 1 }),
        fc.integer({ min: -40, max: 320 }), fc.integer({ min: -40, max: 280 }), fc.integer({ min: 1, max: 150 }), fc.integer({ min: 1, max: 150 }),
        async (f, ov, y0, x0, h, w) => {
          const file = opened[f];
          const overview = ov < 0 ? undefined : ov;
          const options = { window: [slice(y0, y0 + h), slice(x0, x0 + w)] as const, overview, boundless: true };
          const plain = await file.read({ ...options, window: [...options.window] });
          const cached = await file.read({ ...options, window: [...options.window], cacheTiles: true });
          const again = await file.read({ ...options, window: [...options.window], cacheTiles: true });
          assert.deepEqual(cached.data, plain.data);
          assert.deepEqual(again.data, plain.data);
        }), { numRuns: 150 });
      assert.ok(sharedTileCache().size > 0);
    } finally {
      await Promise.all(opened.map((f) => f.close()));
    }
    assert.equal(sharedTileCache().size, 0, 'closing the files dropped their tiles');
  });

  it('serves cached tiles: after the tile bytes are corrupted on disk, only the cached read still works', async () => {
    const r = patternRaster([256, 256, 2], 'uint16', 9);
    const p = join(dir, 'corrupt.tif');
    await writeCog(p, r, { compress: 'DEFLATE', blocksize: 128, overviews: 0 });
    const window = () => [slice(10, 200), slice(20, 230)] as const;
    const want = r.crop(10, 20, 190, 210).data;
    const file = await openRaster(p);
    try {
      assert.deepEqual((await file.read({ window: [...window()], cacheTiles: true })).data, want);
      const main = (await readTiffLayout(p)).ifds[0];
      const fd = openSync(p, 'r+');
      for (let i = 0; i < main.dataOffsets.length; i++) writeSync(fd, new Uint8Array(main.dataByteCounts[i]).fill(0x5a), 0, main.dataByteCounts[i], main.dataOffsets[i]);
      closeSync(fd);
      assert.deepEqual((await file.read({ window: [...window()], cacheTiles: true })).data, want, 'from the cache');
      await assert.rejects(file.read({ window: [...window()] }), /corrupt/);
    } finally {
      await file.close();
    }
    const reopened = await openRaster(p);
    try {
      await assert.rejects(reopened.read({ window: [...window()], cacheTiles: true }), /corrupt/, 'a new open does not see the old tiles');
    } finally {
      await reopened.close();
    }
  });

  it('a budget of 0 keeps nothing', async () => {
    setTileCacheBytes(0);
    try {
      const p = join(dir, 'off.tif');
      await writeCog(p, patternRaster([128, 128, 1], 'uint8'), { blocksize: 64 });
      const file = await openRaster(p);
      await file.read({ cacheTiles: true });
      assert.equal(sharedTileCache().size, 0);
      await file.close();
    } finally {
      setTileCacheBytes(64 * 2 ** 20);
    }
  });
});
