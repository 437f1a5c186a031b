/**
 * Merging shard results into the output dataset: each predicted image entry
 * replaces the image's entry, key by key in the worker's order, so the
 * manifest is byte for byte what a single process writes. Each entry is
 * checked against the src manifest first (a worker that read another file
 * at the src path must not slip a different image in), and no two images
 * may claim the same new file.
 */
import { isDeepStrictEqual } from 'node:util';
import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import type { CocoDataset } from '../coco/dataset.ts';
import type { ShardResult } from './job-data.ts';
import { DistributedError } from './errors.ts';

/** Fields predict writes on an image; all others must come back unchanged. */
const PREDICTED_FIELDS = new Set(['assets', 'auxiliary', 'has_predictions', 'prediction_region']);

type Json = Record<string, unknown>;

const assetList = (img: Json): unknown[] => (Array.isArray(img.assets) ? img.assets : Array.isArray(img.auxiliary) ? img.auxiliary : []);

/** Merges one shard's result into `out` (the src dataset, rerooted like predict's result); returns the new asset file names. */
export function mergeShardResult(out: CocoDataset, result: ShardResult, shard: string, claimed: Map<string, number>): string[] {
  const where = `shard ${shard} (run on ${result.host}, pid ${result.pid})`;
  const added: string[] = [];
  for (const entry of result.images) {
    const gid = entry.id as number;
    const img = out.index.imgs.get(gid) as Json | undefined;
    if (!img) throw new DistributedError(`${where} returned image ${gid}, which the src manifest does not have`);
    for (const k of Object.keys(img)) {
      if (PREDICTED_FIELDS.has(k)) continue;
      if (!isDeepStrictEqual(img[k], entry[k])) {
        throw new DistributedError(`${where}: image ${gid} field ${k} differs from the src manifest (${JSON.stringify(img[k])?.slice(0, 80)} vs ${JSON.stringify(entry[k])?.slice(0, 80)}); did that host read another file at the src path?`);
      }
    }
    const before = assetList(img);
    const after = assetList(entry);
    if (after.length < before.length || !before.every((a, i) => isDeepStrictEqual(a, after[i]))) {
      throw new DistributedError(`${where}: image ${gid} came back without its src assets unchanged; did that host read another file at the src path?`);
    }
    for (const a of after.slice(before.length)) {
      const name = (a as Json).file_name;
      if (typeof name !== 'string' || name === '') throw new DistributedError(`${where}: image ${gid} has a new asset without a file_name: ${JSON.stringify(a)}`);
      const path = isAbsolute(name) ? name : resolve(out.bundleDpath, name);
      const owner = claimed.get(path);
      if (owner !== undefined && owner !== gid) {
        throw new DistributedError(`images ${owner} and ${gid} both wrote ${path} (their names sanitise alike and were predicted in different shards); rename one of them, or use --shard video with both in one video`);
      }
      claimed.set(path, gid);
      added.push(path);
    }
    // rewrite in place, in the worker's key order (the index keeps pointing at this object)
    for (const k of Object.keys(img)) delete img[k];
    Object.assign(img, entry);
  }
  return added;
}

/**
 * Removes temporary files that writers of `files` left beside them when they
 * were killed (`.{name}.{pid}.{random}.tmp`, see io/atomic.ts). Runs once the
 * run is over, so no writer of these files is alive.
 */
export async function removeStaleTempFiles(files: readonly string[]): Promise<number> {
  const byDir = new Map<string, Set<string>>();
  for (const f of files) {
    const names = byDir.get(dirname(f)) ?? new Set<string>();
    names.add(basename(f));
    byDir.set(dirname(f), names);
  }
  let removed = 0;
  for (const [dir, names] of byDir) {
    const entries = await readdir(dir).catch(() => [] as string[]);
    for (const e of entries) {
      const m = /^\.(.+)\.\d+\.[0-9a-f]+\.tmp$/.exec(e);
      if (m && names.has(m[1])) {
        await rm(resolve(dir, e), { force: true });
        removed++;
      }
    }
  }
  return removed;
}
