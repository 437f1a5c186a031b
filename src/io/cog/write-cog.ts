/**
 * writeCog: our Cloud Optimized GeoTIFF writer, in GDAL's COG layout
 * (ghost header, all IFDs first, tile data from the smallest overview to the
 * full resolution, each tile framed by a size leader and a 4-byte trailer).
 *
 * Streaming: the full-resolution tiles are read and compressed in one pass,
 * in row-major order; each tile row also feeds the first overview level row
 * by row, which feeds the next, so every level is built while the source is
 * read once and memory holds about one tile row per level (plus compressed
 * tiles until 1 MiB per level, spilled to temporary files beside the target
 * past that). Once every compressed size is known, the header and IFDs are
 * written and each level's bytes copied after them. Nothing ever holds an
 * uncompressed full-size copy of a block source.
 *
 * A Raster, already in memory, is read twice instead: its overviews are
 * built and compressed first, which fixes where the full resolution starts
 * in the file, and the full-resolution tiles are then written straight
 * there (not spilled and copied; for files that could pass 4 GiB only when
 * BigTIFF is asked for). The bytes are the same either way.
 *
 * @example
 * await writeCog('out.tif', Raster.zeros([512, 512, 3], 'uint8'), { overviews: 2, epsg: 32631,
 *   transform: Affine.fromGdal([500000, 10, 0, 4600000, 0, -10]), nodata: 0 });
 */
import type { FileHandle } from 'node:fs/promises';
import { DTYPES, type TypedArray } from '../../array/dtypes.ts';
import { DtypeError, ShapeError } from '../../array/errors.ts';
import { Raster } from '../../array/raster.ts';
import { withAtomicFile, tempPathFor } from '../atomic.ts';
import { BufferPool } from './buffer-pool.ts';
import { createCompressor } from './compress.ts';
import { Limiter } from '../concurrency.ts';
import { fullResolutionOffset, layoutCog, type LevelLayoutInput } from './cog-layout.ts';
import { LevelSink, writeAll } from './level-sink.ts';
import { LevelWriter } from './level-writer.ts';
import { checkSource, resolveOptions, type BlockSource, type CogPlan, type WriteCogOptions } from './options.ts';
import { RowReducer } from './overviews.ts';
import { InternalError } from '../../array/errors.ts';

/** Options and block-source types of {@link writeCog}. */
export type { WriteCogOptions, BlockSource } from './options.ts';

/**
 * Compressed tiles kept in memory per level before spilling to a temporary
 * file (spilled tiles go out one 1 MiB slab at a time, so spilling is cheap).
 */
const SINK_MEMORY_LIMIT = 1 << 20;
/** Rasters from this size up have LZW and ZSTD tiles compressed on worker threads (smaller ones would wait on their start). */
const WORKER_MIN_BYTES = 4 << 20;
/**
 * Tiles compressing at once: two per thread of libuv's pool, which runs
 * them, so no thread idles between tiles and few raw tiles exist at once.
 */
const MAX_IN_FLIGHT = 2 * (Number(process.env.UV_THREADPOOL_SIZE) || 4);

/**
 * Writes `source` (an HWC Raster, or a BlockSource read block by block in
 * row-major order) to `path` as a Cloud Optimized GeoTIFF. Resolves when the
 * file is complete on disk; on any failure no file (and no temporary file)
 * is left. Bad options throw WriterOptionError; a block of the wrong shape or
 * dtype ShapeError / DtypeError; file system failures IoError naming `path`.
 */
export async function writeCog(path: string, source: Raster | BlockSource, options: WriteCogOptions = {}): Promise<void> {
  const src = checkSource(source);
  const { height, width, bands, dtype } = src;
  const plan = resolveOptions(options, { height, width, bands, dtype });
  const tileBytes = plan.blocksize * plan.blocksize * bands * DTYPES[dtype].bytes;
  const sampleBytes = DTYPES[dtype].bytes;
  const horizontal = plan.predictor === 2 && sampleBytes <= 4 ? { sampleBytes, width: plan.blocksize, spp: bands } : null;
  const threads = height * width * bands * sampleBytes >= WORKER_MIN_BYTES;
  const compressor = await createCompressor(plan.compress, plan.level, plan.deflateEngine, tileBytes, horizontal, threads);
  const ctx = { plan, limiter: new Limiter(MAX_IN_FLIGHT), compressor, tiles: new BufferPool(tileBytes) };

  await withAtomicFile(path, async (fh) => {
    const spillSink = () => new LevelSink(() => tempPathFor(path), SINK_MEMORY_LIMIT);
    const overviews = plan.overviews.map((s) => new LevelWriter(ctx, s.width, s.height, spillSink()));
    // reducer i makes overview i from the level before it (the full resolution for i = 0)
    const reducers = plan.overviews.map((ov, i) => {
      const r = new RowReducer(i === 0 ? width : overviews[i - 1].width, bands, dtype, ov.k, plan.resample, plan.nodata, (row) => overviews[i].pushRow(row, 0));
      if (i > 0) overviews[i - 1].next = r;
      return r;
    });
    const levels: LevelWriter[] = [...overviews];
    const finishOverviews = async () => {
      for (const r of reducers) r.finish();
      overviews.forEach((l, i) => {
        if (l.rowsIn !== l.height) throw new InternalError(`overview ${i + 1} got ${l.rowsIn} rows, expected ${l.height}`);
      });
      for (const l of overviews) await l.done();
    };
    try {
      let main: LevelWriter;
      if (src instanceof Raster) {
        // in memory: the overviews first, so that the full resolution's
        // place in the file is known and its tiles go straight there
        await reduceRaster(src, reducers[0] ?? null, overviews, plan.blocksize);
        await finishOverviews();
        const at = fullResolutionOffset(plan, { width, height }, tileBytes, overviews.map(layoutInput), path);
        main = new LevelWriter(ctx, width, height, at === null ? spillSink() : LevelSink.inPlace(fh, at));
        levels.unshift(main);
        await encodeRaster(src, main, plan.blocksize);
      } else {
        main = new LevelWriter(ctx, width, height, spillSink());
        main.next = reducers[0] ?? null;
        levels.unshift(main);
        await encodeBlocks(src, [main, ...overviews], plan);
        await finishOverviews();
      }
      await main.done();
      await assemble(fh, path, plan, levels);
    } finally {
      await Promise.allSettled(levels.map((l) => l.done()));
      await Promise.all(levels.map((l) => l.sink.dispose()));
    }
  });
}

const layoutInput = (l: LevelWriter): LevelLayoutInput => ({ width: l.width, height: l.height, offsets: l.offsets, counts: l.counts, dataBytes: l.sink.size });

async function backpressure(levels: LevelWriter[]): Promise<void> {
  for (const l of levels) await l.submitted;
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

/** Writes header, IFDs and every level's data (smallest level first) into `fh`. */
async function assemble(fh: FileHandle, path: string, plan: CogPlan, levels: LevelWriter[]): Promise<void> {
  const laid = layoutCog(plan, levels.map(layoutInput), path);
  await writeAll(fh, laid.head, 0);
  for (let i = levels.length - 1; i >= 0; i--) await levels[i].sink.copyTo(fh, laid.dataAt[i]);
}
