/**
 * One COG from many region jobs (issue 14): each job writes its region's
 * compressed tiles to a part file (writeCogPart), and assembly copies them
 * into GDAL's COG layout (assembleCogFromParts), byte for byte the file
 * writeCog would write from the whole image with the same options.
 *
 * A region makes the full resolution and the overview levels whose tiles
 * lie inside it (./region-grid.ts); assembly makes the coarser levels,
 * which are small, from the coarsest level the regions made, the same way
 * writeCog makes them. The part format is in ./region-part-format.ts.
 */
import { DTYPES, allocate, type Dtype, type TypedArray } from '../../array/dtypes.ts';
import { InternalError } from '../../array/errors.ts';
import { checkAllocation } from '../../array/memory-budget.ts';
import type { Raster } from '../../array/raster.ts';
import { withAtomicFile } from '../atomic.ts';
import { forEachLimit } from '../concurrency.ts';
import { FormatError, IoError, WriterOptionError } from '../errors.ts';
import { createTileDecoder, type TileDecode } from '../tiff-read/tile-decoder.ts';
import { layoutCog, type LevelLayoutInput } from './cog-layout.ts';
import { COMPRESSION_CODES } from './compress.ts';
import { backpressure, chainOverviews, createLevelContext, encodeLevels, layoutInput, spillSinkFor, tileBytesOf, type OverviewChain } from './encode-levels.ts';
import { writeAll } from './level-sink.ts';
import { copyRuns, PartFiles, readRun, type PartRun } from './part-copy.ts';
import { checkSource, type BlockSource, type CogPlan, type WriteCogOptions } from './options.ts';
import { checkGrid, checkRegion, fullLevels, gridPlan, partFingerprint, regionLevels, regionLocalLevels, regionPlan, type CogRegion, type CogRegionGrid } from './region-grid.ts';
import { PartHead, readPartIndex, regionName, type PartIndex } from './region-part-format.ts';

export type { CogRegion, CogRegionGrid } from './region-grid.ts';
export { gridRegions, regionOverviewLevels } from './region-grid.ts';

/** Part heads read at once. */
const HEADS_IN_FLIGHT = 8;
/** Bytes read into each write of the assembled file (two such buffers). */
const COPY_BUFFER_BYTES = 4 << 20;

/**
 * Writes one region's part: its compressed full-resolution tiles and the
 * tiles of the overview levels it makes itself, for `source` (the region's
 * clipped size; blocks addressed relative to its origin; null blocks stay
 * sparse). `options` are those the whole COG is written with. Atomic.
 */
export async function writeCogPart(path: string, source: Raster | BlockSource, region: CogRegion, options: WriteCogOptions = {}): Promise<void> {
  const src = checkSource(source);
  const plan = gridPlan(region, src.bands, src.dtype, options);
  const pos = checkRegion(region, plan.blocksize);
  if (src.width !== pos.width || src.height !== pos.height) {
    throw new WriterOptionError(`the source is ${src.width} x ${src.height} pixels, but ${regionName(region.x, region.y, pos.col, pos.row)} of a ` +
      `${region.fullWidth} x ${region.fullHeight} image in regions of ${region.regionSize} is ${pos.width} x ${pos.height}`);
  }
  const m = regionLocalLevels(plan, region);
  const head = new PartHead(partFingerprint(plan, region), region, regionLevels(plan, m, pos.width, pos.height), plan.blocksize);
  await withAtomicFile(path, (fh) => encodeLevels(fh, path, src, regionPlan(plan, m, pos.width, pos.height),
    (overviews) => head.bytes + overviews.reduce((s, l) => s + l.sink.size, 0),
    async (levels) => {
      await writeAll(fh, [head.encode(levels.map((l) => l.sink.size), levels.map((l) => l.counts))], 0);
      let at = head.bytes;
      for (let i = levels.length - 1; i >= 0; i--) {
        await levels[i].sink.copyTo(fh, at);
        at += levels[i].sink.size;
      }
    }));
}

