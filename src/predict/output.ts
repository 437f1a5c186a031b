/**
 * The output side of a run, checked before any work and settled after it:
 * the destination must be a writable manifest path (not a folder, not under
 * a file, not read-only), temporary files of killed runs are removed from
 * the folders the run writes to, input paths keep resolving from the output
 * manifest, and re-running replaces this channel code's old assets instead
 * of adding second ones.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, rmSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import type { CocoDataset } from '../coco/dataset.ts';
import { IoError } from '../io/errors.ts';
import { removeStaleTempFiles } from '../io/stale-temp.ts';
import { isRemotePath } from '../io/remote-path.ts';
import { isInside } from '../stitch/asset-naming.ts';

const READ_ONLY = new Set(['EACCES', 'EPERM', 'EROFS']);

function statOrNull(path: string): ReturnType<typeof statSync> | null {
  try { return statSync(path); } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ENOTDIR') return null; // a file in the way: reported by the walk up
    throw new IoError(`cannot check --dst: ${path}: ${(err as Error).message}`, path, { cause: err });
  }
}

/** Creates and removes a temporary file in `dir`, which exists; IoError saying "read-only" when it is. */
function probeWritable(dir: string, dst: string): void {
  const probe = join(dir, `.coco-stitcher-probe.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (READ_ONLY.has(code)) throw new IoError(`cannot write --dst ${dst}: the folder ${dir} is read-only (${code})`, dst, { cause: err });
    throw new IoError(`cannot write --dst ${dst}: creating a file in ${dir} failed: ${(err as Error).message}`, dst, { cause: err });
  }
  rmSync(probe, { force: true });
}

/**
 * Throws IoError unless `dst` can be written as a manifest with its assets
 * under `{dirname(dst)}/{assetsDname}/{shortCode}`: `dst` is not a folder, no
 * existing part of its path is a file, and the nearest existing folder (and
 * the assets folder, when it exists) accept new files. Creates nothing.
 */
export function checkOutput(dst: string, assetFolder: string): void {
  const target = resolve(dst);
  const st = statOrNull(target);
  if (st?.isDirectory()) throw new IoError(`--dst ${dst} is a folder; give the path of the manifest to write, e.g. ${join(dst, 'out.kwcoco.json')}`, dst);
  let dir = dirname(target);
  for (;;) {
    const s = statOrNull(dir);
    if (s) {
      if (!s.isDirectory()) throw new IoError(`cannot write --dst ${dst}: ${dir} is a file, not a folder`, dst);
      break;
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  probeWritable(dir, dst);
  const assets = resolve(dirname(target), assetFolder);
  if (assets !== dir && statOrNull(assets)?.isDirectory()) probeWritable(assets, dst);
}

/** Removes temporary files of killed processes from the manifest's folder and the assets folder. */
export function removeStaleTemps(dst: string, assetFolder: string): string[] {
  const root = dirname(resolve(dst));
  return [...removeStaleTempFiles(root), ...removeStaleTempFiles(resolve(root, assetFolder))];
}

type FileRecord = { file_name?: unknown };

function* fileRecords(dset: CocoDataset): Generator<FileRecord> {
  for (const img of dset.dataset.images ?? []) {
    yield img as FileRecord;
    for (const key of ['assets', 'auxiliary'] as const) {
      const list = (img as Record<string, unknown>)[key];
      if (Array.isArray(list)) for (const a of list) if (a && typeof a === 'object') yield a as FileRecord;
    }
  }
}

/**
 * Points `dset` at the output manifest `dst`. In the same folder nothing is
 * rewritten; elsewhere, files inside the new folder get paths relative to it
 * and the rest absolute paths (so inputs keep resolving wherever the output is);
 * URLs and /vsicurl/ paths stay as written.
 */
export function moveToOutput(dset: CocoDataset, dst: string): void {
  const target = resolve(dst);
  const oldRoot = dset.bundleDpath;
  const newRoot = dirname(target);
  if (oldRoot === newRoot) { dset.fpath = target; return; }
  for (const rec of fileRecords(dset)) {
    const name = rec.file_name;
    if (typeof name !== 'string' || name === '' || isRemotePath(name)) continue;
    const abs = isAbsolute(name) ? normalize(name) : resolve(oldRoot, name);
    rec.file_name = isInside(newRoot, abs) ? relative(newRoot, abs).split(sep).join('/') : abs;
  }
  dset.bundleDpath = newRoot;
  dset.fpath = target;
}

/**
 * Drops, from each image of `gids` that holds an asset of `channels` written
 * by this run (its last one), the older assets of the same channels: a
 * re-run replaces its earlier output instead of listing it twice.
 */
export function replaceOlderAssets(dset: CocoDataset, gids: Iterable<number>, channels: string): number {
  let dropped = 0;
  for (const gid of gids) {
    const img = dset.index.imgs.get(gid) as Record<string, unknown> | undefined;
    if (!img) continue;
    for (const key of ['assets', 'auxiliary'] as const) {
      const list = img[key];
      if (!Array.isArray(list)) continue;
      let last = -1;
      for (let i = 0; i < list.length; i++) if (list[i]?.channels === channels) last = i;
      if (last < 0) continue;
      const kept = list.filter((a, i) => i === last || a?.channels !== channels);
      dropped += list.length - kept.length;
      img[key] = kept;
    }
  }
  return dropped;
}
