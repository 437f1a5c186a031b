/**
 * Stitcher: a lazily tiled weighted accumulator over an HWC canvas (half-open slices,
 * pixel-is-area). Sums hold `bands` values per pixel and ONE weight plane per pixel, until a
 * window with per-band weights whose bands disagree (the manager's NaN in some bands of a pixel)
 * reaches a block: that block then keeps one weight per band ("wide"; each band is weighted on
 * its own). Blocks of `blocksize` x `blocksize` are allocated on first touch, as fixed-size slots in
 * WebAssembly memory (see block-store.ts), and indexed by maps of touched blocks only (a 1e7 x 1e7
 * canvas with a few windows costs the memory of those windows' blocks); the row loops run as
 * SIMD kernels (wasm-kernels.ts), or, for float32 windows with the native addon, its C kernels
 * reading the window in place (bit for bit the same sums), wide blocks in plain loops (they are rare).
 * With `memmap`, blocks live in a temp file (in the order they are first evicted) behind an
 * LRU cache of `cacheBytes` (default 256 MB; only changed blocks are written back); the file is
 * removed by `dispose()` and at process exit (also after an uncaught error; not on a fatal signal).
 * Finished values are read per region (`finalize`, `finalizeBlock`, `blockSource`, `blocks()`) or
 * summarised without rasters (`finalizedStats`). Disposed stitchers leave their block memory to the
 * next one (up to 512 MiB; `Stitcher.releasePooledMemory()`).
 */
import { Raster } from '../array/raster.ts';
import type { Slice, SpaceSlice } from '../array/slices.ts';
import { StitchError } from './errors.ts';
import { type Arena, BlockStore, releasePooledMemory, type Slot } from './block-store.ts';
import { type NativeAddon, nativeAddon } from '../io/native-addon.ts';

/** The addon's float32 accumulate kernels (bit for bit the WebAssembly ones'), or null without the addon. */
type NativeKernels = Pick<NativeAddon, 'stitchAccumulate' | 'firstNonFinite'>;
const nativeKernels: NativeKernels | null = (() => {
  const a = nativeAddon();
  return a && typeof a.stitchAccumulate === 'function' && typeof a.firstNonFinite === 'function' ? a : null;
})();

/** Options of {@link Stitcher}. */
export interface StitcherOptions {
  dtype?: 'float32' | 'float64';
  nanPolicy?: 'propagate' | 'omit' | 'raise';
  /**
   * true: blocks in a file in the OS temp folder; a string: in a new folder inside that folder
   * (`coco-stitcher-<pid>-<random>`, removed at dispose and at exit; folders there of processes
   * that were killed before they could remove theirs are removed when the next one is made).
   */
  memmap?: boolean | string;
  blocksize?: number;
  /** Byte budget of resident blocks in memmap mode (default 256 MiB). */
  cacheBytes?: number;
  /** @internal Size limit of one WebAssembly memory holding blocks (default 2 GiB - 64 KiB; small values test several). */
  arenaBytes?: number;
}

/** Result of {@link Stitcher.add}. */
export interface AddResult {
  clipped: boolean;
  outside: boolean;
  pixels: number;
  /** with `skipIfNonFinite`: the part inside the canvas holds NaN or ±Inf, and nothing was added */
  nonFinite?: boolean;
}

/** Options of {@link Stitcher.add}. */
export interface AddOptions {
  /**
   * Scan the part of the patch inside the canvas for NaN / ±Inf first (SIMD, on the copy
   * the accumulation uses anyway) and, if there is one, add nothing and report
   * `nonFinite: true`, so the caller can mask and add again.
   */
  skipIfNonFinite?: boolean;
}

/** Largest canvas side: TIFF's ImageWidth / ImageLength are 32-bit (BigTIFF's too). */
export const MAX_CANVAS_SIDE = 2 ** 32 - 1;
/** Largest band count: TIFF's SamplesPerPixel is 16-bit. */
export const MAX_CANVAS_BANDS = 65535;
/** Scratch space per arena at most (a block row of a patch wider than this is copied in column chunks). */
const SCRATCH_CAP = 64 * 2 ** 20;

/**
 * Copies rows r0..r0+rows, columns c0..c0+cols of `src` (interleaved, `k` values per pixel,
 * `width` pixels per row) into `dst` as rows of cols * k values (converting to dst's type).
 */
function copyRect(dst: Float32Array | Float64Array, src: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }, width: number, k: number,
  r0: number, rows: number, c0: number, cols: number): void {
  const p0 = r0 * width + c0;
  if (cols === width) dst.set(src.subarray(p0 * k, (p0 + rows * width) * k));
  else for (let r = 0; r < rows; r++) dst.set(src.subarray((p0 + r * width) * k, (p0 + r * width + cols) * k), r * cols * k);
}

/** Like {@link copyRect}, one band (`band` of `k`) into `dst` as rows of `cols` values. */
function copyBand(dst: Float32Array | Float64Array, src: ArrayLike<number>, width: number, k: number, band: number,
  r0: number, rows: number, c0: number, cols: number): void {
  for (let r = 0, o = 0; r < rows; r++) {
    for (let j = ((r0 + r) * width + c0) * k + band, e = j + cols * k; j < e; j += k) dst[o++] = src[j];
  }
}

