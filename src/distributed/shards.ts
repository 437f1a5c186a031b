/**
 * Cutting a run into shards. `video` (the default): all frames of one video,
 * so one worker stitches a whole video as local predict does (same
 * readiness, same memory); images outside any video are one shard each.
 * `image`: one shard per image.
 */
import type { CocoDataset } from '../coco/dataset.ts';
import { DistributedError } from './errors.ts';

export type ShardBy = 'video' | 'image';

export interface Shard {
  /** unique within the run and usable in a BullMQ job id (no ':') */
  key: string;
  imageIds: number[];
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
