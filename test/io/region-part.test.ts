/**
 * Region parts (issue 14): a COG assembled from the parts of every region is
 * byte for byte the file writeCog writes from the whole image, over sizes
 * (images not a multiple of the region or tile size, one region, many),
 * dtypes, bands, compressions, predictors, nodata, sparse blocks, nearest
 * and average overviews, Raster and block sources; GDAL validates and reads
 * an assembled file; and broken inputs (a missing, duplicate, foreign,
 * truncated or forged part) are errors naming the region and file, leaving
 * no file behind.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { DTYPES, type Dtype } from '../../src/array/dtypes.ts';
import { MemoryBudgetError } from '../../src/array/errors.ts';
import { setMemoryBudget } from '../../src/array/memory-budget.ts';
import { Raster } from '../../src/array/raster.ts';
import { FormatError, IoError, WriterOptionError } from '../../src/io/errors.ts';
import { writeCog, type BlockSource, type WriteCogOptions } from '../../src/io/cog/write-cog.ts';
import { assembleCogFromParts, gridRegions, regionOverviewLevels, writeCogPart, type CogRegionGrid } from '../../src/io/cog/region-part.ts';
import { gdalRead, validateCog } from '../helpers/gdal.ts';
import { patternRaster, TEST_COMPRESSIONS } from './write-cog.helpers.ts';

let dir = '';
before(() => { dir = mkdtempSync(join(tmpdir(), 'region-part-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

let caseNo = 0;
function freshDir(): string {
  const d = join(dir, `case${caseNo++}`);
  mkdirSync(d);
  return d;
}

/** Tiles (global tile row, column) left empty: null from a block source, fill in a Raster. */
const isEmptyTile = (seed: number, ty: number, tx: number) => ((Math.imul(ty * 7919 + tx * 104729 + seed, 2654435761) >>> 0) % 100) < 30;

/** The whole image: pattern data, some tiles set to the fill value, NaN in a few float samples. */
function wholeImage(h: number, w: number, bands: number, dtype: Dtype, seed: number, bs: number, fill: number, sparse: boolean): Raster {
  const r = patternRaster([h, w, bands], dtype, seed);
  if (DTYPES[dtype].isFloat && seed % 3 === 0) for (let i = seed % 11; i < r.data.length; i += 37) r.data[i] = NaN;
  if (!sparse) return r;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (isEmptyTile(seed, Math.floor(y / bs), Math.floor(x / bs))) for (let b = 0; b < bands; b++) r.set(y, x, b, fill);
    }
  }
  return r;
}

/** The window (y0, x0, h, w) of `r` as a block source: empty tiles are null. */
function blockSource(r: Raster, y0: number, x0: number, h: number, w: number, bs: number, seed: number, sparse: boolean): BlockSource {
  return {
    height: h, width: w, bands: r.bands, dtype: r.dtype,
    readBlock(by, bx, bh, bw) {
      const gy = y0 + by, gx = x0 + bx;
      if (sparse && isEmptyTile(seed, gy / bs, gx / bs)) return null;
      return r.crop(gy, gx, bh, bw);
    },
  };
}

/** Writes every region's part (in a shuffled order) and returns their paths. */
async function writeParts(d: string, r: Raster, grid: CogRegionGrid, opts: WriteCogOptions, asBlocks: (i: number) => boolean, seed: number, sparse: boolean): Promise<string[]> {
  const bs = opts.blocksize ?? 128;
  const parts: string[] = [];
  let i = 0;
  for (const region of gridRegions(grid)) {
    const { x, y } = region;
    const h = Math.min(grid.regionSize, grid.fullHeight - y), w = Math.min(grid.regionSize, grid.fullWidth - x);
    const src = asBlocks(i++) ? blockSource(r, y, x, h, w, bs, seed, sparse) : r.crop(y, x, h, w);
    const p = join(d, `part-${x}-${y}.cogpart`);
    await writeCogPart(p, src, region, opts);
    parts.push(p);
  }
  return parts.reverse();
}

const noTemp = (d: string) => assert.deepEqual(readdirSync(d).filter((f) => f.endsWith('.tmp')), [], `temporary files left in ${d}`);

const DTYPE_LIST = Object.keys(DTYPES) as Dtype[];

