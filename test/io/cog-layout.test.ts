/**
 * fullResolutionOffset: where a Raster's full resolution is written in place
 * before its compressed size is known. It must equal layoutCog's dataAt[0]
 * for every compressed size within its bound, and decline (null) exactly
 * when the TIFF format could still depend on that size.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fullResolutionOffset, layoutCog, type LevelLayoutInput } from '../../src/io/cog/cog-layout.ts';
import { resolveOptions, type WriteCogOptions } from '../../src/io/cog/options.ts';
import type { Dtype } from '../../src/array/dtypes.ts';

function level(width: number, height: number, bs: number, sizes: number[]): LevelLayoutInput {
  const n = Math.ceil(width / bs) * Math.ceil(height / bs);
  const counts = Array.from({ length: n }, (_, i) => sizes[i % sizes.length]);
  const offsets: number[] = [];
  let at = 0;
  for (const c of counts) { offsets.push(c === 0 ? -1 : at + 4); at += c === 0 ? 0 : c + 8; }
  return { width, height, offsets, counts, dataBytes: at };
}

function plan(width: number, height: number, bands: number, dtype: Dtype, options: WriteCogOptions) {
  return resolveOptions(options, { height, width, bands, dtype });
}

describe('fullResolutionOffset', () => {
  it('equals layoutCog dataAt[0] for any compressed tile sizes within the bound', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 900 }), fc.integer({ min: 1, max: 900 }), fc.integer({ min: 1, max: 6 }),
      fc.constantFrom<Dtype>('uint8', 'int16', 'float32', 'float64'), fc.constantFrom(16, 64, 256),
      fc.constantFrom<WriteCogOptions['bigtiff']>('auto', true, false), fc.boolean(),
      fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 5 }),
      (w, h, c, dtype, bs, bigtiff, overviews, fractions) => {
        const p = plan(w, h, c, dtype, { blocksize: bs, bigtiff, overviews: overviews ? 'auto' : 0, metadata: { a: 'b' }, nodata: 0 });
        const tileBytes = bs * bs * c * ({ uint8: 1, int16: 2, float32: 4, float64: 8 } as const)[dtype as 'uint8'];
        const ovs = p.overviews.map((o) => level(o.width, o.height, bs, [100, 0, 7]));
        const at = fullResolutionOffset(p, { width: w, height: h }, tileBytes, ovs, 'x.tif');
        assert.notEqual(at, null, 'small files are always placed');
        // compressed sizes from nothing (sparse) to the bound of twice the raw tile
        const main = level(w, h, bs, fractions.map((f) => f * tileBytes));
        assert.equal(layoutCog(p, [main, ...ovs], 'x.tif').dataAt[0], at);
      }), { numRuns: 200 });
  });

  it('declines when the bound passes 4 GiB and the format is not fixed to BigTIFF', () => {
    // 46341^2 uint8 = 2^31 + a little raw: twice that passes 4 GiB
    const [w, h] = [46341, 46341];
    for (const bigtiff of ['auto', false] as const) {
      const p = plan(w, h, 1, 'uint8', { blocksize: 256, bigtiff, overviews: 0 });
      assert.equal(fullResolutionOffset(p, { width: w, height: h }, 256 * 256, [], 'x.tif'), null, `bigtiff ${bigtiff}`);
    }
    const p = plan(w, h, 1, 'uint8', { blocksize: 256, bigtiff: true, overviews: 0 });
    const at = fullResolutionOffset(p, { width: w, height: h }, 256 * 256, [], 'x.tif');
    assert.equal(at, layoutCog(p, [level(w, h, 256, [5000])], 'x.tif').dataAt[0]);
    // just under the limit it is placed as classic TIFF
    const [w2, h2] = [40000, 40000];
    const p2 = plan(w2, h2, 1, 'uint8', { blocksize: 256, bigtiff: 'auto', overviews: 0 });
    const at2 = fullResolutionOffset(p2, { width: w2, height: h2 }, 256 * 256, [], 'x.tif');
    const laid = layoutCog(p2, [level(w2, h2, 256, [2 * 256 * 256 + 56])], 'x.tif');
    assert.equal(laid.bigtiff, false);
    assert.equal(at2, laid.dataAt[0]);
  });
});
