/**
 * The one encoding pipeline behind writeCog and writeCogPart: a source's
 * full resolution and its chained overview levels compressed into level
 * sinks (tile offsets and sizes known), after which the caller lays the
 * bytes out in its own container (a COG, a region part).
 *
 * Streaming: the full-resolution tiles are read and compressed in one pass,
 * in row-major order; each tile row also feeds the first overview level row
 * by row, which feeds the next, so every level is built while the source is
 * read once and memory holds about one tile row per level (plus compressed
 * tiles until 1 MiB per level, spilled to temporary files beside the target
 * past that). Nothing ever holds an uncompressed full-size copy of a block
 * source.
 *
 * A Raster, already in memory, is read twice instead: its overviews are
 * built and compressed first, which can fix where the full resolution
 * starts in the output, and its tiles are then written straight there (not
 * spilled and copied). The bytes are the same either way.
 */
import type { FileHandle } from 'node:fs/promises';
import { DTYPES, type TypedArray } from '../../array/dtypes.ts';
import { DtypeError, InternalError, ShapeError } from '../../array/errors.ts';
import { Raster } from '../../array/raster.ts';
import { tempPathFor } from '../atomic.ts';
import { Limiter } from '../concurrency.ts';
import { BufferPool } from './buffer-pool.ts';
import type { LevelLayoutInput } from './cog-layout.ts';
import { createCompressor } from './compress.ts';
import { LevelSink } from './level-sink.ts';
import { LevelWriter, type LevelContext } from './level-writer.ts';
import type { BlockSource, CogPlan } from './options.ts';
import { RowReducer } from './overviews.ts';

/**
 * Compressed tiles kept in memory per level before spilling to a temporary
 * file (spilled tiles go out one 1 MiB slab at a time, so spilling is cheap).
 */
const SINK_MEMORY_LIMIT = 1 << 20;
/** Outputs from this many raw bytes up have LZW and ZSTD tiles compressed on worker threads (smaller ones would wait on their start). */
const WORKER_MIN_BYTES = 4 << 20;
/**
 * Tiles compressing at once: two per thread of libuv's pool, which runs
 * them, so no thread idles between tiles and few raw tiles exist at once.
 */
const MAX_IN_FLIGHT = 2 * (Number(process.env.UV_THREADPOOL_SIZE) || 4);

/** Raw bytes of one tile of `plan`. */
export const tileBytesOf = (plan: CogPlan): number => plan.blocksize * plan.blocksize * plan.bands * DTYPES[plan.dtype].bytes;

/** The compression context every level of one output shares; `rawBytes`: the pixels' bytes (decides worker threads). */
export async function createLevelContext(plan: CogPlan, rawBytes: number): Promise<LevelContext> {
  const tileBytes = tileBytesOf(plan);
  const sampleBytes = DTYPES[plan.dtype].bytes;
  const horizontal = plan.predictor === 2 && sampleBytes <= 4 ? { sampleBytes, width: plan.blocksize, spp: plan.bands } : null;
  const compressor = await createCompressor(plan.compress, plan.level, plan.deflateEngine, tileBytes, horizontal, rawBytes >= WORKER_MIN_BYTES);
  return { plan, limiter: new Limiter(MAX_IN_FLIGHT), compressor, tiles: new BufferPool(tileBytes) };
}

/** A sink spilling to temporary files beside `path`. */
export const spillSinkFor = (path: string) => (): LevelSink => new LevelSink(() => tempPathFor(path), SINK_MEMORY_LIMIT);

/** What a level contributes to a layout. */
export const layoutInput = (l: LevelWriter): LevelLayoutInput => ({ width: l.width, height: l.height, offsets: l.offsets, counts: l.counts, dataBytes: l.sink.size });

/** Overview levels chained from an input level of `inputWidth`: rows pushed to `first` come out as compressed tiles of every level. */
export interface OverviewChain {
  writers: LevelWriter[];
  /** the first reducer (null without levels) */
  first: RowReducer | null;
  /** flushes the last short row groups and waits until every tile is stored */
  finish(): Promise<void>;
}

/** Builds the chain of `sizes` (largest first, each with its factor k relative to the one before). */
export function chainOverviews(ctx: LevelContext, sizes: readonly { width: number; height: number; k: number }[], inputWidth: number,
  makeSink: () => LevelSink): OverviewChain {
  const { bands, dtype, resample, nodata } = ctx.plan;
  const writers = sizes.map((s) => new LevelWriter(ctx, s.width, s.height, makeSink()));
  // reducer i makes level i from the one before it (the input level for i = 0)
  const reducers = sizes.map((ov, i) => {
    const r = new RowReducer(i === 0 ? inputWidth : writers[i - 1].width, bands, dtype, ov.k, resample, nodata, (row) => writers[i].pushRow(row, 0));
    if (i > 0) writers[i - 1].next = r;
    return r;
  });
  return {
    writers,
    first: reducers[0] ?? null,
    async finish() {
      for (const r of reducers) r.finish();
      writers.forEach((l, i) => {
        if (l.rowsIn !== l.height) throw new InternalError(`overview ${i + 1} got ${l.rowsIn} rows, expected ${l.height}`);
      });
      for (const l of writers) await l.done();
    },
  };
}

