/**
 * Where the manager writes a stitched asset: `{bundle}/{assetsDname}/{shortCode}/{name}_{suffix}{ext}`.
 *
 * The original put the image name into the path unchecked (`../../x` escaped the bundle).
 * Here every user-given part is sanitised and the final path is proven (with
 * `path.relative`) to stay inside `{bundle}/{assetsDname}/`.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { StitchError } from './errors.ts';

/** Longest file-name stem kept before a hash replaces the tail (file systems allow 255 bytes). */
const MAX_STEM = 160;

/**
 * The file-name suffix for a channel code: the code itself when it has no `|`,
 * else the first 16 hex digits of sha512(chanCode) (as `ub.hash_data(chan_code)[0:16]`).
 * @example
 * suffixCode('pred.0|pred.1'); // 'abf59f3f947c6d8a'
 * suffixCode('salient');       // 'salient'
 */
export function suffixCode(chanCode: string): string {
  if (!chanCode.includes('|')) return sanitizeComponent(chanCode, 'chanCode');
  return createHash('sha512').update(chanCode, 'utf8').digest('hex').slice(0, 16);
}

/**
 * One path component made safe: characters outside `[A-Za-z0-9._-]` become `_`,
 * leading dots become `_` (no `.`/`..`, no hidden files), empty becomes `_`,
 * and a stem longer than 160 characters is cut and tagged with a hash of the original.
 * Names that are already safe are returned unchanged.
 */
export function sanitizeComponent(name: string, what = 'name'): string {
  if (typeof name !== 'string') throw new StitchError(`${what} must be a string, got ${JSON.stringify(name)}`);
  let s = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, (m) => '_'.repeat(m.length));
  if (s === '') s = '_';
  if (s.length > MAX_STEM) {
    const h = createHash('sha512').update(name, 'utf8').digest('hex').slice(0, 12);
    s = `${s.slice(0, MAX_STEM - 13)}_${h}`;
  }
  return s;
}

/**
 * A relative folder (`a/b`) made safe: each `/`- or `\`-separated segment is
 * sanitised; empty segments are dropped. Absolute paths are made relative.
 */
export function sanitizeRelDir(dir: string, what: string): string {
  if (typeof dir !== 'string') throw new StitchError(`${what} must be a string, got ${JSON.stringify(dir)}`);
  const parts = dir.split(/[\\/]+/).filter((p) => p !== '');
  if (parts.length === 0) throw new StitchError(`${what} ${JSON.stringify(dir)} names no folder`);
  return parts.map((p) => sanitizeComponent(p, what)).join('/');
}

/** Where one asset goes: absolute path and the bundle-relative posix `file_name`. */
export interface AssetLocation {
  /** absolute path of the file */
  fpath: string;
  /** path relative to the bundle, `/`-separated (the asset's `file_name`) */
  fileName: string;
  /** absolute folder `{bundle}/{assetsDname}/{shortCode}` */
  dpath: string;
}

/** True when `child` is `root` itself or lies below it (no `..`, not on another drive). */
export function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}

/**
 * The location of the stitched asset of one image.
 * `imageName` null uses the image id (as the original: `img.get('name', str(img['id']))`).
 * Throws StitchError if, against all sanitising, the path would leave `{bundle}/{assetsDname}`.
 * @example
 * assetLocation('/b', { assetsDname: '_assets', shortCode: 'pred', imageName: '../../x', imageId: 3, chanCode: 'a|b', ext: '.tif' });
 * // .fileName === '_assets/pred/___.._x_3c075e5f72e4ec6e.tif' ('/' -> '_', leading dots -> '_')
 */
export function assetLocation(bundleDpath: string, opts: {
  assetsDname: string; shortCode: string; imageName: string | null | undefined; imageId: number; chanCode: string; ext: '.tif' | '.png';
}): AssetLocation {
  const bundle = resolve(bundleDpath);
  const assetsDir = sanitizeRelDir(opts.assetsDname, 'assetsDname');
  const codeDir = sanitizeRelDir(opts.shortCode, 'shortCode');
  const stem = sanitizeComponent(opts.imageName ?? String(opts.imageId), 'image name');
  const fname = `${stem}_${suffixCode(opts.chanCode)}${opts.ext}`;
  const root = resolve(bundle, assetsDir);
  const dpath = resolve(root, codeDir);
  const fpath = join(dpath, fname);
  if (!isInside(root, fpath) || fpath === root || !isInside(bundle, root)) {
    throw new StitchError(`refusing to write ${fpath}: it is not inside ${root}`);
  }
  return { fpath, dpath, fileName: relative(bundle, fpath).split(sep).join('/') };
}
