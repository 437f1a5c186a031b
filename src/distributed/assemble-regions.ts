/**
 * The coordinator's side of `--shard region:SIZE`: once every region of an
 * image is done, its COG is assembled from the regions' part files (copying
 * compressed tiles, io/cog/region-part.ts) and its manifest entry is built
 * as a single process builds it: the regions' entries agree on everything
 * (file name, quantization, sizes) but `prediction_region`, which is joined
 * from their coverage (a shape cut by a border is one polygon).
 */
import { isDeepStrictEqual } from 'node:util';
import { access, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Quantization } from '../coco/quantization.ts';
import { assembleCogFromParts } from '../io/cog/region-part.ts';
import { cogOptionsFromJson, joinRegionCoverage, regionPartsDir, type RegionReport } from '../stitch/region-parts.ts';
import { JOB_FORMAT, type ShardJobData, type ShardResult } from './job-data.ts';
import { DistributedError } from './errors.ts';

/** A planned region job and its result (null: not done). */
export interface RegionJob { id: string; data: ShardJobData; result: ShardResult | null }

export interface AssembledImage {
  gid: number;
  /** for messages and merge: the image's shard name */
  shard: string;
  /** the image's entry, as one shard's result */
  result: ShardResult;
}

/** A region's part file is missing at assembly; its job was let go so the next run redoes it. */
export class MissingPartError extends DistributedError {
  override name = 'MissingPartError';
}

const withoutRegion = (img: Record<string, unknown>) => {
  const { prediction_region: _, ...rest } = img;
  return rest;
};

/**
 * Assembles every image whose regions are all done; images with a region not done are
 * skipped (its failure is reported with the failed shards). Throws MissingPartError naming
 * the region when a finished region's part is gone (after `onMissingPart` let its job go).
 */
export async function assembleRegions(jobs: readonly RegionJob[], opts: {
  log?: (line: string) => void;
  onMissingPart?: (jobId: string) => Promise<void>;
}): Promise<{ images: AssembledImage[]; windows: number; partDirs: string[] }> {
  const log = opts.log ?? (() => {});
  const byImage = new Map<number, RegionJob[]>();
  for (const j of jobs) {
    const gid = j.data.imageIds[0];
    const list = byImage.get(gid) ?? [];
    list.push(j);
    byImage.set(gid, list);
  }
  const images: AssembledImage[] = [];
  const partDirs: string[] = [];
  let windows = 0;
  for (const [gid, list] of byImage) {
    const notDone = list.filter((j) => j.result === null);
    if (notDone.length) {
      log(`image ${gid}: ${notDone.length} of ${list.length} region(s) not done (${notDone.slice(0, 5).map((j) => j.data.shard).join(', ')}); its COG is not assembled`);
      continue;
    }
    const t0 = performance.now();
    const done = list.map((j) => ({ job: j, result: j.result!, report: j.result!.region as RegionReport }));
    const first = done[0];
    const where = (d: typeof first) => `region x ${d.report.x}, y ${d.report.y} of image ${gid} (shard ${d.job.data.shard}, run on ${d.result.host}, pid ${d.result.pid})`;
    const entry0 = first.result.images[0];
    for (const d of done.slice(1)) {
      if (!isDeepStrictEqual(withoutRegion(d.result.images[0]), withoutRegion(entry0))) {
        throw new DistributedError(`${where(d)} came back with another image entry than ${where(first)} (besides prediction_region); did those hosts read other files at the src path?`);
      }
      const a = d.report, b = first.report;
      if (a.asset !== b.asset || a.fullWidth !== b.fullWidth || a.fullHeight !== b.fullHeight || a.size !== b.size || a.cog.bands !== b.cog.bands || a.cog.dtype !== b.cog.dtype || !isDeepStrictEqual(a.cog.options, b.cog.options) || !isDeepStrictEqual(a.imgFromAsset, b.imgFromAsset)) {
        throw new DistributedError(`${where(d)} wrote its part for another COG than ${where(first)} (asset, bands, pixel type or writer options differ)`);
      }
    }
    for (const d of done) {
      try {
        await access(d.report.part);
      } catch {
        await opts.onMissingPart?.(d.job.id);
        throw new MissingPartError(`the part file of ${where(d)} is missing: ${d.report.part}; its job was let go, run the same command again to redo that region`);
      }
    }
    const asset = first.report.asset;
    const grid = { fullWidth: first.report.fullWidth, fullHeight: first.report.fullHeight, regionSize: first.report.size };
    const parts = [...done].sort((a, b) => a.report.y - b.report.y || a.report.x - b.report.x).map((d) => d.report.part);
    await assembleCogFromParts(asset, parts, grid, first.report.cog.bands, first.report.cog.dtype, cogOptionsFromJson(first.report.cog.options));
    const entry = { ...entry0 };
    if ('prediction_region' in entry0) entry.prediction_region = joinRegionCoverage(done.map((d) => d.report), `image ${gid}`);
    const w = done.reduce((n, d) => n + d.result.windows, 0);
    windows += w;
    partDirs.push(regionPartsDir(asset));
    images.push({
      gid, shard: `image-${gid}`,
      result: { format: JOB_FORMAT, host: hostname(), pid: process.pid, windows: w, seconds: (performance.now() - t0) / 1000, images: [entry] },
    });
    log(`image ${gid}: assembled ${asset} from ${parts.length} region part(s) in ${((performance.now() - t0) / 1000).toFixed(3)} s`);
  }
  return { images, windows, partDirs };
}

/**
 * A two-phase region's result as a one-phase region's: phase 1's entry with the whole image's
 * quantization on the new asset (where a single process registers it: the asset's last key),
 * and phase 2's report of the written part.
 */
export function combinePhases(phase1: ShardResult, phase2: RegionReport, quantization: Quantization, dst: string): ShardResult {
  const entry = JSON.parse(JSON.stringify(phase1.images[0])) as Record<string, unknown>;
  const list = (entry.assets ?? entry.auxiliary ?? []) as Record<string, unknown>[];
  const bundle = dirname(dst);
  const asset = list.find((a) => typeof a.file_name === 'string' && (isAbsolute(a.file_name) ? a.file_name : resolve(bundle, a.file_name)) === phase2.asset);
  if (!asset) throw new DistributedError(`image ${entry.id}: its entry from phase 1 has no asset ${phase2.asset}`);
  asset.quantization = quantization;
  return { ...phase1, windows: phase1.windows, images: [entry], region: phase2 };
}

/** Removes the region part folders of assembled images (the manifest lists their COGs now). */
export async function removeRegionParts(dirs: readonly string[]): Promise<void> {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
}