/** Awaits every level's backpressure point. */
export async function backpressure(levels: readonly LevelWriter[]): Promise<void> {
  for (const l of levels) await l.submitted;
}

/**
 * Compresses `src` into the full resolution and `plan.overviews` and hands
 * the finished levels (index 0 = full resolution) to `write`; the levels'
 * temporary files are removed afterwards, whatever happens. For a Raster,
 * `fullResolutionAt(overviews)` may say where in `fh` the full
 * resolution's bytes go (null: spill and copy, as for block sources).
 */
export async function encodeLevels(fh: FileHandle, path: string, src: Raster | BlockSource, plan: CogPlan,
  fullResolutionAt: (overviews: readonly LevelWriter[]) => number | null, write: (levels: readonly LevelWriter[]) => Promise<void>): Promise<void> {
  const { height, width, bands, dtype } = plan;
  const ctx = await createLevelContext(plan, height * width * bands * DTYPES[dtype].bytes);
  const spillSink = spillSinkFor(path);
  const chain = chainOverviews(ctx, plan.overviews, width, spillSink);
  const levels: LevelWriter[] = [...chain.writers];
  try {
    let main: LevelWriter;
    if (src instanceof Raster) {
      // in memory: the overviews first, so that the full resolution's
      // place in the output is known and its tiles go straight there
      await reduceRaster(src, chain.first, chain.writers, plan.blocksize);
      await chain.finish();
      const at = fullResolutionAt(chain.writers);
      main = new LevelWriter(ctx, width, height, at === null ? spillSink() : LevelSink.inPlace(fh, at));
      levels.unshift(main);
      await encodeRaster(src, main, plan.blocksize);
    } else {
      main = new LevelWriter(ctx, width, height, spillSink());
      main.next = chain.first;
      levels.unshift(main);
      await encodeBlocks(src, levels, plan);
      await chain.finish();
    }
    await main.done();
    await write(levels);
  } finally {
    await Promise.allSettled(levels.map((l) => l.done()));
    await Promise.all(levels.map((l) => l.sink.dispose()));
  }
}

/** Feeds every row of `r` to the first overview's reducer (if any), pausing per tile row as the overview levels fill. */
async function reduceRaster(r: Raster, first: RowReducer | null, overviews: LevelWriter[], bs: number): Promise<void> {
  if (!first) return;
  const stride = r.width * r.bands;
  for (let y0 = 0; y0 < r.height; y0 += bs) {
    for (let y = y0, end = Math.min(y0 + bs, r.height); y < end; y++) first.pushRow(r.data, y * stride);
    await backpressure(overviews);
  }
}

async function encodeRaster(r: Raster, main: LevelWriter, bs: number): Promise<void> {
  const stride = r.width * r.bands;
  for (let ty = 0; ty < main.tilesDown; ty++) {
    const y0 = ty * bs;
    main.submitStrip(r.data, y0 * stride, stride, Math.min(bs, r.height - y0));
    await main.submitted;
  }
}

function checkBlock(block: unknown, src: BlockSource, y0: number, x0: number, h: number, w: number): Raster {
  if (!(block instanceof Raster)) {
    throw new ShapeError(`readBlock(${y0}, ${x0}, ${h}, ${w}) returned ${typeof block === 'object' ? 'a non-Raster object' : String(block)}; expected a Raster or null`);
  }
  if (block.height !== h || block.width !== w || block.bands !== src.bands) {
    throw new ShapeError(`readBlock(${y0}, ${x0}, ${h}, ${w}) returned shape [${block.shape.join(', ')}], expected [${h}, ${w}, ${src.bands}]`, block.shape);
  }
  if (block.dtype !== src.dtype) {
    throw new DtypeError(`readBlock(${y0}, ${x0}, ${h}, ${w}) returned dtype ${block.dtype}, expected the source's ${src.dtype}`);
  }
  return block;
}

async function encodeBlocks(src: BlockSource, levels: LevelWriter[], plan: CogPlan): Promise<void> {
  const main = levels[0];
  const { blocksize: bs, bands, dtype } = plan;
  const stride = src.width * bands;
  const fill = plan.nodata ?? 0;
  // one tile row of the source: tiles are cut from it as compression slots
  // free up, and overview rows come from it; an absent block is fill (a sparse tile)
  const strip: TypedArray = new (DTYPES[dtype].ctor)(bs * stride);
  for (let ty = 0; ty < main.tilesDown; ty++) {
    const y0 = ty * bs;
    const h = Math.min(bs, src.height - y0);
    for (let tx = 0; tx < main.tilesAcross; tx++) {
      const x0 = tx * bs;
      const w = Math.min(bs, src.width - x0);
      const got = await src.readBlock(y0, x0, h, w);
      if (got === null || got === undefined) {
        for (let y = 0; y < h; y++) strip.fill(fill, y * stride + x0 * bands, y * stride + (x0 + w) * bands);
        continue;
      }
      const block = checkBlock(got, src, y0, x0, h, w);
      const rowSamples = w * bands;
      for (let y = 0; y < h; y++) strip.set(block.data.subarray(y * rowSamples, (y + 1) * rowSamples), y * stride + x0 * bands);
    }
    main.submitStrip(strip, 0, stride, h);
    if (main.next) for (let y = 0; y < h; y++) main.next.pushRow(strip, y * stride);
    await backpressure(levels);
  }
}
