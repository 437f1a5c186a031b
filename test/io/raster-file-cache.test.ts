/**
 * RasterFileCache: one open file per path while the path names the same
 * file; a replaced or rewritten file is opened afresh; files beyond the
 * capacity are closed once unused; open errors are openRaster's and are not
 * cached; concurrent reads share one open file.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RasterFileCache } from '../../src/io/raster-file-cache.ts';
import { writeCog } from '../../src/io/cog/write-cog.ts';
import { openRaster } from '../../src/io/read-raster.ts';
import { Raster } from '../../src/array/raster.ts';
import { scratchDir } from '../helpers/scratch.ts';

async function cog(path: string, value: number): Promise<void> {
  await writeCog(path, Raster.full([20, 30, 1], value, 'uint8'), { blocksize: 16 });
}

describe('RasterFileCache', () => {
  it('reuses the open file, and opens a replaced file afresh', async () => {
    const dir = scratchDir('rfc-');
    const p = join(dir, 'a.tif');
    await cog(p, 7);
    const cache = new RasterFileCache(4);
    const files: unknown[] = [];
    const v1 = await cache.use(p, async (f) => { files.push(f); return (await f.read()).data[0]; });
    const v2 = await cache.use(p, async (f) => { files.push(f); return (await f.read()).data[0]; });
    assert.equal(v1, 7); assert.equal(v2, 7);
    assert.equal(files[0], files[1], 'the same open file');
    // replaced atomically (a new inode), as our writers do
    await cog(join(dir, 'b.tif'), 9);
    renameSync(join(dir, 'b.tif'), p);
    const v3 = await cache.use(p, async (f) => { files.push(f); return (await f.read()).data[0]; });
    assert.equal(v3, 9);
    assert.notEqual(files[2], files[0]);
    await assert.rejects((files[0] as { read(): Promise<unknown> }).read(), /closed/, 'the old file was closed');
    await cache.closeAll();
    assert.equal(cache.size, 0);
    await assert.rejects((files[2] as { read(): Promise<unknown> }).read(), /closed/);
  });

  it('closes the least recently used file beyond the capacity, not while it is read', async () => {
    const dir = scratchDir('rfc-lru-');
    const paths = [0, 1, 2].map((i) => join(dir, `${i}.tif`));
    for (const [i, p] of paths.entries()) await cog(p, i + 1);
    const cache = new RasterFileCache(2);
    let first: { read(): Promise<Raster> } | null = null;
    // while file 0 is being used, two more files are opened: 0 is retired but stays usable until its use ends
    const value = await cache.use(paths[0], async (f) => {
      first = f;
      await cache.use(paths[1], async () => 0);
      await cache.use(paths[2], async () => 0);
      return (await f.read()).data[0];
    });
    assert.equal(value, 1);
    assert.equal(cache.size, 2);
    await assert.rejects(first!.read(), /closed/, 'closed once its use ended');
    await cache.closeAll();
  });

  it('concurrent uses share one open; open errors are openRaster\'s and are not cached', async () => {
    const dir = scratchDir('rfc-err-');
    const p = join(dir, 'c.tif');
    await cog(p, 3);
    const cache = new RasterFileCache();
    const seen = new Set<unknown>();
    const values = await Promise.all(Array.from({ length: 6 }, () => cache.use(p, async (f) => { seen.add(f); return (await f.read()).data[0]; })));
    assert.deepEqual(values, [3, 3, 3, 3, 3, 3]);
    assert.equal(seen.size, 1);
    const bad = join(dir, 'bad.tif');
    writeFileSync(bad, 'not a tiff at all');
    const expected = await openRaster(bad).then(() => 'opened', (e: Error) => e.message);
    await assert.rejects(cache.use(bad, async () => 0), (e: Error) => e.message === expected);
    assert.equal(cache.size, 1, 'the failed open is not kept');
    await cog(bad, 5); // fixed on disk: the next use opens it
    assert.equal(await cache.use(bad, async (f) => (await f.read()).data[0]), 5);
    await assert.rejects(cache.use(join(dir, 'missing.tif'), async () => 0), /missing\.tif/);
    await cache.closeAll();
  });
});
