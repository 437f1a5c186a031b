/**
 * predict's window grid: per axis the fewest windows whose steps stay within
 * the stride the asked overlap allows, with their starts spread evenly, so
 * every neighbouring pair overlaps by about the same amount. kwarray's grid
 * (array/sliding-window.ts, kept for parity) steps by the stride and puts
 * one more window flush with the end, which may start only a few pixels
 * after the one before (640 px at 0.3 over 2000 px: 0, 448, 896, 1344,
 * 1360); here the same five windows start at 0, 340, 680, 1020, 1360.
 */
import { ValueError } from '../array/errors.ts';

/**
 * The largest step between window starts that keeps at least
 * `window * overlap` pixels of overlap (at least 1).
 */
export function maxStride(window: number, overlap: number): number {
  // the epsilon (a millionth of a pixel, as the tests allow) keeps 640 * (1 - 0.3) = 447.99999999999994 at 448
  return Math.max(1, Math.floor(window * (1 - overlap) + 1e-6));
}

/** Window starts along one axis of `size` pixels: the fewest for `maxStride`, evenly spread, first at 0 and last flush with the end. */
export function evenStarts(size: number, window: number, overlap: number): number[] {
  if (!(Number.isInteger(size) && Number.isInteger(window) && size >= 1 && window >= 1 && window <= size)) {
    throw new ValueError(`a window grid needs whole sizes with 1 <= window <= size, got window ${window} over ${size}`);
  }
  const span = size - window;
  if (span === 0) return [0];
  const steps = Math.ceil(span / maxStride(window, overlap));
  const starts = new Array<number>(steps + 1);
  // integer arithmetic: start i = round(i * span / steps), each gap at most ceil(span / steps) <= maxStride
  for (let i = 0; i <= steps; i++) starts[i] = Math.floor((2 * i * span + steps) / (2 * steps));
  return starts;
}

/** The windows of one image: rows x cols of starts, in C order (row by row), each `window` = [h, w] in size. */
export class WindowGrid implements Iterable<[[number, number], [number, number]]> {
  readonly window: [number, number];
  readonly rowStarts: number[];
  readonly colStarts: number[];

  /** `window` is clipped to the canvas [h, w]. */
  constructor(canvas: readonly [number, number], window: readonly [number, number], overlap: number) {
    this.window = [Math.min(window[0], canvas[0]), Math.min(window[1], canvas[1])];
    this.rowStarts = evenStarts(canvas[0], this.window[0], overlap);
    this.colStarts = evenStarts(canvas[1], this.window[1], overlap);
  }

  get length(): number { return this.rowStarts.length * this.colStarts.length; }

  *[Symbol.iterator](): Iterator<[[number, number], [number, number]]> {
    const [h, w] = this.window;
    for (const r of this.rowStarts) for (const c of this.colStarts) yield [[r, r + h], [c, c + w]];
  }
}