describe('assembled COG equals writeCog of the whole image', () => {
  it('byte for byte, over sizes, dtypes, bands, codecs, predictors, nodata, sparse blocks and overviews', async () => {
    await fc.assert(fc.asyncProperty(
      fc.record({
        bs: fc.constantFrom(16, 32),
        regionTiles: fc.constantFrom(1, 2, 3, 4, 8),
        w: fc.integer({ min: 1, max: 170 }),
        h: fc.integer({ min: 1, max: 170 }),
        bands: fc.integer({ min: 1, max: 3 }),
        dtype: fc.constantFrom(...DTYPE_LIST),
        compress: fc.constantFrom(...TEST_COMPRESSIONS),
        predictorPick: fc.integer({ min: 0, max: 3 }),
        nodataPick: fc.constantFrom('none', 'zero', 'value'),
        overviews: fc.constantFrom<WriteCogOptions['overviews']>(undefined, 'auto', 1, 3, [2, 8], [4, 8, 32]),
        resample: fc.constantFrom('nearest' as const, 'average' as const),
        sparse: fc.boolean(),
        bigtiff: fc.constantFrom<WriteCogOptions['bigtiff']>(undefined, true),
        wholeAsBlocks: fc.boolean(),
        partsAsBlocks: fc.integer({ min: 0, max: 2 }),
        seed: fc.integer({ min: 1, max: 1e6 }),
      }),
      async (c) => {
        const info = DTYPES[c.dtype];
        const opts: WriteCogOptions = { blocksize: c.bs, compress: c.compress, overviews: c.overviews, overviewResample: c.resample, sparse: c.sparse, bigtiff: c.bigtiff };
        if (c.compress !== 'NONE') {
          const allowed = [1, ...(info.bytes <= 4 ? [2] : []), ...(info.isFloat ? [3] : [])] as (1 | 2 | 3)[];
          if (c.predictorPick > 0) opts.predictor = allowed[c.predictorPick % allowed.length];
        }
        const nodata = c.nodataPick === 'none' ? null : c.nodataPick === 'zero' ? 0 : info.isFloat ? -9999 : info.min + 1;
        if (nodata !== null) opts.nodata = nodata;
        const grid = { fullWidth: c.w, fullHeight: c.h, regionSize: c.bs * c.regionTiles };
        const r = wholeImage(c.h, c.w, c.bands, c.dtype, c.seed, c.bs, nodata ?? 0, c.sparse);
        const d = freshDir();
        const whole = join(d, 'whole.tif');
        await writeCog(whole, c.wholeAsBlocks ? blockSource(r, 0, 0, c.h, c.w, c.bs, c.seed, c.sparse) : r, opts);
        const parts = await writeParts(d, r, grid, opts, (i) => (c.partsAsBlocks === 2 ? i % 2 === 0 : c.partsAsBlocks === 1), c.seed, c.sparse);
        const assembled = join(d, 'assembled.tif');
        await assembleCogFromParts(assembled, parts, grid, c.bands, c.dtype, opts);
        const a = readFileSync(whole), b = readFileSync(assembled);
        assert.equal(b.length, a.length, 'file sizes differ');
        assert.ok(a.equals(b), 'assembled file differs from writeCog\'s');
        noTemp(d);
        rmSync(d, { recursive: true, force: true });
      },
    ), { numRuns: Number(process.env.REGION_PART_RUNS) || 60 });
  });

  it('a bigger image in many regions with georeferencing: GDAL validates it as a COG and reads the source back', async () => {
    const d = freshDir();
    const [h, w] = [333, 410];
    const r = wholeImage(h, w, 2, 'float32', 5, 32, -1, true);
    const { Affine } = await import('../../src/array/affine.ts');
    const opts: WriteCogOptions = { blocksize: 32, overviews: 'auto', overviewResample: 'average', nodata: -1, epsg: 32631,
      transform: Affine.fromGdal([500000, 10, 0, 4600000, 0, -10]), metadata: { a: 'b' } };
    const grid = { fullWidth: w, fullHeight: h, regionSize: 64 };
    assert.equal(regionOverviewLevels(grid, 2, 'float32', opts), 1);
    const parts = await writeParts(d, r, grid, opts, (i) => i % 3 === 0, 5, true);
    const out = join(d, 'assembled.tif');
    await assembleCogFromParts(out, parts, grid, 2, 'float32', opts);
    const v = validateCog(out);
    assert.deepEqual(v.errors, []);
    const g = gdalRead(out);
    assert.deepEqual(g.shape, [h, w, 2]);
    for (let i = 0; i < r.data.length; i++) assert.ok(Object.is(g.data[i], r.data[i]) || (Number.isNaN(g.data[i]) && Number.isNaN(r.data[i])), `sample ${i}`);
    await writeCog(join(d, 'whole.tif'), r, opts);
    assert.ok(readFileSync(join(d, 'whole.tif')).equals(readFileSync(out)));
  });
});

