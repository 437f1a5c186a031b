/**
 * Which files the viewer's server may send: the manifest and every file the
 * manifest lists, each under its path relative to the bundle folder. A file
 * that lies outside the bundle (an absolute name elsewhere, `../x`) gets no
 * URL; the page is told so and says why it cannot show that asset.
 */
import { basename, isAbsolute, normalize, relative, resolve, sep } from 'node:path';
import type { CocoDataset } from '../../coco/dataset.ts';

export interface BundleFiles {
  /** the bundle folder (absolute) */
  root: string;
  /** URL path (`/a/b.tif`, unescaped) -> absolute file path */
  byUrl: Map<string, string>;
  /** every `file_name` as written in the manifest -> its URL path, or null when it is outside the bundle */
  urlOf: Record<string, string | null>;
  /** URL path of the manifest itself */
  manifestUrl: string;
}

/** The URL path of `abs` inside `root`, or null when it lies outside. */
export function bundleUrlPath(root: string, abs: string): string | null {
  const rel = relative(root, abs);
  if (rel === '' || isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) return null;
  return `/${rel.split(sep).join('/')}`;
}

/** Lists the files of a loaded manifest; `manifestPath` is where it was loaded from. */
export function listBundleFiles(ds: CocoDataset, manifestPath: string): BundleFiles {
  const root = ds.bundleDpath;
  const byUrl = new Map<string, string>();
  const urlOf: Record<string, string | null> = {};
  const manifestAbs = resolve(manifestPath);
  const manifestUrl = bundleUrlPath(root, manifestAbs) ?? `/${basename(manifestAbs)}`;
  byUrl.set(manifestUrl, manifestAbs);
  for (const gid of ds.imageIds()) {
    for (const asset of ds.cocoImage(gid).assets) {
      const name = asset.file_name;
      if (typeof name !== 'string' || name === '' || name in urlOf) continue;
      const abs = isAbsolute(name) ? normalize(name) : resolve(root, name);
      const url = bundleUrlPath(root, abs);
      urlOf[name] = url;
      if (url !== null) byUrl.set(url, abs);
    }
  }
  return { root, byUrl, urlOf, manifestUrl };
}
