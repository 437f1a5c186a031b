/**
 * Coverage for prediction_region while writing: finalizedStats marks the
 * blocks whose every value is valid exactly when a scan of the finished
 * block finds no NaN, and coverage from those marks plus pixel scans of the
 * other blocks equals coverage from pixel scans of every block.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Raster } from '../../src/array/raster.ts';
import { slice } from '../../src/array/slices.ts';
import { Stitcher } from '../../src/stitch/stitcher.ts';
import { CanvasStats } from '../../src/stitch/finalize-image.ts';

test('finalizedStats(fullBlocks) marks exactly the blocks without NaN; coverage through the marks equals a full scan', () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 3 }), fc.constantFrom(8, 16),
    fc.array(fc.record({ y: fc.integer({ min: -10, max: 70 }), x: fc.integer({ min: -10, max: 70 }), h: fc.integer({ min: 1, max: 40 }), w: fc.integer({ min: 1, max: 40 }), pixelWeights: fc.boolean() }), { maxLength: 6 }),
    (H, W, C, bs, wins) => {
      const s = new Stitcher([H, W, C], { blocksize: bs });
      try {
        for (const win of wins) {
          // per-pixel weights with zeros leave holes inside a window
          const wt = win.pixelWeights ? new Raster(Float32Array.from({ length: win.h * win.w }, (_, i) => (i % 5 === 0 ? 0 : 1)), [win.h, win.w, 1]) : 1;
          s.add([slice(win.y, win.y + win.h), slice(win.x, win.x + win.w)], Raster.full([win.h, win.w, C], 0.5), wt);
        }
        const nbx = Math.ceil(W / bs), nby = Math.ceil(H / bs);
        const full = new Set<number>();
        s.finalizedStats(full);
        const scanAll = new CanvasStats(H, W, true, false), viaMarks = new CanvasStats(H, W, true, false);
        for (let by = 0; by < nby; by++) for (let bx = 0; bx < nbx; bx++) {
          const y0 = by * bs, x0 = bx * bs, h = Math.min(bs, H - y0), w = Math.min(bs, W - x0);
          const blk = s.finalizeBlock(y0, x0, h, w);
          const noNaN = blk !== null && Array.from(blk.data).every((v) => !Number.isNaN(v));
          assert.equal(full.has(by * nbx + bx), noNaN, `block (${by}, ${bx})`);
          if (blk) scanAll.visit(y0, x0, blk);
          if (full.has(by * nbx + bx)) viaMarks.visitFull(y0, x0, h, w);
          else if (blk) viaMarks.visit(y0, x0, blk);
        }
        assert.equal(viaMarks.covered, scanAll.covered);
        assert.deepEqual(viaMarks.coverageRectangle(), scanAll.coverageRectangle());
        if (scanAll.covered > 0) assert.deepEqual(viaMarks.bbox, scanAll.bbox);
      } finally {
        s.dispose();
      }
    }), { numRuns: 200 });
});