describe('assembly options and many parts', () => {
  it('georeferencing and metadata come from the assembly\'s options, not the parts\'', async () => {
    const d = freshDir();
    const r = patternRaster([50, 70, 1], 'int16', 9);
    const grid = { fullWidth: 70, fullHeight: 50, regionSize: 32 };
    const { Affine } = await import('../../src/array/affine.ts');
    const base: WriteCogOptions = { blocksize: 16, overviews: 2, nodata: -5 };
    const parts = await writeParts(d, r, grid, { ...base, metadata: { stage: 'regions' }, epsg: 4326 }, () => false, 9, false);
    const final: WriteCogOptions = { ...base, metadata: { stage: 'final', min: '-3' }, epsg: 32631, transform: Affine.fromGdal([0, 2, 0, 100, 0, -2]) };
    await assembleCogFromParts(join(d, 'a.tif'), parts, grid, 1, 'int16', final);
    await writeCog(join(d, 'w.tif'), r, final);
    assert.ok(readFileSync(join(d, 'a.tif')).equals(readFileSync(join(d, 'w.tif'))));
  });

  it('more regions than part files kept open at once (300 regions)', async () => {
    const d = freshDir();
    const r = wholeImage(240, 320, 1, 'uint8', 4, 16, 0, true);
    const grid = { fullWidth: 320, fullHeight: 240, regionSize: 16 };
    const opts: WriteCogOptions = { blocksize: 16, overviews: 'auto', overviewResample: 'average' };
    const parts = await writeParts(d, r, grid, opts, (i) => i % 2 === 0, 4, true);
    assert.equal(parts.length, 300);
    await assembleCogFromParts(join(d, 'a.tif'), parts, grid, 1, 'uint8', opts);
    await writeCog(join(d, 'w.tif'), r, opts);
    assert.ok(readFileSync(join(d, 'a.tif')).equals(readFileSync(join(d, 'w.tif'))));
  });
});

describe('assembly without the native addon', () => {
  it('copies through buffers (no copy_file_range) and still equals writeCog byte for byte', () => {
    const d = freshDir();
    const here = (rel: string) => JSON.stringify(fileURLToPath(new URL(rel, import.meta.url)));
    writeFileSync(join(d, 'block.cjs'), `const M = require('node:module'); const r = M._resolveFilename;
M._resolveFilename = function (req, ...a) { if (req === 'coco-stitcher-native') throw new Error('coco-stitcher-native disabled by the test'); return r.call(this, req, ...a); };`);
    writeFileSync(join(d, 'run.mts'), `
import { readFileSync } from 'node:fs';
import { Raster } from ${here('../../src/array/raster.ts')};
import { writeCog } from ${here('../../src/io/cog/write-cog.ts')};
import { assembleCogFromParts, gridRegions, writeCogPart } from ${here('../../src/io/cog/region-part.ts')};
import { nativeAddon } from ${here('../../src/io/native-addon.ts')};
const d = process.argv[2];
const r = Raster.zeros([150, 170, 2], 'uint16');
for (let i = 0; i < r.data.length; i++) r.data[i] = (i * 37 + (i >> 9)) % 4000;
const grid = { fullWidth: 170, fullHeight: 150, regionSize: 32 };
const opts = { blocksize: 16, overviews: 'auto', overviewResample: 'average', compress: 'DEFLATE' };
const parts = [];
for (const g of gridRegions(grid)) {
  const w = Math.min(32, 170 - g.x), h = Math.min(32, 150 - g.y);
  const sub = Raster.zeros([h, w, 2], 'uint16');
  for (let y = 0; y < h; y++) sub.data.set(r.data.subarray(((g.y + y) * 170 + g.x) * 2, ((g.y + y) * 170 + g.x + w) * 2), y * w * 2);
  const p = d + '/part-' + g.x + '-' + g.y;
  await writeCogPart(p, sub, { ...grid, x: g.x, y: g.y }, opts);
  parts.push(p);
}
await assembleCogFromParts(d + '/a.tif', parts, grid, 2, 'uint16', opts);
await writeCog(d + '/w.tif', r, opts);
console.log('addon', nativeAddon() === null ? 'absent' : 'present');
console.log('equal', readFileSync(d + '/a.tif').equals(readFileSync(d + '/w.tif')));
`);
    const res = spawnSync(process.execPath, ['--require', join(d, 'block.cjs'), '--import', 'tsx', join(d, 'run.mts'), d], { encoding: 'utf8' });
    assert.equal(res.status, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /^addon absent$/m);
    assert.match(res.stdout, /^equal true$/m);
  });
});

