/**
 * predict's window grid against its definition, checked pixel by pixel:
 * every pixel covered, starts inside the image, neighbouring windows
 * overlapping by at least the asked fraction, and no grid with one window
 * fewer able to do that (the minimum count is derived here from the stride
 * bound, not taken from the code).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { evenStarts, WindowGrid } from '../../src/predict/window-grid.ts';
import { SlidingWindow } from '../../src/array/sliding-window.ts';

describe('evenStarts', () => {
  it('the issue\'s case: 640 px at 0.3 over 2000 px starts 0, 340, 680, 1020, 1360 (kwarray: ..., 1344, 1360)', () => {
    assert.deepEqual(evenStarts(2000, 640, 0.3), [0, 340, 680, 1020, 1360]);
    const kw = [...new SlidingWindow([2000], [640], { overlap: 0.3, keepbound: true, allowOvershoot: true })].map(([s]) => s.start);
    assert.deepEqual(kw, [0, 448, 896, 1344, 1360], 'SlidingWindow keeps kwarray\'s grid');
    assert.deepEqual(evenStarts(640, 640, 0.3), [0]);
    assert.deepEqual(evenStarts(1088, 640, 0.3), [0, 448]);
    assert.deepEqual(evenStarts(32, 16, 0.25), [0, 8, 16]);
  });

  it('covers every pixel with the fewest windows whose overlap is never below the asked one', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 1024 }), fc.double({ min: 0, max: 0.95, noNaN: true }),
      (size, win0, overlap) => {
        const win = Math.min(win0, size);
        const starts = evenStarts(size, win, overlap);
        assert.equal(starts[0], 0);
        assert.equal(starts.at(-1), size - win);
        const covered = new Uint8Array(size);
        for (let i = 0; i < starts.length; i++) {
          assert.ok(Number.isInteger(starts[i]) && starts[i] >= 0 && starts[i] + win <= size, `start ${starts[i]}`);
          if (i > 0) {
            const gap = starts[i] - starts[i - 1];
            assert.ok(gap > 0, 'strictly increasing');
            // overlap in pixels of neighbours: win - gap; never below the asked fraction (the stride is at least 1)
            assert.ok(win - gap >= Math.min(win * overlap, win - 1) - 1e-6, `overlap ${win - gap} < ${win * overlap} (window ${win}, gap ${gap})`);
          }
          covered.fill(1, starts[i], starts[i] + win);
        }
        assert.ok(covered.every((c) => c === 1), 'every pixel covered');
        // the minimum: k windows with gaps of at most g = the largest whole gap keeping the overlap reach (k - 1) * g + win
        let g = 1;
        while (g + 1 <= win && win - (g + 1) >= win * overlap - 1e-6) g++;
        const fewest = size === win ? 1 : 1 + Math.ceil((size - win) / g);
        assert.equal(starts.length, fewest);
        // and the gaps differ by at most one pixel (evenly spread)
        const gaps = starts.slice(1).map((s, i) => s - starts[i]);
        if (gaps.length) assert.ok(Math.max(...gaps) - Math.min(...gaps) <= 1, `gaps ${gaps.join(',')}`);
      },
    ), { numRuns: 500 });
  });

  it('refuses a window larger than the axis or not whole', () => {
    assert.throws(() => evenStarts(10, 11, 0.3), /1 <= window <= size, got window 11 over 10/);
    assert.throws(() => evenStarts(10, 2.5, 0.3), /got window 2.5/);
  });
});

describe('WindowGrid', () => {
  it('clips the window to the canvas and yields rows x cols in C order', () => {
    const g = new WindowGrid([20, 5], [16, 16], 0.25);
    assert.deepEqual(g.window, [16, 5]);
    assert.equal(g.length, 2);
    assert.deepEqual([...g], [[[0, 16], [0, 5]], [[4, 20], [0, 5]]]);
  });
});
