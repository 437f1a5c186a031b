/**
 * Stitcher: a lazily tiled weighted accumulator over an HWC canvas (half-open slices,
 * pixel-is-area). Sums hold `bands` values per pixel, ONE weight plane per pixel.
 * Blocks of `blocksize` x `blocksize` are allocated on first touch.
 * With `memmap`, blocks live in a temp file (block k at offset k * blockBytes) behind an
 * LRU cache of `cacheBytes` (default 256 MB); the file is removed by `dispose()` and at exit.
 */
import { Raster } from '../array/raster.ts';
import type { Slice, SpaceSlice } from '../array/slices.ts';
import { StitchError } from './errors.ts';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Options of {@link Stitcher}. */
export interface StitcherOptions {
  dtype?: 'float32' | 'float64';
  nanPolicy?: 'propagate' | 'omit' | 'raise';
  memmap?: boolean | string;
  blocksize?: number;
  cacheBytes?: number;
}

/** Result of {@link Stitcher.add}. */
export interface AddResult { clipped: boolean; outside: boolean; pixels: number }

interface Block { sums: Float32Array | Float64Array; weight: Float32Array | Float64Array }

function resolve(sl: Slice, n: number, axis: string): [number, number] {
  if (sl.step !== null && sl.step !== undefined && sl.step !== 1) {
    throw new StitchError(`slice step ${sl.step} on ${axis} is not supported (expected 1 or null)`);
  }
  return [sl.start ?? 0, sl.stop ?? n];
}

/**
 * Weighted accumulator: `add` does sums += value*w, weight += w; `finalize` returns
 * sums / weight with NaN where the weight is 0.
 * @example
 * const s = new Stitcher([200, 200, 1]);
 * s.add([slice(0, 50), slice(0, 50)], patch);
 * const out = s.finalize();
 */
export class Stitcher {
  readonly shape: readonly [number, number, number];
  readonly blocksize: number;
  readonly dtype: 'float32' | 'float64';
  readonly nanPolicy: 'propagate' | 'omit' | 'raise';
  /** Counters: windows added, windows fully outside, windows clipped. */
  readonly stats = { windows: 0, outside: 0, clipped: 0 };
  #blocks = new Map<number, Block>();
  #nbx: number;
  #fd = -1;
  #dir: string | null = null;
  #onDisk = new Set<number>();
  #cacheBytes: number;
  #blockBytes: number;
  #exitHook: (() => void) | null = null;