describe('regionOverviewLevels', () => {
  it('counts the levels whose tiles lie inside one region, at most the plan\'s', () => {
    assert.equal(regionOverviewLevels({ fullWidth: 90, fullHeight: 70, regionSize: 32 }, 1, 'uint8', { blocksize: 16, overviews: 'auto' }), 1);
    const big = { fullWidth: 5000, fullHeight: 3000 };
    assert.equal(regionOverviewLevels({ ...big, regionSize: 1024 }, 1, 'uint8', { blocksize: 128, overviews: 'auto' }), 3);
    assert.equal(regionOverviewLevels({ ...big, regionSize: 1024 }, 1, 'uint8', { blocksize: 128, overviews: 2 }), 2);
    assert.equal(regionOverviewLevels({ ...big, regionSize: 384 }, 1, 'uint8', { blocksize: 128, overviews: 'auto' }), 0);
    assert.equal(regionOverviewLevels({ ...big, regionSize: 1024 }, 1, 'uint8', { blocksize: 128, overviews: [4, 8] }), 2);
    assert.equal(regionOverviewLevels({ ...big, regionSize: 1024 }, 1, 'uint8', { blocksize: 128 }), 0);
    // one region: every level is the region's
    assert.equal(regionOverviewLevels({ fullWidth: 1000, fullHeight: 900, regionSize: 1024 }, 1, 'uint8', { blocksize: 16, overviews: 'auto' }), 6);
  });

  it('gridRegions lists every region row by row', () => {
    assert.deepEqual(gridRegions({ fullWidth: 70, fullHeight: 40, regionSize: 32 }).map((r) => [r.x, r.y]), [[0, 0], [32, 0], [64, 0], [0, 32], [32, 32], [64, 32]]);
  });

  it('refuses a region size that is not whole tiles', () => {
    assert.throws(() => regionOverviewLevels({ fullWidth: 100, fullHeight: 100, regionSize: 100 }, 1, 'uint8', { blocksize: 32 }), WriterOptionError);
    assert.throws(() => regionOverviewLevels({ fullWidth: 0, fullHeight: 100, regionSize: 64 }, 1, 'uint8', {}), /fullWidth/);
  });
});

