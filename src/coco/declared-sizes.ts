/**
 * Checks of the sizes and warps a manifest declares. They come from an
 * untrusted file and decide allocations and window counts, so before anything
 * uses them: every width / height given is a positive integer number (not a
 * string, not NaN, not 0, at most 2^32 - 1, the largest TIFF), every warp is
 * a finite invertible affine, and an image is no larger than its assets
 * cover through their warps (within one asset pixel of rounding). An image
 * whose assets are 768 px therefore cannot declare 1e9 px; the asset sizes
 * themselves are checked against the files when they are read (imdelay,
 * validate). Frames may cover only part of their video (kwcoco allows a
 * canvas beyond its frames), so a video is only held to at most
 * VIDEO_SLACK times what its frames cover, plus VIDEO_MARGIN pixels.
 */
import { Affine, type TransformSpec } from '../array/affine.ts';
import type { CocoAssetDict, CocoDataset, CocoImageDict, CocoVideoDict } from './dataset.ts';

/** The largest width or height a raster can declare (a TIFF's ImageWidth is 32 bits). */
export const MAX_DIMENSION = 2 ** 32 - 1;

/** How many times its frames' extent a video canvas may be (more is a typo or an attack). */
export const VIDEO_SLACK = 4;
/** Pixels a video canvas may reach past VIDEO_SLACK times its frames' extent. */
export const VIDEO_MARGIN = 64;

/** One declared size or warp that cannot be right. */
export interface SizeProblem {
  /** "image 3", "image 3 asset \"a.tif\"", "video 2" */
  where: string;
  message: string;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'number') return String(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

/**
 * Why `v` is not a valid pixel count for `field`, or null when it is.
 * Absent (undefined / null) is valid here: kwcoco does not require sizes.
 */
export function dimensionProblem(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number') return `${field} is ${describe(v)}; expected a positive integer number of pixels`;
  if (!Number.isInteger(v) || v <= 0 || v > MAX_DIMENSION) {
    return `${field} is ${describe(v)}; expected a positive integer number of pixels (1 to ${MAX_DIMENSION})`;
  }
  return null;
}

/** JSON text of a transform spec, keeping NaN and Infinity (JSON.stringify writes null), shortened. */
function specText(spec: unknown): string {
  const text = JSON.stringify(spec, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? `\u0000${x}` : x)) ?? String(spec);
  return text.replace(/"\\u0000(NaN|Infinity|-Infinity)"/g, '$1').slice(0, 120);
}

/** True when a number inside `v` (a few levels down) is NaN or infinite. */
function hasNonFinite(v: unknown, depth = 0): boolean {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (v === null || typeof v !== 'object' || depth > 4) return false;
  for (const k in v) if (hasNonFinite((v as Record<string, unknown>)[k], depth + 1)) return true;
  return false;
}

/** The warp `spec` as an Affine, or why it is not a finite invertible one. */
export function warpProblem(spec: unknown, field: string): { warp: Affine | null; problem: string | null } {
  if (hasNonFinite(spec)) {
    return { warp: null, problem: `${field} ${specText(spec)} has non-finite entries; expected a finite affine transform` };
  }
  let warp: Affine;
  try {
    warp = Affine.coerce(spec as TransformSpec);
  } catch (err) {
    return { warp: null, problem: `${field} ${specText(spec)} is not a valid transform: ${(err as Error).message}` };
  }
  const det = warp.det();
  if (!warp.matrix.every(Number.isFinite) || !Number.isFinite(det)) {
    return { warp: null, problem: `${field} ${specText(spec)} has non-finite entries; expected a finite affine transform` };
  }
  if (Math.abs(det) < 1e-12) {
    return {
      warp: null,
      problem: `${field} ${specText(spec)} is degenerate (determinant ${det}: it maps the raster to a line or a point); ` +
        'expected an invertible affine transform (scale not 0)',
    };
  }
  return { warp, problem: null };
}

/** Right and bottom edges of the box `[0, w] x [0, h]` mapped by `m`, and how large one source pixel becomes. */
function footprint(m: Affine, w: number, h: number): { x1: number; y1: number; px: number; py: number } {
  const [a, b, c, d, e, f] = m.matrix as [number, number, number, number, number, number];
  return {
    x1: c + Math.max(0, a * w) + Math.max(0, b * h), y1: f + Math.max(0, d * w) + Math.max(0, e * h),
    px: Math.abs(a) + Math.abs(b), py: Math.abs(d) + Math.abs(e),
  };
}