  constructor(shape: readonly [number, number, number], opts: StitcherOptions = {}) {
    this.shape = [shape[0], shape[1], shape[2]];
    this.blocksize = opts.blocksize ?? 128;
    this.dtype = opts.dtype ?? 'float32';
    this.nanPolicy = opts.nanPolicy ?? 'propagate';
    this.#nbx = Math.ceil(shape[1] / this.blocksize);
    const el = this.dtype === 'float64' ? 8 : 4;
    this.#blockBytes = this.blocksize * this.blocksize * (shape[2] + 1) * el;
    this.#cacheBytes = opts.cacheBytes ?? 256 * 2 ** 20;
    if (opts.memmap) {
      const parent = typeof opts.memmap === 'string' ? opts.memmap : tmpdir();
      this.#dir = mkdtempSync(join(parent, 'coco-stitcher-'));
      this.#fd = openSync(join(this.#dir, 'blocks.bin'), 'w+');
      const dir = this.#dir;
      this.#exitHook = () => { try { rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ } };
      process.once('exit', this.#exitHook);
    }
  }

  #io(b: Block, key: number, write: boolean): void {
    const pos = key * this.#blockBytes;
    const s = new Uint8Array(b.sums.buffer, b.sums.byteOffset, b.sums.byteLength);
    const w = new Uint8Array(b.weight.buffer, b.weight.byteOffset, b.weight.byteLength);
    if (write) { writeSync(this.#fd, s, 0, s.length, pos); writeSync(this.#fd, w, 0, w.length, pos + s.length); }
    else { readSync(this.#fd, s, 0, s.length, pos); readSync(this.#fd, w, 0, w.length, pos + s.length); }
  }

  #block(by: number, bx: number, create: boolean): Block | undefined {
    const key = by * this.#nbx + bx;
    let b = this.#blocks.get(key);
    if (b && this.#fd >= 0) { this.#blocks.delete(key); this.#blocks.set(key, b); }
    if (!b && (create || this.#onDisk.has(key))) {
      const n = this.blocksize * this.blocksize;
      const C = this.dtype === 'float64' ? Float64Array : Float32Array;
      b = { sums: new C(n * this.shape[2]), weight: new C(n) };
      if (this.#fd >= 0) {
        if (this.#onDisk.has(key)) this.#io(b, key, false);
        while (this.#blocks.size > 0 && (this.#blocks.size + 1) * this.#blockBytes > this.#cacheBytes) {
          const [k, old] = this.#blocks.entries().next().value as [number, Block];
          this.#io(old, k, true);
          this.#onDisk.add(k);
          this.#blocks.delete(k);
        }
      }
      this.#blocks.set(key, b);
    }
    return b;
  }

  /** Accumulate `patch` (HxWxC) at `spaceSlice` with scalar or per-pixel (HxW[x1]) weight. */
  add(spaceSlice: SpaceSlice, patch: Raster, weight: number | Raster = 1): AddResult {
    const [H, W, C] = this.shape;
    if (patch.bands !== C) throw new StitchError(`patch has ${patch.bands} bands, canvas has ${C}`);
    const [y0, y1] = resolve(spaceSlice[0], H, 'rows');
    const [x0, x1] = resolve(spaceSlice[1], W, 'cols');
    if (y1 - y0 !== patch.height || x1 - x0 !== patch.width) {
      throw new StitchError(`patch shape [${patch.height}, ${patch.width}, ${patch.bands}] does not match slice extent [${y1 - y0}, ${x1 - x0}]`);
    }
    let wdata: ArrayLike<number> | null = null;
    if (typeof weight !== 'number') {
      if (weight.height !== patch.height || weight.width !== patch.width || weight.bands !== 1) {
        throw new StitchError(`weight shape [${weight.height}, ${weight.width}, ${weight.bands}] does not match patch [${patch.height}, ${patch.width}, 1]`);
      }
      wdata = weight.data;
    }
    this.stats.windows++;
    const cy0 = Math.max(0, y0), cy1 = Math.min(H, y1), cx0 = Math.max(0, x0), cx1 = Math.min(W, x1);
    const clipped = cy0 !== y0 || cy1 !== y1 || cx0 !== x0 || cx1 !== x1;
    if (cy1 <= cy0 || cx1 <= cx0) { this.stats.outside++; return { outside: true, clipped, pixels: 0 }; }
    if (clipped) this.stats.clipped++;
    const pd = patch.data, pw = patch.width, bs = this.blocksize, policy = this.nanPolicy;
    const sw = typeof weight === 'number' ? weight : 0;
    for (let by = Math.floor(cy0 / bs); by * bs < cy1; by++) {
      for (let bx = Math.floor(cx0 / bs); bx * bs < cx1; bx++) {
        const blk = this.#block(by, bx, true)!;
        const sums = blk.sums, wt = blk.weight;
        const ry0 = Math.max(cy0, by * bs), ry1 = Math.min(cy1, (by + 1) * bs);
        const rx0 = Math.max(cx0, bx * bs), rx1 = Math.min(cx1, (bx + 1) * bs);
        for (let y = ry0; y < ry1; y++) {
          let pi = (y - y0) * pw + (rx0 - x0);
          let bi = (y - by * bs) * bs + (rx0 - bx * bs);
          if (policy === 'propagate') {
            const n = rx1 - rx0;
            if (wdata === null) {
              const so = bi * C, po = pi * C, m = n * C;
              for (let i = 0; i < m; i++) sums[so + i] += pd[po + i] * sw;
              for (let i = 0; i < n; i++) wt[bi + i] += sw;
            } else {
              for (let i = 0; i < n; i++) {
                const w = wdata[pi + i], so = (bi + i) * C, po = (pi + i) * C;
                for (let c = 0; c < C; c++) sums[so + c] += pd[po + c] * w;
                wt[bi + i] += w;
              }
            }
            continue;
          }
          for (let x = rx0; x < rx1; x++, pi++, bi++) {
            let w = wdata ? wdata[pi] : sw;
            const po = pi * C, so = bi * C;
            {
              let bad = false;
              for (let c = 0; c < C; c++) { if (!Number.isFinite(pd[po + c])) { bad = true; break; } }
              if (bad) {
                if (policy === 'raise') throw new StitchError(`non-finite value at canvas pixel (${y}, ${x}) of slice rows ${y0}:${y1} cols ${x0}:${x1}`);
                w = 0;
              }
            }
            if (w === 0) continue;
            for (let c = 0; c < C; c++) sums[so + c] += pd[po + c] * w;
            wt[bi] += w;
          }
        }
      }
    }
    return { outside: false, clipped, pixels: (cy1 - cy0) * (cx1 - cx0) };
  }

  /** sums / weight over the rectangle (clipped to the canvas); null if no block touched. */
  finalizeBlock(y0: number, x0: number, h: number, w: number): Raster | null {
    return this.#region(y0, x0, h, w, true, false);
  }

  #region(y0: number, x0: number, h: number, w: number, nullIfEmpty: boolean, weightOnly: boolean): Raster | null {
    const C = this.shape[2], bs = this.blocksize, oc = weightOnly ? 1 : C;
    const out = Raster.zeros([h, w, oc], this.dtype);
    const od = out.data as Float32Array | Float64Array;
    if (!weightOnly) od.fill(NaN);
    let any = false;
    for (let by = Math.floor(y0 / bs); by * bs < y0 + h; by++) {
      for (let bx = Math.floor(x0 / bs); bx * bs < x0 + w; bx++) {
        const blk = this.#block(by, bx, false);
        if (!blk) continue;
        any = true;
        const ry0 = Math.max(y0, by * bs), ry1 = Math.min(y0 + h, (by + 1) * bs);
        const rx0 = Math.max(x0, bx * bs), rx1 = Math.min(x0 + w, (bx + 1) * bs);
        for (let y = ry0; y < ry1; y++) {
          let oi = (y - y0) * w + (rx0 - x0);
          let bi = (y - by * bs) * bs + (rx0 - bx * bs);
          for (let x = rx0; x < rx1; x++, oi++, bi++) {
            const wt = blk.weight[bi];
            if (weightOnly) { od[oi] = wt; continue; }
            if (wt === 0) continue;
            for (let c = 0; c < C; c++) od[oi * C + c] = blk.sums[bi * C + c] / wt;
          }
        }
      }
    }
    return nullIfEmpty && !any ? null : out;
  }

  /** Final raster sums / weight (NaN where weight is 0) over `spaceSlice` or the whole canvas. */
  finalize(spaceSlice?: SpaceSlice): Raster {
    const [H, W] = this.shape;
    const [y0, y1] = spaceSlice ? resolve(spaceSlice[0], H, 'rows') : [0, H];
    const [x0, x1] = spaceSlice ? resolve(spaceSlice[1], W, 'cols') : [0, W];
    return this.#region(y0, x0, y1 - y0, x1 - x0, false, false)!;
  }

  /** Total weight per pixel (HxWx1) over `spaceSlice` or the whole canvas. */
  weightRaster(spaceSlice?: SpaceSlice): Raster {
    const [H, W] = this.shape;
    const [y0, y1] = spaceSlice ? resolve(spaceSlice[0], H, 'rows') : [0, H];
    const [x0, x1] = spaceSlice ? resolve(spaceSlice[1], W, 'cols') : [0, W];
    return this.#region(y0, x0, y1 - y0, x1 - x0, false, true)!;
  }

  /** Block source for writeCog (reads blocks lazily; null for untouched blocks). */
  blockSource() {
    const [height, width, bands] = this.shape;
    return { height, width, bands, dtype: this.dtype,
      readBlock: (y0: number, x0: number, h: number, w: number) => this.finalizeBlock(y0, x0, h, w) };
  }

  /** [blockRow, blockCol] of every allocated block. */
  *touchedBlocks(): Iterable<[number, number]> {
    const keys = new Set([...this.#blocks.keys(), ...this.#onDisk]);
    for (const k of keys) yield [Math.floor(k / this.#nbx), k % this.#nbx];
  }

  /** Add another stitcher's sums and weights (same shape, blocksize and dtype). */
  merge(other: Stitcher): void {
    if (other.shape.join() !== this.shape.join() || other.blocksize !== this.blocksize) {
      throw new StitchError(`cannot merge stitcher of shape [${other.shape}] (blocksize ${other.blocksize}) into [${this.shape}] (blocksize ${this.blocksize})`);
    }
    for (const [by, bx] of [...other.touchedBlocks()]) {
      const ob = other.#block(by, bx, false)!;
      const b = this.#block(by, bx, true)!;
      for (let i = 0; i < b.sums.length; i++) b.sums[i] += ob.sums[i];
      for (let i = 0; i < b.weight.length; i++) b.weight[i] += ob.weight[i];
    }
  }

  /** Release all blocks. */
  dispose(): void {
    this.#blocks.clear();
    this.#onDisk.clear();
    if (this.#fd >= 0) { closeSync(this.#fd); this.#fd = -1; }
    if (this.#exitHook) { this.#exitHook(); process.off('exit', this.#exitHook); this.#exitHook = null; }
  }
}
