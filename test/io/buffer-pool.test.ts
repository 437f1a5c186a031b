/**
 * The writer's buffer reuse: BufferPool hands buffers back out and ignores
 * foreign ones; and a COG written with reused tile buffers (edge tiles that
 * follow full tiles, overviews, sparse tiles) is byte-for-byte the file
 * written again, from a Raster or from blocks, so
 * no bytes of an earlier tile leak into the padding of a later one.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BufferPool } from '../../src/io/cog/buffer-pool.ts';
import { writeCog, type BlockSource } from '../../src/io/cog/write-cog.ts';
import { Raster } from '../../src/array/raster.ts';
import { scratchDir } from '../helpers/scratch.ts';

describe('BufferPool', () => {
  it('reuses released buffers, ignores foreign ones and keeps at most `keep`', () => {
    const pool = new BufferPool(32, 1);
    const a = pool.acquire();
    const b = pool.acquire();
    assert.equal(a.length, 32);
    assert.notEqual(a.buffer, b.buffer);
    pool.release(new Uint8Array(32)); // not ours: ignored
    pool.release(a.subarray(0, 5)); // a view on ours: its buffer comes back
    pool.release(a); // twice: ignored
    pool.release(b); // beyond keep = 1: dropped
    assert.equal(pool.acquire().buffer, a.buffer);
    assert.notEqual(pool.acquire().buffer, b.buffer);
  });
});

describe('tile buffers reused across tiles', () => {
  it('give the same file bytes as a fresh write, and edge tiles padded with zeros', async () => {
    const dir = scratchDir('buffer-reuse-');
    // 70 x 45 with 32 px tiles: full tiles of noise, then edge tiles
    const r = Raster.zeros([70, 45, 3], 'uint16');
    for (let i = 0; i < r.data.length; i++) r.data[i] = (Math.imul(i + 1, 2654435761) >>> 16) & 0xffff;
    r.data.fill(0, 32 * 45 * 3, 64 * 45 * 3); // a sparse tile row
    const blocks: BlockSource = { height: 70, width: 45, bands: 3, dtype: 'uint16', readBlock: (y0, x0, h, w) => r.crop(y0, x0, h, w) };
    for (const compress of ['DEFLATE', 'NONE', 'LZW'] as const) {
      const opts = { compress, blocksize: 32, overviews: 1 };
      await writeCog(join(dir, `a-${compress}.tif`), r, opts);
      await writeCog(join(dir, `b-${compress}.tif`), blocks, opts);
      await writeCog(join(dir, `c-${compress}.tif`), r, opts);
      const a = readFileSync(join(dir, `a-${compress}.tif`));
      assert.ok(a.equals(readFileSync(join(dir, `b-${compress}.tif`))), `${compress}: blocks vs Raster`);
      assert.ok(a.equals(readFileSync(join(dir, `c-${compress}.tif`))), `${compress}: second write`);
    }
    // NONE: the bottom-right tile's padding (rows 6..31 of the tile, columns 13..31) is zero in the file
    const none = readFileSync(join(dir, 'a-NONE.tif'));
    const tileBytes = 32 * 32 * 3 * 2;
    // the last tile of the full-resolution level is the file's last tile (GDAL's layout: full resolution last), then its 4-byte trailer
    const last = none.subarray(none.length - 4 - tileBytes, none.length - 4);
    const px = new Uint16Array(last.buffer.slice(last.byteOffset, last.byteOffset + last.length));
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        if (y < 6 && x < 13) continue;
        for (let b = 0; b < 3; b++) assert.equal(px[(y * 32 + x) * 3 + b], 0, `padding at ${y},${x},${b}`);
      }
    }
    // and its valid part is the raster's corner (values of a real pixel, so the tile located is the right one)
    assert.equal(px[0], r.get(64, 32, 0));
  });
});