/** The one-band weights of rows r0.., columns c0.. of `wr` (per pixel, or band 0 of per-band weights that agree). */
function copyWeights(dst: Float32Array | Float64Array, wr: Raster, r0: number, rows: number, c0: number, cols: number): void {
  if (wr.bands === 1) copyRect(dst, wr.data as Float32Array, wr.width, 1, r0, rows, c0, cols);
  else copyBand(dst, wr.data, wr.width, wr.bands, 0, r0, rows, c0, cols);
}

/** Whether every pixel of rows r0.., columns c0.. of per-band weights `wr` has the same weight in all bands. */
function bandsAgree(wr: Raster, r0: number, rows: number, c0: number, cols: number): boolean {
  const d = wr.data, K = wr.bands, pw = wr.width;
  for (let r = 0; r < rows; r++) {
    for (let j = ((r0 + r) * pw + c0) * K, e = j + cols * K; j < e; j += K) {
      const w = d[j];
      for (let c = 1; c < K; c++) if (d[j + c] !== w) return false;
    }
  }
  return true;
}

/** One finished block of {@link Stitcher.blocks}. */
export interface FinishedBlock { y0: number; x0: number; height: number; width: number; raster: Raster | null }

function resolve(sl: Slice, n: number, axis: string): [number, number] {
  if (sl.step !== null && sl.step !== undefined && sl.step !== 1) {
    throw new StitchError(`slice step ${sl.step} on ${axis} is not supported (expected 1 or null)`);
  }
  const a = sl.start ?? 0, b = sl.stop ?? n;
  if (!Number.isInteger(a) || !Number.isInteger(b)) throw new StitchError(`slice ${a}:${b} on ${axis} must have integer bounds`);
  return [a, b];
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
  readonly #store: BlockStore;
  readonly #nbx: number;
  readonly #E: number;
  /**
   * Per block: the weight every pixel of it has, while only whole-block windows of scalar
   * weight have touched it (grid-aligned windows: its weight plane is then never written and
   * costs no memory); absent once the block has a weight plane (or does not exist). Summed in
   * the dtype's precision, as the plane would be.
   */
  readonly #uniform = new Map<number, number>();

  constructor(shape: readonly [number, number, number], opts: StitcherOptions = {}) {
    if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((v) => Number.isInteger(v) && v > 0)) {
      throw new StitchError(`stitcher shape ${JSON.stringify(shape, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))} must be [height, width, bands] of positive integers`);
    }
    if (shape[0] > MAX_CANVAS_SIDE || shape[1] > MAX_CANVAS_SIDE || shape[2] > MAX_CANVAS_BANDS) {
      throw new StitchError(`stitcher shape [${shape.join(', ')}] is larger than any TIFF or BigTIFF can hold `
        + `(at most ${MAX_CANVAS_SIDE} rows and columns, ${MAX_CANVAS_BANDS} bands)`);
    }
    this.shape = [shape[0], shape[1], shape[2]];
    this.blocksize = opts.blocksize ?? 128;
    if (!Number.isInteger(this.blocksize) || this.blocksize < 1) throw new StitchError(`blocksize ${this.blocksize} must be a positive integer`);
    this.dtype = opts.dtype ?? 'float32';
    if (this.dtype !== 'float32' && this.dtype !== 'float64') throw new StitchError(`stitcher dtype ${String(this.dtype)} must be 'float32' or 'float64'`);
    this.nanPolicy = opts.nanPolicy ?? 'propagate';
    if (!['propagate', 'omit', 'raise'].includes(this.nanPolicy)) {
      throw new StitchError(`nanPolicy ${String(this.nanPolicy)} must be 'propagate', 'omit' or 'raise'`);
    }
    this.#nbx = Math.ceil(shape[1] / this.blocksize);
    if (Math.ceil(shape[0] / this.blocksize) * this.#nbx > Number.MAX_SAFE_INTEGER) {
      throw new StitchError(`stitcher shape [${shape.join(', ')}] has more than 2^53 blocks of ${this.blocksize}x${this.blocksize}: use a larger blocksize`);
    }
    this.#E = this.dtype === 'float64' ? 8 : 4;
    const bs = this.blocksize, C = shape[2];
    this.#store = new BlockStore({
      // sums, then one weight plane (narrow) or one per band (wide)
      dtype: this.dtype, slotElems: bs * bs * (C + 1), wideElems: bs * bs * 2 * C,
      memmap: opts.memmap, cacheBytes: opts.cacheBytes,
      // add() copies one block row of the (clipped) patch and its weights at a time (in column chunks past the cap)
      scratchBytes: Math.min(bs * shape[1] * (C + 1) * this.#E + 32, SCRATCH_CAP), arenaBytes: opts.arenaBytes,
      lazyTailBytes: bs * bs * this.#E, maxBlocks: Math.ceil(shape[0] / bs) * this.#nbx,
    });
  }

  /** Blocks allocated so far (windows touched them). */
  get blockCount(): number { return this.#store.size; }

  /** Path of the memmap file, or null when blocks are in memory. */
  get memmapPath(): string | null { return this.#store.path; }

  /**
   * Accumulate `patch` (HxWxC) at `spaceSlice` with a scalar weight, per-pixel weights (HxWx1), or
   * per-band weights (HxWxC: each band weighted on its own; a block where some pixel's band
   * weights differ keeps one weight per band from then on).
   */
  add(spaceSlice: SpaceSlice, patch: Raster, weight: number | Raster = 1, options: AddOptions = {}): AddResult {
    const [H, W, C] = this.shape;
    if (patch.bands !== C) throw new StitchError(`patch has ${patch.bands} bands, canvas has ${C}`);
    const [y0, y1] = resolve(spaceSlice[0], H, 'rows');
    const [x0, x1] = resolve(spaceSlice[1], W, 'cols');
    if (y1 - y0 !== patch.height || x1 - x0 !== patch.width) {
      throw new StitchError(`patch shape [${patch.height}, ${patch.width}, ${patch.bands}] does not match slice extent [${y1 - y0}, ${x1 - x0}]`);
    }
    let wr: Raster | null = null;
    if (typeof weight !== 'number') {
      if (weight.height !== patch.height || weight.width !== patch.width || (weight.bands !== 1 && weight.bands !== C)) {
        throw new StitchError(`weight shape [${weight.height}, ${weight.width}, ${weight.bands}] does not match patch [${patch.height}, ${patch.width}, 1] (per pixel) or [${patch.height}, ${patch.width}, ${C}] (per band)`);
      }
      wr = weight;
    } else if (Number.isNaN(weight)) {
      throw new StitchError('weight is NaN (expected a number or an HxW raster)');
    }
    const perBand = wr !== null && wr.bands > 1;
    // the addon's kernels read float32 windows where they are (no staging copy, no second pass for the scan)
    const native = this.#E === 4 && this.nanPolicy !== 'omit' && nativeKernels !== null && patch.data instanceof Float32Array
      && (wr === null || (wr.bands === 1 && wr.data instanceof Float32Array)) ? nativeKernels : null;
    const cy0 = y0 > 0 ? y0 : 0, cy1 = y1 < H ? y1 : H, cx0 = x0 > 0 ? x0 : 0, cx1 = x1 < W ? x1 : W;
    const clipped = cy0 !== y0 || cy1 !== y1 || cx0 !== x0 || cx1 !== x1;
    const outside = cy1 <= cy0 || cx1 <= cx0;
    // 'raise' checks before anything changes (a failed add leaves no trace, counters included)
    if (!outside && this.nanPolicy === 'raise') this.#checkFinite(patch, y0, x0, cy0, cy1, cx0, cx1);
    // the clipped patch staged in the first arena's scratch, scanned there (null: not staged)
    let staged: Arena | null = null;
    if (!outside && options.skipIfNonFinite && native) {
      const pw = patch.width;
      if (native.firstNonFinite(patch.data as Float32Array, ((cy0 - y0) * pw + (cx0 - x0)) * C, pw * C, cy1 - cy0, (cx1 - cx0) * C) >= 0) {
        return { outside: false, clipped, pixels: 0, nonFinite: true };
      }
    } else if (!outside && options.skipIfNonFinite) {
      staged = this.#stage(patch, y0, x0, cy0, cy1, cx0, cx1, wr !== null);
      // firstbad: SIMD scan of the staged copy (the JS loop only when it could not be staged)
      const bad = staged
        ? staged.k.firstbad(0, 0, 1, (cy1 - cy0) * (cx1 - cx0) * C) >= 0
        : this.#firstNonFiniteIn(patch, y0, x0, cy0, cy1, cx0, cx1) >= 0;
      if (bad) return { outside: false, clipped, pixels: 0, nonFinite: true };
    }
    this.stats.windows++;
    if (outside) { this.stats.outside++; return { outside: true, clipped, pixels: 0 }; }
    if (clipped) this.stats.clipped++;

    const bs = this.blocksize, E = this.#E, store = this.#store, nbx = this.#nbx;
    const by0 = Math.floor(cy0 / bs), by1 = Math.ceil(cy1 / bs), bx0 = Math.floor(cx0 / bs), bx1 = Math.ceil(cx1 / bs);
    // acquire (and pin) every block first: with a small memmap cache, getting one block may evict another
    const slots: Slot[] = [];
    for (let by = by0; by < by1; by++) for (let bx = bx0; bx < bx1; bx++) {
      const key = by * nbx + bx;
      const created = !store.has(key);
      store.pin(key);
      slots.push(store.get(key, true)!);
      if (created) this.#uniform.set(key, 0);
    }
    try {
      const omit = this.nanPolicy === 'omit';
      const sw = wr === null ? (weight as number) : 0;
      const swE = E === 4 ? Math.fround(sw) : sw;
      const uniformAdd = !omit && wr === null;
      const cw = cx1 - cx0;
      const sumsBytes = bs * bs * C * E, srow = bs * C * E, wrow = bs * E;
      let i = 0;
      for (let by = by0; by < by1; by++) {
        const ry0 = by * bs > cy0 ? by * bs : cy0, ry1 = (by + 1) * bs < cy1 ? (by + 1) * bs : cy1, rows = ry1 - ry0;
        // this block row of the patch in `scratchArena`'s scratch: canvas columns sx0..sx1 at `src`
        // (rows of prow bytes), its one-band weights at `wsrc` (rows of qrow bytes)
        let scratchArena: Arena | null = null, sx0 = 0, sx1 = 0, src = 0, wsrc = 0, prow = 0, qrow = 0;
        for (let bx = bx0; bx < bx1; bx++) {
          const slot = slots[i++], a = slot.arena, key = by * nbx + bx;
          const rx0 = bx * bs > cx0 ? bx * bs : cx0, rx1 = (bx + 1) * bs < cx1 ? (bx + 1) * bs : cx1, npix = rx1 - rx0;
          if (perBand && !slot.wide && !bandsAgree(wr!, ry0 - y0, rows, rx0 - x0, npix)) {
            this.#addWide(this.#widen(slot, key), by, bx, patch, y0, x0, ry0, rows, rx0, npix, wr, sw, omit);
            continue;
          }
          if (slot.wide) {
            this.#addWide(slot, by, bx, patch, y0, x0, ry0, rows, rx0, npix, wr, sw, omit);
            continue;
          }
          if (native) {
            this.#addNative(native, slot, key, patch, wr, sw, y0, x0, by, bx, ry0, rows, rx0, npix, uniformAdd);
            continue;
          }
          if (a !== scratchArena || rx1 > sx1) {
            if (a === staged) {
              // the clipped patch is in this arena's scratch already (rows of cw pixels from offset 0);
              // this block row's weights go after it
              sx0 = cx0; sx1 = cx1; prow = cw * C * E; qrow = cw * E;
              src = (ry0 - cy0) * prow;
              if (wr) {
                wsrc = ((cy1 - cy0) * prow + 15) & ~15;
                copyWeights(a.view(wsrc, rows * cw), wr, ry0 - y0, rows, cx0 - x0, cw);
              }
            } else {
              // copy this block row of the clipped patch (converted to the accumulator dtype) and of the
              // weights into this arena's scratch: from this block on, as many columns as fit (whole blocks)
              const fit = Math.floor((a.reserve - 32) / (rows * (C + (wr ? 1 : 0)) * E));
              sx0 = rx0;
              sx1 = rx0 + fit >= cx1 ? cx1 : Math.max(rx1, Math.floor((rx0 + fit) / bs) * bs);
              const ncol = sx1 - sx0;
              prow = ncol * C * E; qrow = ncol * E;
              src = a.scratch(rows * prow + 16 + (wr ? rows * qrow : 0));
              copyRect(a.view(src, rows * ncol * C), patch.data as Float32Array, patch.width, C, ry0 - y0, rows, sx0 - x0, ncol);
              if (wr) {
                wsrc = (src + rows * prow + 15) & ~15;
                copyWeights(a.view(wsrc, rows * ncol), wr, ry0 - y0, rows, sx0 - x0, ncol);
              }
            }
            scratchArena = a;
          }
          const bi = (ry0 - by * bs) * bs + (rx0 - bx * bs), pi = rx0 - sx0;
          const dS = slot.off + bi * C * E, dW = slot.off + sumsBytes + bi * E, sP = src + pi * C * E, sQ = wsrc + pi * E;
          const k = a.k;
          const u = this.#uniform.get(key);
          if (u !== undefined) {
            // a window of scalar weight over the whole block keeps it uniform (no plane): the sums only (acc)
            if (uniformAdd && bi === 0 && rows === (H - by * bs < bs ? H - by * bs : bs) && npix === (W - bx * bs < bs ? W - bx * bs : bs)) {
              k.acc(dS, srow, sP, prow, rows, npix * C, sw);
              this.#uniform.set(key, E === 4 ? Math.fround(u + swE) : u + swE);
              continue;
            }
            this.#materialize(slot, key);
          }
          if (omit) {
            // accomit: pixels with a non-finite band are skipped in every band, the others added with their weight
            k.accomit(dS, srow, dW, wrow, sP, prow, sQ, qrow, rows, npix, C, wr ? 1 : 0, sw);
          } else if (wr === null) {
            // acc: sums += value * w over the rows as one run of npix * C values; addc: the plane += w
            k.acc(dS, srow, sP, prow, rows, npix * C, sw);
            k.addc(dW, wrow, rows, npix, sw);
          } else {
            // accpw: sums += value * w(pixel) and plane += w(pixel) in one pass
            k.accpw(dS, srow, dW, wrow, sP, prow, sQ, qrow, rows, npix, C);
          }
        }
      }
    } finally {
      store.unpinAll();
    }
    return { outside: false, clipped, pixels: (cy1 - cy0) * (cx1 - cx0) };
  }

  /**
   * Adds rows ry0.., columns rx0.. (canvas) of float32 `patch` (weights: float32 `wr` per pixel, or `sw`)
   * into narrow block (by, bx) with the addon's kernel, reading the patch and weights in place.
   */
  #addNative(native: NativeKernels, slot: Slot, key: number, patch: Raster, wr: Raster | null, sw: number, y0: number, x0: number,
    by: number, bx: number, ry0: number, rows: number, rx0: number, npix: number, uniformAdd: boolean): void {
    const [H, W, C] = this.shape, bs = this.blocksize, pw = patch.width;
    const bi = (ry0 - by * bs) * bs + (rx0 - bx * bs), q0 = (ry0 - y0) * pw + (rx0 - x0);
    const dS = slot.off + bi * C * 4, dW = slot.off + bs * bs * C * 4 + bi * 4, buf = slot.arena.memory.buffer;
    const u = this.#uniform.get(key);
    if (u !== undefined) {
      // a window of scalar weight over the whole block keeps it uniform (no plane): the sums only
      if (uniformAdd && bi === 0 && rows === (H - by * bs < bs ? H - by * bs : bs) && npix === (W - bx * bs < bs ? W - bx * bs : bs)) {
        native.stitchAccumulate(buf, dS, bs * C * 4, -1, 0, patch.data as Float32Array, q0 * C, pw * C, null, 0, 0, rows, npix, C, sw);
        this.#uniform.set(key, Math.fround(u + Math.fround(sw)));
        return;
      }
      this.#materialize(slot, key);
    }
    native.stitchAccumulate(buf, dS, bs * C * 4, dW, bs * 4, patch.data as Float32Array, q0 * C, pw * C,
      wr ? wr.data as Float32Array : null, q0, pw, rows, npix, C, sw);
  }

  /**
   * Copies the clipped patch (rows cy0..cy1, cols cx0..cx1) into the first arena's scratch
   * from offset 0, leaving room for one block row of weights after it; null when it does
   * not fit or the patch is not of the stitcher's float type (the caller scans it in JS).
   */
  #stage(patch: Raster, y0: number, x0: number, cy0: number, cy1: number, cx0: number, cx1: number, weights: boolean): Arena | null {
    const C = this.shape[2], E = this.#E, pd = patch.data, cw = cx1 - cx0, rows = cy1 - cy0;
    if (pd.BYTES_PER_ELEMENT !== E || !(pd instanceof Float32Array || pd instanceof Float64Array)) return null;
    const a = this.#store.scratchArena(), bytes = rows * cw * C * E;
    if (((bytes + 15) & ~15) + (weights ? this.blocksize * cw * E : 0) > a.reserve) return null;
    copyRect(a.view(a.scratch(bytes), rows * cw * C), pd, patch.width, C, cy0 - y0, rows, cx0 - x0, cw);
    return a;
  }

  /**
   * Moves a narrow block to a wide slot: the same sums, and one weight plane per band, each a
   * copy of its one plane. Returns the new slot (the old one is released).
   */
  #widen(slot: Slot, key: number): Slot {
    if (this.#uniform.has(key)) this.#materialize(slot, key);
    const n = this.blocksize ** 2, C = this.shape[2], E = this.#E;
    return this.#store.widen(key, (from, to) => {
      to.arena.view(to.off, n * C).set(from.arena.view(from.off, n * C));
      const plane = from.arena.view(from.off + n * C * E, n), wide = to.arena.view(to.off + n * C * E, n * C);
      for (let p = 0, j = 0; p < n; p++) { const w = plane[p]; for (let c = 0; c < C; c++) wide[j++] = w; }
    });
  }

  /**
   * Adds rows ry0.., columns rx0.. (canvas) of `patch` into wide block (by, bx): sums and weights
   * per band, in plain loops (wide blocks are rare; each value is rounded to the dtype once, where
   * the kernels round the product too). `omit` skips a pixel with a non-finite band in every
   * band, as the kernels do.
   */
  #addWide(slot: Slot, by: number, bx: number, patch: Raster, y0: number, x0: number, ry0: number, rows: number, rx0: number, npix: number,
    wr: Raster | null, sw: number, omit: boolean): void {
    const bs = this.blocksize, C = this.shape[2], E = this.#E, a = slot.arena;
    const sums = a.view(slot.off, bs * bs * C), wts = a.view(slot.off + bs * bs * C * E, bs * bs * C);
    const pd = patch.data, pw = patch.width, wd = wr?.data ?? null, K = wr ? wr.bands : 0;
    const swE = E === 4 ? Math.fround(sw) : sw, n = npix * C;
    for (let r = 0; r < rows; r++) {
      const o = ((ry0 - by * bs + r) * bs + (rx0 - bx * bs)) * C, q0 = (ry0 + r - y0) * pw + (rx0 - x0), s0 = q0 * C;
      if (!omit && K === C) {
        for (let j = 0; j < n; j++) { const w = wd![s0 + j]; sums[o + j] += pd[s0 + j] * w; wts[o + j] += w; }
      } else if (!omit && K === 0) {
        for (let j = 0; j < n; j++) { sums[o + j] += pd[s0 + j] * swE; wts[o + j] += swE; }
      } else {
        for (let p = 0; p < npix; p++) {
          const sp = s0 + p * C, op = o + p * C;
          if (omit) {
            let ok = true;
            for (let c = 0; c < C; c++) { const v = pd[sp + c]; if (v - v !== 0) ok = false; }
            if (!ok) continue;
          }
          for (let c = 0; c < C; c++) {
            const w = K === 0 ? swE : wd![K === 1 ? q0 + p : sp + c];
            sums[op + c] += pd[sp + c] * w;
            wts[op + c] += w;
          }
        }
      }
    }
  }

  /** Sample index in `patch` of the first NaN or ±Inf in its clipped part (rows cy0..cy1, cols cx0..cx1), or -1 (JS scan). */
  #firstNonFiniteIn(patch: Raster, y0: number, x0: number, cy0: number, cy1: number, cx0: number, cx1: number): number {
    const C = this.shape[2], pd = patch.data, pw = patch.width;
    for (let y = cy0; y < cy1; y++) {
      for (let j = ((y - y0) * pw + (cx0 - x0)) * C, e = j + (cx1 - cx0) * C; j < e; j++) if (pd[j] - pd[j] !== 0) return j;
    }
    return -1;
  }

  /**
   * Gives a uniform block its weight plane (every pixel the block's weight). A uniform
   * block's plane bytes are zero (never written; new and reused slots are zeroed), so
   * weight 0 (a block just created) only needs its pages faulted in.
   */
  #materialize(slot: Slot, key: number): void {
    const bs = this.blocksize, u = this.#uniform.get(key)!, off = slot.off + bs * bs * this.shape[2] * this.#E;
    // weight planes in use: lazy tails no longer save memory, huge pages save time
    slot.arena.useHugePages();
    if (u === 0) slot.arena.prefault(off, bs * bs * this.#E);
    else slot.arena.view(off, bs * bs).fill(u);
    slot.dirty = true;
    this.#uniform.delete(key);
  }

  #checkFinite(patch: Raster, y0: number, x0: number, cy0: number, cy1: number, cx0: number, cx1: number): void {
    const j = this.#firstNonFiniteIn(patch, y0, x0, cy0, cy1, cx0, cx1);
    if (j < 0) return;
    const C = this.shape[2], pw = patch.width, y = y0 + Math.floor(j / (pw * C)), x = x0 + (Math.floor(j / C) % pw);
    throw new StitchError(`non-finite value ${patch.data[j]} at canvas pixel (${y}, ${x}) band ${j % C} of slice rows ${y0}:${y0 + patch.height} cols ${x0}:${x0 + pw} (nanPolicy 'raise')`);
  }

  /**
   * sums / weight over the rectangle (clipped to the canvas); null if no block touched.
   * `out` (optional): an h x w x bands raster of the stitcher's dtype to fill instead of
   * allocating one (a streaming writer hands back the previous block).
   */
  finalizeBlock(y0: number, x0: number, h: number, w: number, out?: Raster): Raster | null {
    return this.#region(y0, x0, h, w, true, false, out);
  }

  #region(y0: number, x0: number, h: number, w: number, nullIfEmpty: boolean, weightOnly: boolean, reuse?: Raster): Raster | null {
    if (![y0, x0, h, w].every(Number.isInteger) || h < 0 || w < 0) {
      throw new StitchError(`region (${y0}, ${x0}, ${h}, ${w}) must be integers with h, w >= 0`);
    }
    const [H, W, C] = this.shape, bs = this.blocksize, E = this.#E, oc = weightOnly ? 1 : C;
    const store = this.#store, nbx = this.#nbx;
    const cy0 = y0 > 0 ? y0 : 0, cy1 = y0 + h < H ? y0 + h : H, cx0 = x0 > 0 ? x0 : 0, cx1 = x0 + w < W ? x0 + w : W;
    // uninitialised output when every pixel will be written (region inside the canvas, all its blocks exist)
    let full = cy0 === y0 && cx0 === x0 && cy1 === y0 + h && cx1 === x0 + w;
    for (let by = Math.floor(cy0 / bs); full && by * bs < cy1; by++) {
      for (let bx = Math.floor(cx0 / bs); bx * bs < cx1; bx++) if (!store.has(by * nbx + bx)) { full = false; break; }
    }
    const n = h * w * oc;
    const fits = reuse !== undefined && reuse.dtype === this.dtype && reuse.height === h && reuse.width === w && reuse.bands === oc;
    let od: Float32Array | Float64Array;
    if (fits) {
      od = reuse.data as Float32Array | Float64Array;
      if (!full) od.fill(weightOnly ? 0 : NaN);
    } else {
      od = full
        ? new (this.dtype === 'float64' ? Float64Array : Float32Array)(Buffer.allocUnsafeSlow(n * E).buffer, 0, n)
        : new (this.dtype === 'float64' ? Float64Array : Float32Array)(n).fill(weightOnly ? 0 : NaN);
    }
    const out = fits ? reuse : new Raster(od, [h, w, oc]);
    let any = false;
    for (let by = Math.floor(cy0 / bs); by * bs < cy1; by++) {
      const ry0 = by * bs > cy0 ? by * bs : cy0, ry1 = (by + 1) * bs < cy1 ? (by + 1) * bs : cy1, rows = ry1 - ry0;
      for (let bx = Math.floor(cx0 / bs); bx * bs < cx1; bx++) {
        const key = by * nbx + bx;
        if (!store.has(key)) continue;
        store.pin(key);
        try {
          const slot = store.get(key, false, false)!, a = slot.arena;
          any = true;
          const rx0 = bx * bs > cx0 ? bx * bs : cx0, rx1 = (bx + 1) * bs < cx1 ? (bx + 1) * bs : cx1, npix = rx1 - rx0;
          const bi = (ry0 - by * bs) * bs + (rx0 - bx * bs);
          const u = this.#uniform.get(key) ?? NaN;
          let wOff = slot.off + bs * bs * C * E + bi * E, wStride = bs * E;
          let sv: Float32Array | Float64Array, step: number, srcRow: number;
          if (store.isWide(key)) {
            if (weightOnly) {
              // a wide block: the largest of the band weights (a pixel counts where any band has weight)
              const wv = a.view(slot.off + bs * bs * C * E, bs * bs * C);
              for (let r = 0, oi = (ry0 - y0) * w + (rx0 - x0); r < rows; r++, oi += w) {
                for (let p = 0, j = (bi + r * bs) * C; p < npix; p++) {
                  let m = wv[j++];
                  for (let c = 1; c < C; c++, j++) if (wv[j] > m) m = wv[j];
                  od[oi + p] = m;
                }
              }
              continue;
            }
            // fin over rows of npix * C values, each divided by its own weight
            const scr = a.scratch(rows * npix * C * E);
            a.k.fin(scr, npix * C * E, slot.off + bi * C * E, bs * C * E, slot.off + bs * bs * C * E + bi * C * E, bs * C * E, rows, npix * C, 1);
            sv = a.view(scr, rows * npix * C);
            step = npix * C; srcRow = npix * C;
          } else if (weightOnly && u === u) {
            for (let r = 0, oi = (ry0 - y0) * w + (rx0 - x0); r < rows; r++, oi += w) od.fill(u, oi, oi + npix);
            continue;
          } else if (weightOnly) {
            sv = a.view(wOff, (rows - 1) * bs + npix);
            step = npix; srcRow = bs;
          } else {
            const outBytes = rows * npix * C * E;
            const scr = a.scratch(outBytes + 16 + npix * E);
            if (u === u) {
              // a uniform block: one row of its weight, read for every row (stride 0)
              wOff = (scr + outBytes + 15) & ~15; wStride = 0;
              a.view(wOff, npix).fill(u);
            }
            // fin: sums / weight, NaN where the weight is 0
            a.k.fin(scr, npix * C * E, slot.off + bi * C * E, bs * C * E, wOff, wStride, rows, npix, C);
            sv = a.view(scr, rows * npix * C);
            step = npix * C; srcRow = npix * C;
          }
          let oi = ((ry0 - y0) * w + (rx0 - x0)) * oc;
          if (npix === w && srcRow === step) od.set(sv, oi);
          else for (let r = 0, si = 0; r < rows; r++, si += srcRow, oi += w * oc) od.set(sv.subarray(si, si + step), oi);
        } finally {
          store.unpinAll();
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

  /** Total weight per pixel (HxWx1) over `spaceSlice` or the whole canvas (where bands have weights of their own: the largest). */
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

  /**
   * Finished blocks of `tile` x `tile` pixels (default: the blocksize) in row-major order,
   * one at a time (edge blocks are cropped to the canvas; raster null = untouched).
   */
  *blocks(tile = this.blocksize): Generator<FinishedBlock> {
    const [H, W] = this.shape;
    for (let y0 = 0; y0 < H; y0 += tile) {
      for (let x0 = 0; x0 < W; x0 += tile) {
        const height = Math.min(tile, H - y0), width = Math.min(tile, W - x0);
        yield { y0, x0, height, width, raster: this.finalizeBlock(y0, x0, height, width) };
      }
    }
  }

  /**
   * Statistics of the finished values (sums / weight, rounded to the dtype as `finalize` does) that are
   * not NaN, over the whole canvas, computed block by block without building rasters:
   * `{min, max, sum, valid}` (min Infinity and max -Infinity when nothing is valid).
   * `fullBlocks` (optional): receives the key (blockRow * blocksPerRow + blockCol) of each block
   * whose every value is valid (so every pixel of it is covered), for callers tracing coverage.
   */
  finalizedStats(fullBlocks?: Set<number>): { min: number; max: number; sum: number; valid: number } {
    const [H, W, C] = this.shape, bs = this.blocksize, E = this.#E, store = this.#store;
    let min = Infinity, max = -Infinity, sum = 0, valid = 0;
    for (const key of store.keys()) {
      const by = Math.floor(key / this.#nbx), bx = key % this.#nbx;
      const rows = Math.min(bs, H - by * bs), npix = Math.min(bs, W - bx * bs);
      store.pin(key);
      try {
        const slot = store.get(key, false, false)!, a = slot.arena;
        const out = a.scratch(32 + npix * E), u = this.#uniform.get(key) ?? NaN;
        if (u === u) a.view(out + 32, npix).fill(u); // a uniform block: one weight row, stride 0
        // finstats: min, max, sum and count of sums / weight where that is not NaN
        if (store.isWide(key)) a.k.finstats(slot.off, bs * C * E, slot.off + bs * bs * C * E, bs * C * E, rows, npix * C, 1, out);
        else a.k.finstats(slot.off, bs * C * E, u === u ? out + 32 : slot.off + bs * bs * C * E, u === u ? 0 : bs * E, rows, npix, C, out);
        const r = new Float64Array(a.memory.buffer, out, 4);
        if (r[0] < min) min = r[0];
        if (r[1] > max) max = r[1];
        sum += r[2];
        valid += r[3];
        if (fullBlocks && r[3] === rows * npix * C) fullBlocks.add(key);
      } finally {
        store.unpinAll();
      }
    }
    return { min, max, sum, valid };
  }

  /** [blockRow, blockCol] of every allocated block. */
  *touchedBlocks(): Iterable<[number, number]> {
    for (const k of this.#store.keys()) yield [Math.floor(k / this.#nbx), k % this.#nbx];
  }

  /**
   * Sample index of the first NaN or ±Inf in `data`, or -1. Data of the
   * stitcher's dtype is scanned by the SIMD kernel in the arena's scratch
   * (four times faster than a JS loop, which scans other data).
   */
  firstNonFinite(data: Float32Array | Float64Array): number {
    const E = this.#E;
    if (data.BYTES_PER_ELEMENT !== E) {
      for (let i = 0; i < data.length; i++) if (data[i] - data[i] !== 0) return i;
      return -1;
    }
    const a = this.#store.scratchArena();
    const chunk = Math.floor(a.reserve / E / 16) * 16;
    for (let o = 0; o < data.length; o += chunk) {
      const n = Math.min(chunk, data.length - o);
      const scr = a.scratch(n * E);
      a.view(scr, n).set(data.subarray(o, o + n));
      // firstbad: the SIMD scan of this chunk, copied into the scratch
      const i = a.k.firstbad(scr, 0, 1, n);
      if (i >= 0) return o + i;
    }
    return -1;
  }

  /** Add another stitcher's sums and weights (same shape and blocksize; dtypes may differ). */
  merge(other: Stitcher): void {
    if (other === this) throw new StitchError('cannot merge a stitcher into itself');
    if (other.shape.join() !== this.shape.join() || other.blocksize !== this.blocksize) {
      throw new StitchError(`cannot merge stitcher of shape [${other.shape}] (blocksize ${other.blocksize}) into [${this.shape}] (blocksize ${this.blocksize})`);
    }
    const os = other.#store, store = this.#store;
    for (const key of os.keys()) {
      store.pin(key);
      os.pin(key);
      try {
        const created = !store.has(key);
        let slot = store.get(key, true)!, o = os.get(key, false, false)!;
        // whole slots are added, so both blocks need their weight planes, and the same number of them
        if (!created && this.#uniform.has(key)) this.#materialize(slot, key);
        if (other.#uniform.has(key)) other.#materialize(o, key);
        if (o.wide && !slot.wide) slot = this.#widen(slot, key);
        if (slot.wide && !o.wide) o = other.#widen(o, key);
        if (slot.wide) {
          // wide blocks are rare: a plain loop
          const d = slot.arena.view(slot.off, store.wideElems), sv = o.arena.view(o.off, store.wideElems);
          for (let j = 0; j < d.length; j++) d[j] += sv[j];
          continue;
        }
        const a = slot.arena, n = store.slotElems;
        const scr = a.scratch(store.slotBytes);
        a.view(scr, n).set(o.arena.view(o.off, n));
        // acc with weight 1 over the slot as one run: sums and weights alike
        a.k.acc(slot.off, 0, scr, 0, 1, n, 1);
      } finally {
        store.unpinAll();
        os.unpinAll();
      }
    }
  }

  /**
   * Release all blocks and remove the memmap file. Idempotent; the stitcher cannot be used afterwards.
   * The block memory (up to 512 MiB in total) is kept for the next Stitcher of this process, which then
   * skips the operating system's page zeroing; {@link Stitcher.releasePooledMemory} gives it back.
   */
  dispose(): void {
    this.#store.dispose();
    this.#uniform.clear();
  }

  /** Drop the block memory kept from disposed stitchers (see {@link dispose}). */
  static releasePooledMemory(): void {
    releasePooledMemory();
  }
}
