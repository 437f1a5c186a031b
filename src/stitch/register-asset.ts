/**
 * Registering a stitched asset on its image. A re-run (the same short code's folder and the
 * same channels already registered on this image, e.g. predict run on its own output) replaces
 * that entry in place instead of adding a second one; the new entry's bundle-relative
 * `file_name` is kept as it is.
 */
import { dirname, resolve } from 'node:path';
import { FusedChannelSpec } from '../coco/channel-spec.ts';
import type { CocoAssetDict, CocoDataset } from '../coco/dataset.ts';

/** The channel names of a channel code, or null when it is not one. */
function channelNames(code: unknown): string | null {
  if (typeof code !== 'string') return null;
  try { return FusedChannelSpec.coerce(code).parsed.join('|'); } catch { return null; }
}

/**
 * Adds `asset` (its `file_name` relative to the bundle) to image `gid`, replacing an asset of
 * the same channels whose file lies in the same folder (the same assets folder and short code).
 * Returns the replaced entry, or null when the asset was appended.
 */
export function registerAsset(dataset: CocoDataset, gid: number, asset: CocoAssetDict & { file_name: string }): CocoAssetDict | null {
  const coco = dataset.cocoImage(gid);
  const key = coco.assetsKey;
  const list = key ? (coco.img[key] as CocoAssetDict[]) : null;
  const bundle = dataset.bundleDpath, folder = dirname(resolve(bundle, asset.file_name)), names = channelNames(asset.channels);
  const i = list === null || names === null ? -1 : list.findIndex((a) => a !== null && typeof a === 'object'
    && typeof a.file_name === 'string' && channelNames(a.channels) === names && dirname(resolve(bundle, a.file_name)) === folder);
  if (i < 0) {
    coco.addAsset(asset);
    return null;
  }
  const old = list![i];
  list![i] = asset;
  return old;
}
