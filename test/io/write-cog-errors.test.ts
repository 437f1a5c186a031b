/**
 * writeCog failures: bad options are WriterOptionErrors naming the value and
 * create nothing; a failing or misbehaving block source leaves no file and no
 * temporary file (also once compressed tiles spilled to temporary files); an
 * unwritable destination is an IoError naming the path; a failed rewrite
 * keeps the previous file.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCog, type BlockSource, type WriteCogOptions } from '../../src/io/cog/write-cog.ts';
import { Raster } from '../../src/array/raster.ts';
import { Affine } from '../../src/array/affine.ts';
import { DtypeError, ShapeError } from '../../src/array/errors.ts';
import { IoError, UnsupportedError, WriterOptionError } from '../../src/io/errors.ts';
import { HAVE_ZSTD, TEST_COMPRESSIONS } from './write-cog.helpers.ts';

let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'write-cog-err-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

function emptyDir(name: string): string {
  const d = join(dir, name);
  mkdirSync(d);
  return d;
}

describe('bad options', () => {
  const r = Raster.zeros([20, 20, 1], 'int16');
  const cases: [string, unknown, RegExp][] = [
    ['blocksize not a multiple of 16', { blocksize: 20 }, /blocksize .*got 20/],
    ['blocksize too small', { blocksize: 8 }, /got 8/],
    ['blocksize not a number', { blocksize: '128' }, /got "128"/],
    ['predictor 3 on integers', { predictor: 3 }, /predictor 3 .*int16/],
    ['unknown predictor', { predictor: 4 }, /predictor .*got 4/],
    ['predictor without compression', { compress: 'NONE', predictor: 2 }, /predictor 2 .*NONE/],
    ['unknown compression', { compress: 'JPEG' }, /compress .*got "JPEG"/],
    ['DEFLATE level out of range', { level: 12 }, /DEFLATE level .*got 12/],
    ['level for LZW', { compress: 'LZW', level: 5 }, /level 5 .*LZW/],
    ['decreasing overview factors', { overviews: [4, 2] }, /overview factors .*2 after 4/],
    ['non-multiple overview factors', { overviews: [2, 3] }, /3 after 2/],
    ['overview factor 1', { overviews: [1] }, /overview factor 1/],
    ['bad overview count', { overviews: -1 }, /overviews count .*got -1/],
    ['bad resampling', { overviewResample: 'cubic' }, /overviewResample .*"cubic"/],
    ['nodata out of the dtype', { nodata: 40000 }, /nodata 40000 .*int16/],
    ['fractional nodata for integers', { nodata: 1.5 }, /nodata 1.5/],
    ['nodata not a number', { nodata: '0' }, /nodata must be a number, got "0"/],
    ['bad epsg', { epsg: 4326.5 }, /epsg .*4326.5/],
    ['transform not an Affine', { transform: [1, 0, 0, 0, 1, 0] }, /transform must be an Affine/],
    ['metadata value not a string', { metadata: { a: 1 } }, /metadata item "a"/],
    ['bad bigtiff', { bigtiff: 'yes' }, /bigtiff .*"yes"/],
    ['bad sparse', { sparse: 1 }, /sparse .*got 1/],
    ['unknown option', { blockSize: 128 }, /unknown writeCog option "blockSize"/],
  ];
  for (const [what, opts, message] of cases) {
    it(`${what}: WriterOptionError, nothing written`, async () => {
      const d = emptyDir(what.replace(/\W+/g, '-'));
      const p = join(d, 'x.tif');
      await assert.rejects(writeCog(p, r, opts as WriteCogOptions), (err: Error) => {
        assert.ok(err instanceof WriterOptionError, `${err.name}: ${err.message}`);
        assert.match(err.message, message);
        return true;
      });
      assert.deepEqual(readdirSync(d), []);
    });
  }

  it('predictor 2 on float32 and 3 on float64 are fine; predictor 2 on float64 is refused', async () => {
    const d = emptyDir('float-predictors');
    await writeCog(join(d, 'a.tif'), Raster.zeros([4, 4, 1], 'float32'), { predictor: 2 });
    await writeCog(join(d, 'b.tif'), Raster.zeros([4, 4, 1], 'float64'), { predictor: 3 });
    await assert.rejects(writeCog(join(d, 'c.tif'), Raster.zeros([4, 4, 1], 'float64'), { predictor: 2 }), WriterOptionError);
  });

  it('bad sources: not a raster, empty, unknown dtype', async () => {
    const d = emptyDir('bad-sources');
    const p = join(d, 'x.tif');
    await assert.rejects(writeCog(p, {} as BlockSource), /must be a Raster or \{height, width, bands, dtype, readBlock\}/);
    await assert.rejects(writeCog(p, Raster.zeros([0, 5, 1])), /empty raster/);
    await assert.rejects(writeCog(p, { height: 4, width: 4, bands: 1, dtype: 'complex64' as never, readBlock: () => null }), /dtype must be one of .*"complex64"/);
    await assert.rejects(writeCog(p, { height: 4, width: 0, bands: 1, dtype: 'uint8', readBlock: () => null }), /width must be a positive integer, got 0/);
    assert.deepEqual(readdirSync(d), []);
  });
});

describe('failing block sources leave nothing behind', () => {
  it('readBlock throwing: the error comes through, no file, no temporary file', async () => {
    const d = emptyDir('throws');
    const source: BlockSource = {
      height: 100, width: 100, bands: 2, dtype: 'float32',
      readBlock(y0, x0, h, w) {
        if (y0 === 64 && x0 === 32) throw new Error('model crashed at block (64, 32)');
        return Raster.full([h, w, 2], 1, 'float32');
      },
    };
    await assert.rejects(writeCog(join(d, 'x.tif'), source, { blocksize: 32, overviews: 2 }), /model crashed at block \(64, 32\)/);
    assert.deepEqual(readdirSync(d), []);
  });

  it('readBlock rejecting after compressed tiles spilled to temporary files: all of them removed', async () => {
    const d = emptyDir('spilled');
    // uncompressed float32 noise: ~38 MB at full resolution, past the 16 MiB in-memory limit
    const [h, w] = [3100, 3100];
    let seed = 1;
    const source: BlockSource = {
      height: h, width: w, bands: 1, dtype: 'float32',
      async readBlock(y0, x0, bh, bw) {
        if (y0 >= 3072) throw new Error('disk full (simulated)');
        const r = Raster.zeros([bh, bw, 1], 'float32');
        for (let i = 0; i < r.data.length; i++) { seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0; r.data[i] = seed; }
        return r;
      },
    };
    let sawSpill = false;
    const watcher = setInterval(() => { if (readdirSync(d).length > 1) sawSpill = true; }, 5);
    try {
      await assert.rejects(writeCog(join(d, 'x.tif'), source, { compress: 'NONE', blocksize: 512, overviews: 1 }), /disk full \(simulated\)/);
    } finally {
      clearInterval(watcher);
    }
    assert.ok(sawSpill, 'a spill file should have existed while writing');
    assert.deepEqual(readdirSync(d), []);
  });

  it('a block of the wrong shape is a ShapeError naming both shapes; the wrong dtype a DtypeError', async () => {
    const d = emptyDir('bad-blocks');
    const wrongShape: BlockSource = { height: 40, width: 40, bands: 3, dtype: 'uint8', readBlock: (_y, _x, h, w) => Raster.zeros([h, w, 2], 'uint8') };
    await assert.rejects(writeCog(join(d, 'a.tif'), wrongShape, { blocksize: 32 }), (err: Error) => {
      assert.ok(err instanceof ShapeError);
      assert.match(err.message, /readBlock\(0, 0, 32, 32\) returned shape \[32, 32, 2\], expected \[32, 32, 3\]/);
      return true;
    });
    const wrongEdge: BlockSource = { height: 40, width: 40, bands: 1, dtype: 'uint8', readBlock: () => Raster.zeros([32, 32, 1], 'uint8') };
    await assert.rejects(writeCog(join(d, 'b.tif'), wrongEdge, { blocksize: 32 }), /readBlock\(0, 32, 32, 8\) returned shape \[32, 32, 1\], expected \[32, 8, 1\]/);
    const wrongDtype: BlockSource = { height: 40, width: 40, bands: 1, dtype: 'uint8', readBlock: (_y, _x, h, w) => Raster.zeros([h, w, 1], 'float32') };
    await assert.rejects(writeCog(join(d, 'c.tif'), wrongDtype, { blocksize: 32 }), (err: Error) => err instanceof DtypeError && /returned dtype float32, expected the source's uint8/.test(err.message));
    const notRaster: BlockSource = { height: 40, width: 40, bands: 1, dtype: 'uint8', readBlock: () => new Uint8Array(4) as never };
    await assert.rejects(writeCog(join(d, 'd.tif'), notRaster, { blocksize: 32 }), /expected a Raster or null/);
    assert.deepEqual(readdirSync(d), []);
  });

  it('a failed rewrite keeps the previous file intact', async () => {
    const d = emptyDir('rewrite');
    const p = join(d, 'x.tif');
    await writeCog(p, Raster.full([10, 10, 1], 3, 'uint8'));
    const before = readFileSync(p);
    const failing: BlockSource = { height: 10, width: 10, bands: 1, dtype: 'uint8', readBlock: () => { throw new Error('boom'); } };
    await assert.rejects(writeCog(p, failing), /boom/);
    assert.deepEqual(readFileSync(p), before);
    assert.deepEqual(readdirSync(d), ['x.tif']);
  });
});

describe('destination errors', () => {
  it('a destination under a regular file is an IoError naming the path', async () => {
    const f = join(dir, 'a-file');
    writeFileSync(f, 'x');
    const p = join(f, 'sub', 'out.tif');
    await assert.rejects(writeCog(p, Raster.zeros([4, 4, 1], 'uint8')), (err: Error) => {
      assert.ok(err instanceof IoError, err.name);
      assert.equal((err as IoError).path, p);
      assert.ok(err.message.includes(p), err.message);
      return true;
    });
  });

  it('a transform and EPSG are accepted with every compression', async () => {
    const d = emptyDir('ok');
    for (const compress of TEST_COMPRESSIONS) {
      await writeCog(join(d, `${compress}.tif`), Raster.zeros([4, 4, 1], 'uint8'), { compress, epsg: 4326, transform: Affine.fromGdal([0, 1, 0, 0, 0, -1]) });
    }
    assert.equal(readdirSync(d).length, TEST_COMPRESSIONS.length);
  });
});

describe('ZSTD without zstd-napi', () => {
  it('is an UnsupportedError naming zstd-napi, and nothing is written', { skip: HAVE_ZSTD && 'zstd-napi loads here' }, async () => {
    const d = emptyDir('no-zstd');
    await assert.rejects(writeCog(join(d, 'x.tif'), Raster.zeros([4, 4, 1], 'uint8'), { compress: 'ZSTD' }),
      (err: Error) => err instanceof UnsupportedError && /zstd-napi/.test(err.message));
    assert.deepEqual(readdirSync(d), []);
  });
});

describe('storage failures stop the reading early', () => {
  it('a tile that cannot be stored makes the next backpressure point reject, so no more blocks are read', async () => {
    const { LevelWriter } = await import('../../src/io/cog/level-writer.ts');
    const { Limiter } = await import('../../src/io/concurrency.ts');
    const { resolveOptions } = await import('../../src/io/cog/options.ts');
    const { BufferPool } = await import('../../src/io/cog/buffer-pool.ts');
    const plan = resolveOptions({ blocksize: 16 }, { height: 64, width: 32, bands: 1, dtype: 'uint8' });
    const failingSink = { size: 0, appendTile: async () => { throw new Error('ENOSPC: no space left on device (simulated)'); } };
    const lw = new LevelWriter({ plan, limiter: new Limiter(4), compressor: { compress: async (raw: Uint8Array) => raw, release: () => {}, predicts: false }, tiles: new BufferPool(16 * 16) }, 32, 64, failingSink as never);
    const data = Raster.full([64, 32, 1], 9, 'uint8').data;
    lw.submitTileRow(lw.cutTileRow(data, 0, 32, 16));
    await lw.submitted; // the first row is handed over; its storage fails afterwards
    await new Promise((r) => setTimeout(r, 10));
    lw.submitTileRow(lw.cutTileRow(data, 16 * 32, 32, 16));
    await assert.rejects(lw.submitted, /ENOSPC/);
    await assert.rejects(lw.done(), /ENOSPC/);
  });
});

describe('writeCog of a huge sparse source', () => {
  it('refuses before writing when the tile index alone is over the memory budget, and leaves no file', async () => {
    const { setMemoryBudget } = await import('../../src/array/memory-budget.ts');
    const { MemoryBudgetError } = await import('../../src/array/errors.ts');
    const sub = join(dir, 'huge-sparse');
    mkdirSync(sub);
    let asked = 0;
    const source: BlockSource = { height: 1e6, width: 1e6, bands: 1, dtype: 'int16', readBlock: () => { asked++; return null; } };
    setMemoryBudget(256 * 1024 * 1024);
    try {
      await assert.rejects(writeCog(join(sub, 'huge.tif'), source, { overviews: 0 }), (e: unknown) =>
        e instanceof MemoryBudgetError && /1000000 x 1000000 x 1 int16 COG level/.test(e.message) && /over the memory budget of 256 MiB/.test(e.message));
    } finally {
      setMemoryBudget(undefined);
    }
    assert.equal(asked, 0, 'no block is read before the refusal');
    assert.deepEqual(readdirSync(sub), []);
  });
});