/** The parts by region, checked: every region once. */
async function readParts(parts: readonly string[], plan: CogPlan, grid: CogRegionGrid, m: number): Promise<PartIndex[]> {
  if (!Array.isArray(parts) || parts.some((p) => typeof p !== 'string')) throw new WriterOptionError(`parts must be a list of file paths, got ${String(parts)}`);
  const { across, down } = checkGrid(grid, plan.blocksize);
  let tiles = 0;
  for (const l of fullLevels(plan).slice(0, m + 1)) tiles += Math.ceil(l.width / plan.blocksize) * Math.ceil(l.height / plan.blocksize);
  // each tile's size and final offset, and the parts' own index
  checkAllocation(tiles * 24 + across * down * 256, `assembling a ${grid.fullWidth} x ${grid.fullHeight} COG from ${across * down} region parts (index of ${tiles} tiles)`);
  const fingerprint = partFingerprint(plan, grid);
  const byRegion: (PartIndex | undefined)[] = new Array(across * down);
  // several heads read at once: each is a few small reads, mostly waiting
  await forEachLimit(parts, HEADS_IN_FLIGHT, async (path) => {
    const part = await readPartIndex(path, plan, grid, m, fingerprint);
    const k = part.row * across + part.col;
    const other = byRegion[k];
    if (other) throw new FormatError(`${regionName(part.x, part.y, part.col, part.row)} has two parts: ${other.path} and ${path}`, path);
    byRegion[k] = part;
  });
  const named: string[] = [];
  let missing = 0;
  for (let k = 0; k < byRegion.length; k++) {
    if (byRegion[k]) continue;
    const col = k % across, row = Math.floor(k / across);
    if (missing++ < 5) named.push(regionName(col * grid.regionSize, row * grid.regionSize, col, row));
  }
  if (missing > 0) {
    throw new IoError(`no part for ${missing} of the ${byRegion.length} regions: ${named.join('; ')}${missing > named.length ? '; ...' : ''}`);
  }
  return byRegion as PartIndex[];
}

/** Level `level` of the whole image, its tiles in COG order (row-major over the image), from the parts' indexes. */
function mergedLevel(parts: readonly PartIndex[], across: number, level: number, size: { width: number; height: number }): LevelLayoutInput {
  const offsets: number[] = [];
  const counts: number[] = [];
  let bytes = 0;
  for (let r0 = 0; r0 < parts.length; r0 += across) {
    const rowParts = parts.slice(r0, r0 + across).map((p) => p.levels[level]);
    for (let ty = 0; ty < rowParts[0].tilesDown; ty++) {
      for (const l of rowParts) {
        for (let tx = 0, i = ty * l.tilesAcross; tx < l.tilesAcross; tx++, i++) {
          const c = l.counts[i];
          counts.push(c);
          offsets.push(c > 0 ? bytes + 4 : -1);
          if (c > 0) bytes += c + 8;
        }
      }
    }
  }
  return { width: size.width, height: size.height, offsets, counts, dataBytes: bytes };
}

/** Level `level`'s runs of part bytes in COG order: each tile row of each region, along each row of regions. */
function* levelRuns(parts: readonly PartIndex[], across: number, level: number): Generator<PartRun> {
  for (let r0 = 0; r0 < parts.length; r0 += across) {
    const row = parts.slice(r0, r0 + across);
    for (let ty = 0; ty < row[0].levels[level].tilesDown; ty++) {
      for (const part of row) {
        const l = part.levels[level];
        const length = l.rowStart[ty + 1] - l.rowStart[ty];
        if (length === 0) continue;
        let first = ty * l.tilesAcross;
        while (l.counts[first] === 0) first++;
        yield { part, at: l.dataAt + l.rowStart[ty], length, firstCount: l.counts[first] };
      }
    }
  }
}

/**
 * Decodes level `m` from the parts, row by row over the whole image, into
 * `chain` (the coarser levels), as writeCog's reducers get it.
 */