/**
 * What `sources` cover ("W x H") when a `w x h` canvas reaches further than
 * `slack` times that plus `margin` and one source pixel (rounding); else null.
 */
function covers(sources: { x1: number; y1: number; px: number; py: number }[], w: number, h: number, slack = 1, margin = 0): string | null {
  if (sources.length === 0) return null;
  let x1 = -Infinity, y1 = -Infinity, px = 0, py = 0;
  for (const s of sources) {
    x1 = Math.max(x1, s.x1); y1 = Math.max(y1, s.y1);
    px = Math.max(px, s.px); py = Math.max(py, s.py);
  }
  if (w > slack * x1 + px + 1 + margin || h > slack * y1 + py + 1 + margin) return `${Math.ceil(x1)} x ${Math.ceil(y1)}`;
  return null;
}

function sizeOf(rec: { width?: unknown; height?: unknown }): [number, number] | null {
  const { width, height } = rec;
  return dimensionProblem(width, 'w') === null && dimensionProblem(height, 'h') === null && typeof width === 'number' && typeof height === 'number'
    ? [width, height] : null;
}

function assetName(a: CocoAssetDict): string {
  return JSON.stringify(typeof a?.file_name === 'string' ? a.file_name : '<no file_name>');
}

/** Every problem with the declared sizes and warps of `dset` (an empty list when there is none). */
export function declaredSizeProblems(dset: CocoDataset): SizeProblem[] {
  const problems: SizeProblem[] = [];
  /** `where` is a string or, for records checked by the thousand, a function that makes it when needed */
  const add = (where: string | (() => string), message: string | null) => {
    if (message) problems.push({ where: typeof where === 'string' ? where : where(), message });
  };
  const dims = (where: string | (() => string), rec: { width?: unknown; height?: unknown }) => {
    add(where, dimensionProblem(rec.width, 'width'));
    add(where, dimensionProblem(rec.height, 'height'));
  };
  /** each image's footprint in video space, by video */
  const inVideo = new Map<number, ReturnType<typeof footprint>[]>();
  for (const img of dset.index.imgs.values() as Iterable<CocoImageDict>) {
    const where = `image ${img.id}`;
    dims(where, img);
    const own = sizeOf(img);
    const covered: ReturnType<typeof footprint>[] = [];
    for (const key of ['assets', 'auxiliary'] as const) {
      const list = img[key];
      if (list === undefined || list === null) continue;
      if (!Array.isArray(list)) { add(where, `${key} is ${describe(list)}; expected a list of assets`); continue; }
      for (const a of list as CocoAssetDict[]) {
        if (a === null || typeof a !== 'object' || Array.isArray(a)) { add(where, `an item of ${key} is ${describe(a)}; expected an asset object`); continue; }
        const aw = () => `${where} asset ${assetName(a)}`;
        dims(aw, a);
        const { warp, problem } = warpProblem(a.warp_aux_to_img, 'warp_aux_to_img');
        add(aw, problem);
        const size = sizeOf(a);
        if (warp && size) covered.push(footprint(warp, size[0], size[1]));
      }
    }
    if (own) {
      const cover = covers(covered, own[0], own[1]);
      if (cover) add(where, `declares ${own[0]} x ${own[1]} pixels but its assets cover only ${cover} through their warps (width x height)`);
    }
    if (img.video_id !== undefined && img.video_id !== null) {
      const { warp, problem } = warpProblem(img.warp_img_to_vid, 'warp_img_to_vid');
      add(where, problem);
      if (warp && own) {
        const list = inVideo.get(img.video_id) ?? [];
        list.push(footprint(warp, own[0], own[1]));
        inVideo.set(img.video_id, list);
      }
    }
  }
  for (const video of dset.index.videos.values() as Iterable<CocoVideoDict>) {
    const where = `video ${video.id}`;
    dims(where, video);
    const own = sizeOf(video);
    const cover = own ? covers(inVideo.get(video.id) ?? [], own[0], own[1], VIDEO_SLACK, VIDEO_MARGIN) : null;
    if (cover) {
      add(where, `declares ${own![0]} x ${own![1]} pixels but its frames cover only ${cover} through warp_img_to_vid ` +
        `(width x height; a video may reach at most ${VIDEO_SLACK} times past its frames, plus ${VIDEO_MARGIN} px)`);
    }
  }
  return problems;
}
