/**
 * The dataset `predict --src` names: a kwcoco manifest (.json, .zip), or
 * plain image files (a path, a quoted glob such as `scenes/*.tif`, or a
 * URL), for which a manifest is made (one image per file) and written
 * beside the output manifest, so the output is a normal kwcoco bundle whose
 * inputs are registered too.
 */
import { basename, dirname, join } from 'node:path';
import { CocoDataset } from '../coco/dataset.ts';

/** Options of `loadSource`. */
export interface LoadSourceOptions {
  /** the output manifest; a made input manifest goes beside it */
  dst: string;
  /** channel code of image files (default `u0|u1|…` from their band count) */
  channels?: string;
}

/** True when `src` names a kwcoco manifest rather than image files. */
export function isManifestPath(src: string): boolean {
  return /\.(json|zip)$/i.test(src);
}

/** Where the manifest made for image files goes: `{dst folder}/{dst name}-inputs.kwcoco.json`. */
export function inputsManifestPath(dst: string): string {
  const stem = basename(dst).replace(/(\.kwcoco)?\.(json|zip)$/i, '');
  return join(dirname(dst), `${stem}-inputs.kwcoco.json`);
}

/** Loads the manifest, or makes (and writes) one for image files. */
export async function loadSource(src: string, opts: LoadSourceOptions): Promise<CocoDataset> {
  if (isManifestPath(src)) return CocoDataset.load(src);
  const dset = await CocoDataset.fromImageFiles(src, { channels: opts.channels, fpath: inputsManifestPath(opts.dst) });
  await dset.dump();
  return dset;
}
