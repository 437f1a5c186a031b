/**
 * A kwcoco dataset made from plain image files (GeoTIFF / COG, PNG, JPEG,
 * local or over HTTP) for users without a manifest: one image per file, its
 * own `file_name`, channels from `channels` or named after the band count
 * (`u0|u1|…`, the names kwcoco gives unnamed bands), and for georeferenced
 * GeoTIFFs the image's `wld_crs_info` / `wld_to_pxl` as kwcoco's geo tools
 * write them (what the stitching manager reads to georeference its output).
 */
import { basename, extname, resolve } from 'node:path';
import { ValueError } from '../array/errors.ts';
import { openRaster } from '../io/read-raster.ts';
import { isRemotePath, remoteUrl } from '../io/remote-path.ts';
import { FusedChannelSpec } from './channel-spec.ts';
import { CocoDataset, type CocoImageDict } from './dataset.ts';
import { ChannelError } from './errors.ts';

/** Options of `CocoDataset.fromImageFiles`. */
export interface FromImageFilesOptions {
  /** channel code of every file (its band count must match), e.g. `r|g|b`; default `u0|u1|…` from each file's band count */
  channels?: string;
  /** folder that relative paths and globs resolve against (default: the working directory) */
  cwd?: string;
  /** the new dataset's manifest path (sets its bundle folder); default none */
  fpath?: string;
}

const GLOB_CHARS = /[*?[\]{}]/;

/** True when `path` names files by a pattern rather than one file. */
export function isGlob(path: string): boolean {
  return !isRemotePath(path) && GLOB_CHARS.test(path);
}

/** The files `patterns` name: globs expanded (sorted), literal paths and URLs as given; duplicates once. */
export async function expandImagePaths(patterns: string | readonly string[], cwd = process.cwd()): Promise<string[]> {
  const list = typeof patterns === 'string' ? [patterns] : [...patterns];
  if (list.length === 0) throw new ValueError('no image files given (expected paths, globs or URLs)');
  const out: string[] = [];
  for (const p of list) {
    if (typeof p !== 'string' || p === '') throw new ValueError(`image path ${JSON.stringify(p)} is not a non-empty string`);
    if (isRemotePath(p)) { out.push(p); continue; }
    if (!isGlob(p)) { out.push(resolve(cwd, p)); continue; }
    const { glob } = await import('tinyglobby');
    const hits = (await glob(p, { cwd, absolute: true, onlyFiles: true, expandDirectories: false })).sort();
    if (hits.length === 0) throw new ValueError(`${p} matches no files (in ${cwd})`);
    out.push(...hits);
  }
  return [...new Set(out)];
}

/** A name for the image of `path`: its file name without extension, made unique with `-2`, `-3`, … */
function uniqueName(path: string, taken: Set<string>): string {
  const file = basename(isRemotePath(path) ? new URL(remoteUrl(path)).pathname : path);
  const stem = file.slice(0, file.length - extname(file).length) || file || 'image';
  let name = stem;
  for (let k = 2; taken.has(name); k++) name = `${stem}-${k}`;
  taken.add(name);
  return name;
}

/**
 * Makes the dataset. Each file is opened once (header only for TIFF; PNG
 * and JPEG are decoded) for its size, bands and georeferencing. Errors:
 * ValueError for a glob that matches nothing, ChannelError when `channels`
 * does not name as many bands as a file has, the reader's errors for files
 * that cannot be read.
 */
export async function datasetFromImageFiles(patterns: string | readonly string[], options: FromImageFilesOptions = {}): Promise<CocoDataset> {
  const paths = await expandImagePaths(patterns, options.cwd);
  const spec = options.channels === undefined ? null : FusedChannelSpec.coerce(options.channels);
  const names = new Set<string>();
  const images: CocoImageDict[] = [];
  for (const [i, path] of paths.entries()) {
    const file = await openRaster(path);
    try {
      if (spec && spec.numel() !== file.bands) {
        throw new ChannelError(`channels ${spec.spec} name ${spec.numel()} band(s) but ${path} has ${file.bands}`);
      }
      const img: CocoImageDict = {
        id: i + 1, name: uniqueName(path, names), file_name: path, width: file.width, height: file.height,
        channels: spec ? spec.spec : FusedChannelSpec.coerce(file.bands).spec, num_bands: file.bands,
      };
      if (file.epsg !== null && file.transform !== null) {
        img.wld_crs_info = { auth: ['EPSG', String(file.epsg)], axis_mapping: 'OAMS_TRADITIONAL_GIS_ORDER' };
        img.wld_to_pxl = file.transform.inv().concise();
      }
      images.push(img);
    } finally {
      await file.close();
    }
  }
  return CocoDataset.fromJSON({ info: [], categories: [], videos: [], images, annotations: [] },
    options.fpath === undefined ? { bundleDpath: options.cwd } : { fpath: options.fpath });
}
