/**
 * One resolution level of the COG being written: cuts rows into full-size
 * tiles (edge tiles zero-padded, as TIFF wants), decides which are sparse,
 * applies the predictor, hands them to the bounded compression pool and
 * appends the results, in row-major order, to the level's sink.
 * Overview levels receive their rows one at a time from a RowReducer and
 * keep only one tile row of them.
 */
import { allocate, DTYPES, type TypedArray } from '../../array/dtypes.ts';
import { checkAllocation } from '../../array/memory-budget.ts';
import type { BufferPool } from './buffer-pool.ts';
import type { TileCompressor } from './compress.ts';
import type { Limiter } from '../concurrency.ts';
import type { LevelSink } from './level-sink.ts';
import type { CogPlan } from './options.ts';
import type { RowReducer } from './overviews.ts';
import { applyFloatingPoint, applyHorizontal } from './predictor-encode.ts';

/** What every level of one file shares. */
export interface LevelContext {
  readonly plan: CogPlan;
  readonly limiter: Limiter;
  readonly compressor: TileCompressor;
  /** buffers of one raw tile's bytes, reused once a tile is compressed */
  readonly tiles: BufferPool;
}

const bytesOf = (a: TypedArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** True when every sample of the h x rowSamples region is `fill` (NaN matches NaN; 0 does not match -0). */
function isAllFill(src: TypedArray, offset: number, stride: number, h: number, rowSamples: number, fill: number): boolean {
  if (fill !== fill) {
    for (let y = 0; y < h; y++) {
      for (let i = offset + y * stride, end = i + rowSamples; i < end; i++) if (src[i] === src[i]) return false;
    }
  } else if (fill === 0) {
    for (let y = 0; y < h; y++) {
      for (let i = offset + y * stride, end = i + rowSamples; i < end; i++) {
        const v = src[i];
        if (v !== 0 || 1 / v < 0) return false;
      }
    }
  } else {
    for (let y = 0; y < h; y++) {
      for (let i = offset + y * stride, end = i + rowSamples; i < end; i++) if (src[i] !== fill) return false;
    }
  }
  return true;
}

/** Compressed tile rows that may wait for storage before the source is paused. */
const MAX_ROWS_UNSTORED = 2;

/** Tiles one level: cut, predict, compress (bounded), store in row-major order. */
export class LevelWriter {
  readonly tilesAcross: number;
  readonly tilesDown: number;
  /** offset of each tile's data within the level's bytes (-1 = sparse) */
  readonly offsets: number[];
  /** compressed size of each tile (0 = sparse) */
  readonly counts: number[];
  /** the next smaller level's reducer, fed with this level's rows */
  next: RowReducer | null = null;

  readonly #ctx: LevelContext;
  readonly #sampleBytes: number;
  readonly #fill: number;
  readonly #scratch: Uint8Array;
  #strip: TypedArray | null = null;
  #stripRows = 0;
  #rowsIn = 0;
  #nextTileRow = 0;
  #submitted: Promise<void> = Promise.resolve();
  #appended: Promise<void> = Promise.resolve();
  /** tile rows whose tiles are all in the sink */
  #rowsStored = 0;
  /** the first compression or storage failure, reported at the next backpressure point */
  #failure: { error: unknown } | null = null;

  constructor(ctx: LevelContext, readonly width: number, readonly height: number, readonly sink: LevelSink) {
    this.#ctx = ctx;
    const { blocksize: bs, bands, dtype, nodata } = ctx.plan;
    this.tilesAcross = Math.ceil(width / bs);
    this.tilesDown = Math.ceil(height / bs);
    const n = this.tilesAcross * this.tilesDown;
    // the tile index and one row of tiles are what a level holds at once, however sparse the source
    checkAllocation(n * 16 + bs * Math.ceil(width / bs) * bs * bands * DTYPES[dtype].bytes,
      `writing a ${width} x ${height} x ${bands} ${dtype} COG level (its tile index and one row of ${bs}-pixel tiles)`);
    this.offsets = new Array<number>(n).fill(-1);
    this.counts = new Array<number>(n).fill(0);
    this.#sampleBytes = DTYPES[dtype].bytes;
    this.#fill = nodata ?? 0;
    this.#scratch = new Uint8Array(bs * bands * this.#sampleBytes);
  }

  /**
   * Resolves once every tile row handed over so far is being compressed
   * (backpressure); rejects as soon as a tile failed to compress or store,
   * so the caller stops reading the source.
   */
  get submitted(): Promise<void> {
    return this.#submitted.then(async () => {
      // storing can be slower than compressing (a busy disk): keep at most
      // MAX_ROWS_UNSTORED compressed tile rows waiting, or they pile up in memory
      while (this.#nextTileRow - this.#rowsStored > MAX_ROWS_UNSTORED && !this.#failure) await this.#appended;
      if (this.#failure) throw this.#failure.error;
    });
  }

  /** Resolves once every tile is stored in the sink; rejects with the first failure. */
  async done(): Promise<void> {
    await this.#submitted;
    await this.#appended;
  }

  /**
   * The raw (predicted, uncompressed) tile cut from the h x w region of `src`
   * starting at sample `offset`, rows `stride` samples apart; null when it
   * is all fill and sparse tiles are on.
   */
  cutTile(src: TypedArray, offset: number, stride: number, h: number, w: number): Uint8Array | null {
    const { bands, sparse, blocksize: bs } = this.#ctx.plan;
    const rowSamples = w * bands;
    if (sparse && isAllFill(src, offset, stride, h, rowSamples, this.#fill)) return null;
    const tile = this.#ctx.tiles.acquire();
    if (h < bs || w < bs) tile.fill(0); // edge tiles are zero-padded
    const b = this.#sampleBytes;
    const bytes = bytesOf(src);
    const tileRowBytes = bs * bands * b;
    for (let y = 0; y < h; y++) {
      const s = (offset + y * stride) * b;
      tile.set(bytes.subarray(s, s + rowSamples * b), y * tileRowBytes);
    }
    return this.#predict(tile);
  }

  #predict(tile: Uint8Array): Uint8Array {
    const { predictor, blocksize: bs, bands } = this.#ctx.plan;
    if (predictor === 2) { if (!this.#ctx.compressor.predicts) applyHorizontal(tile, this.#sampleBytes, bs, bands); }
    else if (predictor === 3) applyFloatingPoint(tile, this.#sampleBytes, bs, bands, this.#scratch);
    return tile;
  }

  /** Cuts tile row `ty` from `src` (this level's full width, rows `stride` samples apart, from sample `offset`). */
  cutTileRow(src: TypedArray, offset: number, stride: number, rows: number): (Uint8Array | null)[] {
    const { blocksize: bs, bands } = this.#ctx.plan;
    const tiles: (Uint8Array | null)[] = [];
    for (let tx = 0; tx < this.tilesAcross; tx++) {
      const x0 = tx * bs;
      tiles.push(this.cutTile(src, offset + x0 * bands, stride, rows, Math.min(bs, this.width - x0)));
    }
    return tiles;
  }

  /** Hands the raw tiles of the next tile row (null = sparse) to the compression pool. */
  submitTileRow(tiles: (Uint8Array | null)[]): void {
    this.#submit((tx) => tiles[tx]);
  }

  /**
   * Hands the next tile row to the compression pool, cutting each tile from
   * `src` (as cutTileRow) only when a compression slot is free, so at most
   * the pool's limit of raw tiles exist. `src` must not change until
   * `submitted` resolves.
   */
  submitStrip(src: TypedArray, offset: number, stride: number, rows: number): void {
    const { blocksize: bs, bands } = this.#ctx.plan;
    this.#submit((tx) => this.cutTile(src, offset + tx * bs * bands, stride, rows, Math.min(bs, this.width - tx * bs)));
  }

  #submit(cut: (tx: number) => Uint8Array | null): void {
    const ty = this.#nextTileRow++;
    const { limiter, compressor, tiles: pool } = this.#ctx;
    const compress = async (raw: Uint8Array | null): Promise<Uint8Array | null> => {
      if (!raw) return null;
      const out = await compressor.compress(raw);
      if (out.buffer !== raw.buffer) pool.release(raw);
      return out;
    };
    // the store stage takes each tile as soon as it is compressed (in order),
    // not after the whole row has started, so finished tiles do not wait
    const jobs: Promise<Uint8Array | null>[] = [];
    const started: ((job: Promise<Uint8Array | null>) => void)[] = [];
    for (let tx = 0; tx < this.tilesAcross; tx++) {
      const job = new Promise<Promise<Uint8Array | null>>((resolve) => started.push(resolve)).then((j) => j);
      job.catch(() => {}); // reported by the store stage, which awaits it
      jobs.push(job);
    }
    let next = 0;
    const failRest = (error: unknown): never => {
      for (; next < started.length; next++) started[next](Promise.reject(error));
      throw error;
    };
    this.#submitted = this.#submitted.then(async () => {
      try {
        for (; next < this.tilesAcross; next++) {
          const tx = next;
          started[tx]((await limiter.start(() => compress(cut(tx)))).result);
        }
      } catch (error) {
        failRest(error);
      }
    }, failRest);
    this.#appended = this.#appended.then(async () => {
      for (let tx = 0; tx < jobs.length; tx++) {
        const data = await jobs[tx];
        if (!data) continue;
        const i = ty * this.tilesAcross + tx;
        this.offsets[i] = await this.sink.appendTile(data);
        this.counts[i] = data.length;
        compressor.release(data);
        pool.release(data); // NONE: the raw tile itself
      }
      this.#rowsStored++;
    });
    this.#appended.catch((error: unknown) => { this.#failure ??= { error }; });
    this.#submitted.catch(() => {});
  }

  /** Adds one row of this level (overview levels): `width * bands` samples of `row` from `offset`. */
  pushRow(row: TypedArray, offset: number): void {
    const { blocksize: bs, bands, dtype } = this.#ctx.plan;
    const rowSamples = this.width * bands;
    this.#strip ??= allocate(dtype, bs * rowSamples);
    this.#strip.set(row.subarray(offset, offset + rowSamples), this.#stripRows * rowSamples);
    this.#stripRows++;
    this.#rowsIn++;
    this.next?.pushRow(row, offset);
    if (this.#stripRows === bs || this.#rowsIn === this.height) {
      this.submitTileRow(this.cutTileRow(this.#strip, 0, rowSamples, this.#stripRows));
      this.#stripRows = 0;
    }
    if (this.#rowsIn === this.height) this.#strip = null;
  }

  /** Rows received through pushRow. */
  get rowsIn(): number { return this.#rowsIn; }
}