async function reduceFromParts(files: PartFiles, parts: readonly PartIndex[], across: number, plan: CogPlan, m: number, chain: OverviewChain): Promise<void> {
  const { blocksize: bs, bands, dtype } = plan;
  const level = fullLevels(plan)[m];
  const stride = level.width * bands;
  const sampleBytes = DTYPES[dtype].bytes;
  const pixelBytes = bands * sampleBytes;
  checkAllocation(bs * stride * sampleBytes * 2, `assembling: one ${bs}-pixel tile row of the ${level.width} x ${level.height} level ${m}, decoded`);
  const strip: TypedArray = allocate(dtype, bs * stride);
  const stripBytes = new Uint8Array(strip.buffer, strip.byteOffset, strip.byteLength);
  const fill = plan.nodata === null || plan.nodata === 0 ? 0 : plan.nodata; // a sparse tile held +0 when the fill is ±0
  const decode: TileDecode = await createTileDecoder({
    path: 'a region part', compression: COMPRESSION_CODES[plan.compress], predictor: plan.predictor, tileWidth: bs, tileHeight: bs,
    bitsPerSample: new Array(bands).fill(sampleBytes * 8), planarConfiguration: 1, littleEndian: true,
  });
  const tileBytes = tileBytesOf(plan);
  let y0 = 0;
  for (let r0 = 0; r0 < parts.length; r0 += across) {
    const row = parts.slice(r0, r0 + across);
    for (let ty = 0; ty < row[0].levels[m].tilesDown; ty++) {
      const h = Math.min(bs, level.height - y0);
      let x0 = 0;
      for (let i = 0; i < row.length; i++) {
        const part = row[i];
        const l = part.levels[m];
        const runLength = l.rowStart[ty + 1] - l.rowStart[ty];
        const run = new Uint8Array(runLength);
        await readRun(await files.get(part), part, run, 0, runLength, l.dataAt + l.rowStart[ty]);
        const jobs: Promise<void>[] = [];
        let off = 0;
        for (let tx = 0; tx < l.tilesAcross; tx++) {
          const gx = x0 + tx * bs;
          const w = Math.min(bs, level.width - gx);
          const count = l.counts[ty * l.tilesAcross + tx];
          if (count === 0) {
            for (let y = 0; y < h; y++) strip.fill(fill, y * stride + gx * bands, y * stride + (gx + w) * bands);
            continue;
          }
          const leader = new DataView(run.buffer, off, 4).getUint32(0, true);
          if (leader !== count) throw new FormatError(`${part.path}: tile ${tx}, ${ty} of level ${m} has size leader ${leader}, its index says ${count}`, part.path);
          const data = run.subarray(off + 4, off + 4 + count);
          off += count + 8;
          jobs.push(decode(data).then((raw) => {
            if (raw.length < tileBytes) throw new FormatError(`${part.path}: tile ${tx}, ${ty} of level ${m} decodes to ${raw.length} bytes, expected ${tileBytes}`, part.path);
            for (let y = 0; y < h; y++) stripBytes.set(raw.subarray(y * bs * pixelBytes, (y * bs + w) * pixelBytes), (y * stride + gx * bands) * sampleBytes);
          }, (err: unknown) => {
            if (err instanceof FormatError && err.path === part.path) throw err;
            throw new FormatError(`${part.path}: tile ${tx}, ${ty} of level ${m} does not decode: ${(err as Error)?.message ?? err}`, part.path, { cause: err });
          }));
        }
        await Promise.all(jobs);
        x0 += l.width;
      }
      for (let y = 0; y < h; y++) chain.first!.pushRow(strip, y * stride);
      await backpressure(chain.writers);
      y0 += h;
    }
    await files.closeRetired();
  }
}

/**
 * Assembles the COG at `path` from the region parts (any order) by copying
 * their compressed tiles into GDAL's COG layout; the levels coarser than
 * the regions made are made here from the coarsest one they made (decoding
 * only that level). Every region of `grid` must have exactly one part,
 * written for this grid and these options (georeferencing and metadata
 * apart, which are taken from `options` here). Atomic.
 */
export async function assembleCogFromParts(path: string, parts: string[], grid: CogRegionGrid, bands: number, dtype: Dtype, options: WriteCogOptions = {}): Promise<void> {
  const plan = gridPlan(grid, bands, dtype, options);
  const { across } = checkGrid(grid, plan.blocksize);
  const m = regionLocalLevels(plan, grid);
  const byRegion = await readParts(parts, plan, grid, m);
  const levels = fullLevels(plan);
  const merged = levels.slice(0, m + 1).map((l, i) => mergedLevel(byRegion, across, i, l));
  await withAtomicFile(path, async (fh) => {
    let chain: OverviewChain | null = null;
    const files = new PartFiles();
    try {
      if (m < plan.overviews.length) {
        const ctx = await createLevelContext(plan, 0);
        chain = chainOverviews(ctx, plan.overviews.slice(m), levels[m].width, spillSinkFor(path));
        await reduceFromParts(files, byRegion, across, plan, m, chain);
        await chain.finish();
      }
      const coarse = chain?.writers ?? [];
      const laid = layoutCog(plan, [...merged, ...coarse.map(layoutInput)], path);
      await writeAll(fh, laid.head, 0);
      for (let i = coarse.length - 1; i >= 0; i--) await coarse[i].sink.copyTo(fh, laid.dataAt[m + 1 + i]);
      // the region-made levels follow each other in the file: one copy
      const runs = function* () { for (let i = m; i >= 0; i--) yield* levelRuns(byRegion, across, i); };
      const n = await copyRuns(fh, files, runs(), laid.dataAt[m], COPY_BUFFER_BYTES);
      if (laid.dataAt[m] + n !== laid.totalBytes) throw new InternalError(`${path}: copied ${n} bytes of region-made levels from ${laid.dataAt[m]}, the file ends at ${laid.totalBytes}`);
    } finally {
      await files.closeAll();
      if (chain) {
        await Promise.allSettled(chain.writers.map((l) => l.done()));
        await Promise.all(chain.writers.map((l) => l.sink.dispose()));
      }
    }
  });
}
