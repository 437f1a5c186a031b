/**
 * Cutting a run into shards. `video` (the default): all frames of one video,
 * so one worker stitches a whole video as local predict does (same
 * readiness, same memory); images outside any video are one shard each.
 * `image`: one shard per image. `region:SIZE`: one shard per SIZE x SIZE
 * region of each image's output grid (one huge image across many workers);
 * the coordinator assembles each image's COG from its regions' parts.
 */
import type { CocoDataset } from '../coco/dataset.ts';
import type { ImagePlan } from '../predict/plan.ts';
import { checkRegionSize } from '../predict/region.ts';
import { DistributedError } from './errors.ts';

export type ShardBy = 'video' | 'image';

/** `--shard`: video, image, region (the default size) or region:SIZE. */
export type ShardSpec = ShardBy | 'region' | `region:${number}`;

/**
 * The default region size: a window crossing a border runs in both regions, which costs
 * about (1 + (window - 1) / SIZE)^2 - 1 extra model time; 6144 keeps that at 8.5% for the
 * default 256 px window (see docs/scaling.md), and a region's float canvas at 288 MB a band.
 */
export const DEFAULT_REGION_SIZE = 6144;

export interface Shard {
  /** unique within the run and usable in a BullMQ job id (no ':') */
  key: string;
  imageIds: number[];
  /** a region shard: its origin and the region size, in output pixels */
  region?: { x: number; y: number; size: number };
}

/** `--shard` parsed: the kind, and the region size for regions. */
export function parseShard(spec: string): { by: ShardBy } | { by: 'region'; size: number } {
  if (spec === 'video' || spec === 'image') return { by: spec };
  if (spec === 'region') return { by: 'region', size: DEFAULT_REGION_SIZE };
  const m = /^region:(.*)$/.exec(String(spec));
  if (!m) throw new DistributedError(`--shard must be video, image, region or region:SIZE, got ${JSON.stringify(spec)}`);
  const size = /^\d+$/.test(m[1]) ? Number(m[1]) : NaN;
  try {
    return { by: 'region', size: checkRegionSize(size, `--shard region:SIZE (SIZE in output pixels, got "${m[1]}")`) };
  } catch (err) {
    throw new DistributedError((err as Error).message);
  }
}

export function planShards(dset: CocoDataset, by: ShardBy): Shard[] {
  if (by !== 'video' && by !== 'image') throw new DistributedError(`--shard must be video or image, got ${JSON.stringify(by)}`);
  const shards: Shard[] = [];
  const inVideo = new Set<number>();
  if (by === 'video') {
    for (const [vid, gids] of dset.index.vidToGids) {
      if (gids.length === 0) continue;
      shards.push({ key: `video-${vid}`, imageIds: [...gids] });
      for (const g of gids) inVideo.add(g);
    }
  }
  for (const gid of dset.imageIds()) if (!inVideo.has(gid)) shards.push({ key: `image-${gid}`, imageIds: [gid] });
  return shards;
}

/** One shard per region of each planned image's output grid, row by row. */
export function planRegionShards(plans: readonly ImagePlan[], size: number): Shard[] {
  const shards: Shard[] = [];
  for (const p of plans) {
    const [W, H] = p.assetDsize;
    for (let y = 0; y < H; y += size) {
      for (let x = 0; x < W; x += size) shards.push({ key: `image-${p.gid}-x${x}-y${y}`, imageIds: [p.gid], region: { x, y, size } });
    }
  }
  return shards;
}