describe('broken parts', () => {
  const opts: WriteCogOptions = { blocksize: 16, overviews: 'auto', compress: 'DEFLATE' };
  const grid = { fullWidth: 90, fullHeight: 70, regionSize: 32 };
  let d = '';
  let parts: string[] = [];
  before(async () => {
    d = freshDir();
    parts = await writeParts(d, patternRaster([70, 90, 1], 'uint8', 3), grid, opts, () => false, 3, false);
  });
  const partAt = (x: number, y: number) => parts.find((p) => p.endsWith(`part-${x}-${y}.cogpart`))!;
  const copyOf = (p: string, name: string) => { const q = join(d, name); writeFileSync(q, readFileSync(p)); return q; };

  async function refused(list: string[], pattern: RegExp, kind: new (...a: never[]) => Error = FormatError, g = grid, o = opts): Promise<void> {
    const out = join(d, 'out.tif');
    await assert.rejects(assembleCogFromParts(out, list, g, 1, 'uint8', o), (err: Error) => {
      assert.ok(err instanceof kind, `${err.name}: ${err.message}`);
      assert.match(err.message, pattern);
      return true;
    });
    assert.ok(!readdirSync(d).includes('out.tif'), 'no output left');
    noTemp(d);
  }

  it('assembles when every part is there (the control)', async () => {
    await assembleCogFromParts(join(d, 'ok.tif'), parts, grid, 1, 'uint8', opts);
    rmSync(join(d, 'ok.tif'));
  });

  it('a missing part is an error naming the region', async () => {
    await refused(parts.filter((p) => p !== partAt(64, 32)), /no part for 1 of the 9 regions: region \(column 2, row 1\) at x=64, y=32/, IoError);
  });

  it('a region given twice is an error naming both files', async () => {
    const dup = copyOf(partAt(32, 0), 'dup.cogpart');
    await refused([...parts, dup], /region \(column 1, row 0\) at x=32, y=0 has two parts: .*(part-32-0|dup).*(part-32-0|dup)/);
  });

  it('a part of another grid or other options is refused, naming the file and what differs', async () => {
    const other = freshDir();
    const p = join(other, 'foreign.cogpart');
    await writeCogPart(p, patternRaster([32, 32, 1], 'uint8', 1), { fullWidth: 100, fullHeight: 70, regionSize: 32, x: 0, y: 0 }, opts);
    await refused([...parts.filter((q) => q !== partAt(0, 0)), p], /foreign\.cogpart \(region at x=0, y=0\): part written for fullWidth 100, but assembly is for fullWidth 90/);
    const q = join(other, 'lzw.cogpart');
    await writeCogPart(q, patternRaster([32, 32, 1], 'uint8', 1), { ...grid, x: 0, y: 0 }, { ...opts, compress: 'LZW' });
    await refused([...parts.filter((x) => x !== partAt(0, 0)), q], /lzw\.cogpart .*compress "LZW", but assembly is for compress "DEFLATE"/);
    // the same parts with other options given to assembly
    await refused(parts, /part written for overviewResample "nearest", but assembly is for overviewResample "average"/, FormatError, grid, { ...opts, overviewResample: 'average' });
  });

  it('a truncated part is refused, naming the file and its region', async () => {
    const t = copyOf(partAt(64, 64), 'trunc.cogpart');
    truncateSync(t, readFileSync(t).length - 5);
    await refused([...parts.filter((p) => p !== partAt(64, 64)), t], /trunc\.cogpart \(region \(column 2, row 2\) at x=64, y=64\): region part is \d+ bytes, but its header says \d+ \(truncated\)/);
    const t2 = copyOf(partAt(64, 64), 'short.cogpart');
    truncateSync(t2, 30);
    await refused([...parts.filter((p) => p !== partAt(64, 64)), t2], /short\.cogpart: region part truncated to 30 bytes, inside its descriptor/);
    const empty = copyOf(partAt(64, 64), 'empty.cogpart');
    truncateSync(empty, 0);
    await refused([...parts.filter((p) => p !== partAt(64, 64)), empty], /empty\.cogpart: 0 bytes is too short/);
    await refused([...parts.filter((p) => p !== partAt(64, 64)), join(d, 'nowhere.cogpart')], /cannot open region part .*nowhere/, IoError);
  });

  it('absurd sizes in a part header are refused before anything they size is allocated', async () => {
    const forge = (name: string, edit: (dv: DataView, bytes: Uint8Array) => void) => {
      const bytes = new Uint8Array(readFileSync(partAt(0, 0)));
      edit(new DataView(bytes.buffer), bytes);
      const q = join(d, name);
      writeFileSync(q, bytes);
      return [...parts.filter((p) => p !== partAt(0, 0)), q];
    };
    await refused(forge('desc.cogpart', (dv) => dv.setUint32(12, 0xffffffff, true)), /desc\.cogpart: region part descriptor of 4294967295 bytes, expected 2\.\.65536/);
    await refused(forge('total.cogpart', (dv) => dv.setFloat64(16, 1e300, true)), /total\.cogpart .*header says 1e\+300 \(truncated\)/);
    const descLength = (bytes: Uint8Array) => new DataView(bytes.buffer).getUint32(12, true);
    await refused(forge('level.cogpart', (dv, b) => dv.setFloat64(24 + Math.ceil(descLength(b) / 8) * 8, 2 ** 52, true)),
      /level\.cogpart .*do not add up to the file's \d+ bytes/);
    await refused(forge('count.cogpart', (dv, b) => {
      const at = 24 + Math.ceil(descLength(b) / 8) * 8;
      const levels = 2; // 32-pixel regions of 16-pixel tiles: the full resolution and the first overview are the region's
      dv.setUint32(at + 8 * levels, 0xfffffff0, true);
    }), /count\.cogpart .*level 0's tiles add up to \d+ bytes, its header says \d+/);
    await refused(forge('magic.cogpart', (_dv, b) => b.set([88], 0)), /magic\.cogpart: not a COG region part/);
    await refused(forge('json.cogpart', (_dv, b) => b.set([0x7b, 0x7b], 24)), /json\.cogpart: region part descriptor is not JSON/);
  });

  it('a tile of the level decoded at assembly that is corrupt is refused, naming the part and the tile', async () => {
    // 32 px regions of 16 px tiles: levels 0 and 1 are the regions', 2 and 3 are made from level 1, stored first
    const corrupt = (name: string, edit: (bytes: Uint8Array, level1At: number) => void) => {
      const bytes = new Uint8Array(readFileSync(partAt(32, 32)));
      const descLength = new DataView(bytes.buffer).getUint32(12, true);
      edit(bytes, 24 + Math.ceil(descLength / 8) * 8 + 2 * 8 + 4 * (4 + 1));
      const q = join(d, name);
      writeFileSync(q, bytes);
      return [...parts.filter((p) => p !== partAt(32, 32)), q];
    };
    await refused(corrupt('leader.cogpart', (b, at) => { b[at] ^= 0xff; }), /leader\.cogpart: tile 0, 0 of level 1 has size leader \d+, its index says \d+/);
    await refused(corrupt('data.cogpart', (b, at) => { for (let i = 6; i < 14; i++) b[at + i] ^= 0x5a; }), /data\.cogpart: tile 0, 0 of level 1 does not decode/);
  });

  it('a copied level whose tiles do not match the part\'s index is refused', async () => {
    // the full resolution (level 0) is last in the part: its first tile's leader sits right after level 1's data
    const bytes = new Uint8Array(readFileSync(partAt(0, 32)));
    const dv = new DataView(bytes.buffer);
    const descLength = dv.getUint32(12, true);
    const indexAt = 24 + Math.ceil(descLength / 8) * 8;
    const level0At = indexAt + 2 * 8 + 4 * (4 + 1) + dv.getFloat64(indexAt + 8, true);
    dv.setUint32(level0At, dv.getUint32(level0At, true) + 1, true);
    const q = join(d, 'index.cogpart');
    writeFileSync(q, bytes);
    await refused([...parts.filter((p) => p !== partAt(0, 32)), q], /index\.cogpart: the tile at byte \d+ has size leader \d+, the part's index says \d+ \(a corrupt part\)/);
  });

  it('an image whose tile index does not fit the memory budget is refused before reading parts', async () => {
    setMemoryBudget(1 << 20);
    try {
      await refused(parts, /assembling a 1000000 x 1000000 COG .*over the memory budget/, MemoryBudgetError, { fullWidth: 1e6, fullHeight: 1e6, regionSize: 32 });
    } finally {
      setMemoryBudget(undefined);
    }
  });

  it('writeCogPart refuses a source of the wrong size and leaves nothing when the source fails', async () => {
    const w = freshDir();
    await assert.rejects(writeCogPart(join(w, 'p'), patternRaster([32, 30, 1], 'uint8'), { ...grid, x: 0, y: 0 }, opts),
      /the source is 30 x 32 pixels, but region \(column 0, row 0\) at x=0, y=0 of a 90 x 70 image in regions of 32 is 32 x 32/);
    await assert.rejects(writeCogPart(join(w, 'p'), patternRaster([6, 26, 1], 'uint8'), { ...grid, x: 48, y: 0 }, opts), /region x must be a multiple of regionSize 32/);
    const failing: BlockSource = { height: 32, width: 32, bands: 1, dtype: 'uint8', readBlock: (y) => { if (y > 0) throw new Error('model crashed'); return null; } };
    await assert.rejects(writeCogPart(join(w, 'p'), failing, { ...grid, x: 32, y: 32 }, opts), /model crashed/);
    assert.deepEqual(readdirSync(w), []);
  });
});
