/**
 * writeCog: our Cloud Optimized GeoTIFF writer, in GDAL's COG layout
 * (ghost header, all IFDs first, tile data from the smallest overview to the
 * full resolution, each tile framed by a size leader and a 4-byte trailer).
 *
 * The levels are compressed by ./encode-levels.ts (streamed, one tile row
 * per level in memory); once every compressed size is known, the header and
 * IFDs are written and each level's bytes copied after them. A Raster's
 * full resolution goes straight to its place in the file when that is known
 * early (for files that could pass 4 GiB only when BigTIFF is asked for).
 *
 * @example
 * await writeCog('out.tif', Raster.zeros([512, 512, 3], 'uint8'), { overviews: 2, epsg: 32631,
 *   transform: Affine.fromGdal([500000, 10, 0, 4600000, 0, -10]), nodata: 0 });
 */
import type { FileHandle } from 'node:fs/promises';
import type { Raster } from '../../array/raster.ts';
import { withAtomicFile } from '../atomic.ts';
import { fullResolutionOffset, layoutCog } from './cog-layout.ts';
import { encodeLevels, layoutInput, tileBytesOf } from './encode-levels.ts';
import { writeAll } from './level-sink.ts';
import type { LevelWriter } from './level-writer.ts';
import { checkSource, resolveOptions, type BlockSource, type CogPlan, type WriteCogOptions } from './options.ts';

/** Options and block-source types of {@link writeCog}. */
export type { WriteCogOptions, BlockSource } from './options.ts';

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
  const tileBytes = tileBytesOf(plan);
  await withAtomicFile(path, (fh) => encodeLevels(fh, path, src, plan,
    (overviews) => fullResolutionOffset(plan, { width, height }, tileBytes, overviews.map(layoutInput), path),
    (levels) => assemble(fh, path, plan, levels)));
}

/** Writes header, IFDs and every level's data (smallest level first) into `fh`. */
async function assemble(fh: FileHandle, path: string, plan: CogPlan, levels: readonly LevelWriter[]): Promise<void> {
  const laid = layoutCog(plan, levels.map(layoutInput), path);
  await writeAll(fh, laid.head, 0);
  for (let i = levels.length - 1; i >= 0; i--) await levels[i].sink.copyTo(fh, laid.dataAt[i]);
}
