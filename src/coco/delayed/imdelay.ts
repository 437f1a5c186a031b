/**
 * Delayed loading of a kwcoco image's channels in image, video or asset
 * space, reproducing Python kwcoco's `CocoImage.imdelay(...).finalize()`
 * (fixtures README C1-C8): per asset one fused resampling (asset -> image
 * -> video) after dequantization, kwcoco's samplers (see
 * array/resample/warp-affine.ts), the optimizer's band-subset rules (C6),
 * and reading only the source window a crop needs.
 *
 * A channel no asset of the image holds is an all-NaN band, as in Python
 * (C8), so multi-sensor frames that lack a band still load; `missing:
 * 'error'` makes it a ChannelError instead.
 *
 * Differences from Python, on purpose: a missing channel makes the result
 * float32 (Python promotes it to float64); results are always H x W x C
 * (Python returns 2-D for one whole unwarped single-band asset); nearest
 * never uses the inverse matrix (C3c) and pixels past the source's edge take
 * the border value instead of raising (C3b).
 */
import { Affine } from '../../array/affine.ts';
import { DTYPES, type Dtype, type TypedArray } from '../../array/dtypes.ts';
import { ValueError } from '../../array/errors.ts';
import { checkAllocation } from '../../array/memory-budget.ts';
import { Raster } from '../../array/raster.ts';
import { normalizeSlice, slice, type SpaceSlice } from '../../array/slices.ts';
import type { DestWindow } from '../../array/resample/geometry.ts';
import { planWarp, sourceWindowFor, warpAffine, type Interpolation, type PixelRect } from '../../array/resample/warp-affine.ts';
import type { openRaster } from '../../io/read-raster.ts';
import { sharedRasterFiles } from '../../io/raster-file-cache.ts';
import { ChannelSpec, FusedChannelSpec } from '../channel-spec.ts';
import type { CocoImage } from '../coco-image.ts';
import type { CocoAssetDict } from '../dataset.ts';
import { ChannelError, CoordinateCompatibilityError, ManifestError } from '../errors.ts';
import { dimensionProblem, warpProblem } from '../declared-sizes.ts';
import { checkQuantization, dequantizeRaster, type Quantization } from '../quantization.ts';
import { footprintCrop } from './footprint-crop.ts';
import { assetFileProblems } from '../asset-file-check.ts';

/** The space a delayed image is built in. */
export type ImdelaySpace = 'image' | 'video' | 'asset';
const SPACES: readonly ImdelaySpace[] = ['image', 'video', 'asset'];
const INTERPOLATIONS: readonly Interpolation[] = ['nearest', 'linear', 'area'];

/** Options of `imdelay` / `CocoImage.imdelay`. */
export interface ImdelayOptions {
  /** channels in output order (default: every channel of the image); `Y:2:6` expands */
  channels?: string | FusedChannelSpec | ChannelSpec;
  /** default 'image' */
  space?: ImdelaySpace;
  /** default 'linear' (kwcoco's default) */
  interpolation?: Interpolation;
  /** Gaussian pre-filter when a linear warp downscales; default true (kwcoco's default) */
  antialias?: boolean;
  /** a channel no asset holds: 'nan' (default: an all-NaN band, as kwcoco) or 'error' (ChannelError naming it) */
  missing?: 'error' | 'nan';
}

/** A lazily loaded image: its shape is known, pixels are read on `finalize()`. */
export interface DelayedImage {
  /** [height, width, bands] of what finalize() returns */
  readonly shape: [number, number, number];
  /** the output channels, in order */
  readonly channels: FusedChannelSpec;
  /** A delayed crop (`[rows, cols]` slices, relative to this image; step 1; clipped to it). */
  crop(spaceSlice: SpaceSlice): DelayedImage;
  /** Reads and resamples; resolves to an H x W x C raster (see the module doc for its dtype). */
  finalize(): Promise<Raster>;
}

/** One asset's contribution. */
interface AssetPart {
  asset: CocoAssetDict;
  path: string;
  /** band indices inside the asset, in output order */
  assetBands: number[];
  /** where those bands go in the output */
  outBands: number[];
  /** not the whole asset in its own order (a band selection, C6) */
  subset: boolean;
  quantization: Quantization | null;
  /** asset -> image */
  toImage: Affine;
}

interface LoadPlan {
  image: CocoImage;
  space: ImdelaySpace;
  interpolation: Interpolation;
  antialias: boolean;
  canvas: [number, number];
  imageSize: [number, number];
  videoSize: [number, number] | null;
  toVideo: Affine | null;
  parts: AssetPart[];
  missingBands: number[];
  channels: FusedChannelSpec;
}

function assetChannels(a: CocoAssetDict): FusedChannelSpec | null {
  if (typeof a.channels === 'string' && a.channels !== '') return ChannelSpec.coerce(a.channels).fuse();
  if (Number.isInteger(a.num_bands) && (a.num_bands as number) > 0) return FusedChannelSpec.coerce(a.num_bands as number);
  return null;
}

function size(w: unknown, h: unknown, what: string): [number, number] {
  if (w === undefined || w === null || h === undefined || h === null) {
    throw new ManifestError(`${what} needs positive integer width and height, got ${JSON.stringify(w)} x ${JSON.stringify(h)}`);
  }
  const bad = dimensionProblem(w, 'width') ?? dimensionProblem(h, 'height');
  if (bad) throw new ManifestError(`${what}: ${bad}`);
  return [w as number, h as number];
}

/** The warp `spec` of `what`; ManifestError naming it when it is not a finite invertible affine. */
function warp(spec: unknown, field: string, what: string): Affine {
  const { warp: m, problem } = warpProblem(spec, field);
  if (!m) throw new ManifestError(`${what}: ${problem}`);
  return m;
}

function requestedChannels(image: CocoImage, channels: ImdelayOptions['channels']): FusedChannelSpec {
  if (channels === undefined || channels === null) return image.channels.fuse();
  if (channels instanceof FusedChannelSpec) return channels;
  if (channels instanceof ChannelSpec) return channels.fuse();
  if (typeof channels === 'string') return ChannelSpec.coerce(channels).fuse();
  throw new ChannelError(`channels must be a channel code string or spec, got ${JSON.stringify(channels)}`);
}

function buildPlan(image: CocoImage, opts: ImdelayOptions): LoadPlan {
  const space = opts.space ?? 'image';
  if (!SPACES.includes(space)) throw new ValueError(`unknown space ${JSON.stringify(space)}; expected one of ${SPACES.join(', ')}`);
  const interpolation = opts.interpolation ?? 'linear';
  if (!INTERPOLATIONS.includes(interpolation)) {
    throw new ValueError(`unknown interpolation ${JSON.stringify(interpolation)}; expected one of ${INTERPOLATIONS.join(', ')}`);
  }
  const missing = opts.missing ?? 'nan';
  if (missing !== 'error' && missing !== 'nan') throw new ValueError(`missing must be 'error' or 'nan', got ${JSON.stringify(missing)}`);
  const channels = requestedChannels(image, opts.channels);
  if (channels.numel() === 0) throw new ChannelError(`image ${image.id}: no channels requested (the image has ${image.channels.spec || 'none'})`);
  const assets = image.assets.map((a) => ({ a, ch: assetChannels(a) }));
  const parts = new Map<CocoAssetDict, AssetPart>();
  const missingBands: number[] = [];
  channels.parsed.forEach((name, outIdx) => {
    const hit = assets.find((x) => x.ch && x.ch.parsed.includes(name));
    if (!hit) {
      missingBands.push(outIdx);
      return;
    }
    let part = parts.get(hit.a);
    if (!part) {
      const where = `image ${image.id} asset ${JSON.stringify(hit.a.file_name)}`;
      part = {
        asset: hit.a, path: image.resolvePath(hit.a.file_name), assetBands: [], outBands: [], subset: false,
        quantization: hit.a.quantization === undefined || hit.a.quantization === null ? null : checkQuantization(hit.a.quantization, where),
        toImage: warp(hit.a.warp_aux_to_img, 'warp_aux_to_img', where),
      };
      parts.set(hit.a, part);
    }
    part.assetBands.push(hit.ch!.parsed.indexOf(name));
    part.outBands.push(outIdx);
  });
  if (missingBands.length && missing === 'error') {
    const names = missingBands.map((i) => channels.parsed[i]);
    throw new ChannelError(`image ${image.id}: channel(s) ${names.join(', ')} not found; the image has ${image.channels.spec || 'no channels'}`);
  }
  for (const [a, p] of parts) {
    const n = assetChannels(a)!.numel();
    p.subset = !(p.assetBands.length === n && p.assetBands.every((b, i) => b === i));
  }
  const partList = [...parts.values()];
  // 'asset' space does not need the image canvas (an image record may lack width/height there)
  const imageSize: [number, number] = space === 'asset' && !(Number.isInteger(image.img.width) && Number.isInteger(image.img.height))
    ? [0, 0] : size(image.img.width, image.img.height, `image ${image.id}`);
  let canvas: [number, number];
  let videoSize: [number, number] | null = null;
  let toVideo: Affine | null = null;
  if (space === 'asset') {
    if (partList.length > 1) {
      throw new CoordinateCompatibilityError(
        `image ${image.id}: channels ${channels.spec} come from ${partList.length} assets (${partList.map((p) => p.asset.file_name).join(', ')}); ` +
          `'asset' space needs channels of one asset (use space 'image' or 'video')`,
      );
    }
    // a NaN band takes the size of the asset the other channels come from; with none there is no asset to size it
    if (partList.length === 0) {
      throw new ChannelError(`image ${image.id}: 'asset' space needs at least one channel that an asset holds (requested ${channels.spec}; the image has ${image.channels.spec || 'no channels'})`);
    }
    const a = partList[0]!.asset;
    canvas = size(a.width, a.height, `image ${image.id} asset ${JSON.stringify(a.file_name)}`);
  } else if (space === 'video') {
    const video = image.video;
    if (!video) throw new ManifestError(`image ${image.id} has no video (video_id ${JSON.stringify(image.img.video_id)}); 'video' space needs one`);
    videoSize = size(video.width, video.height, `video ${video.id}`);
    toVideo = warp(image.img.warp_img_to_vid, 'warp_img_to_vid', `image ${image.id}`);
    canvas = videoSize;
  } else {
    canvas = imageSize;
  }
  return { image, space, interpolation, antialias: opts.antialias ?? true, canvas, imageSize, videoSize, toVideo, parts: partList, missingBands, channels };
}

function rectWindow(r: PixelRect): SpaceSlice {
  return [slice(r.y0, r.y1), slice(r.x0, r.x1)];
}

function emptyRect(r: PixelRect): boolean {
  return r.x1 <= r.x0 || r.y1 <= r.y0;
}

/** Reads, band-selects and dequantizes one part's pixels in `rect` (asset pixel coords). */
async function readPart(file: Awaited<ReturnType<typeof openRaster>>, part: AssetPart, rect: PixelRect): Promise<Raster> {
  const nb = part.assetBands.length;
  if (emptyRect(rect)) return new Raster(new DTYPES[part.quantization ? 'float32' : file.dtype].ctor(0), [0, 0, nb]);
  // neighbouring windows share tiles: decode each once while it stays in the tile cache
  let r = await file.read({ window: rectWindow(rect), cacheTiles: true });
  const whole = r.bands === nb && part.assetBands.every((b, i) => b === i);
  if (!whole) r = r.selectBands(part.assetBands);
  return part.quantization ? dequantizeRaster(r, part.quantization) : r;
}

/** One part resampled onto the canvas window `win`. */
async function renderPart(plan: LoadPlan, part: AssetPart, win: DestWindow): Promise<Raster> {
  // the asset's file stays open for the next window (one stat checks it is still the same file)
  return sharedRasterFiles.use(part.path, async (file) => {
    const assetSize: [number, number] = [file.width, file.height];
    // the record decided the plan (size, which band is which, dequantization): it must be the file's;
    // validate applies the same check. Checked every window: about 3 us, far below a window's read
    const problems = assetFileProblems(part.asset, file);
    if (problems.length) throw new ManifestError(`asset ${part.path} ${problems.join('; ')}`, part.path);
    const isFloat = part.quantization !== null || DTYPES[file.dtype].isFloat;
    const { interpolation, antialias, canvas } = plan;
    if (plan.space === 'asset') {
      if (canvas[0] !== file.width || canvas[1] !== file.height) {
        throw new ManifestError(`asset ${part.path} is ${file.width}x${file.height} but its record says ${canvas[0]}x${canvas[1]} (width x height)`, part.path);
      }
      const clipped = sourceWindowFor({ kind: 'copy' }, assetSize, canvas, win);
      const src = await readPart(file, part, clipped);
      return warpAffine(src, Affine.eye(), { dsize: canvas, interpolation, dstWindow: win, srcOrigin: [clipped.x0, clipped.y0], srcSize: assetSize });
    }
    const V = plan.toVideo;
    const A = part.toImage;
    const videoIdentity = V !== null && V.isIdentity() && plan.videoSize![0] === plan.imageSize[0] && plan.videoSize![1] === plan.imageSize[1];
    if (plan.space === 'video' && interpolation === 'nearest' && part.subset && !videoIdentity) {
      // C6: nearest with a band selection is not fused: asset -> image, then image -> video
      const plan2 = planWarp(V!, plan.imageSize, canvas, 'nearest', false, 'auto', isFloat);
      const r2 = sourceWindowFor(plan2, plan.imageSize, canvas, win);
      const mid: DestWindow = { x0: r2.x0, y0: r2.y0, width: r2.x1 - r2.x0, height: r2.y1 - r2.y0 };
      const plan1 = planWarp(A, assetSize, plan.imageSize, 'nearest', false, 'auto', isFloat);
      const r1 = sourceWindowFor(plan1, assetSize, plan.imageSize, mid);
      const src = await readPart(file, part, r1);
      const img = warpAffine(src, A, { dsize: plan.imageSize, interpolation: 'nearest', dstWindow: mid, srcOrigin: [r1.x0, r1.y0], srcSize: assetSize });
      return warpAffine(img, V!, { dsize: canvas, interpolation: 'nearest', dstWindow: win, srcOrigin: [mid.x0, mid.y0], srcSize: plan.imageSize });
    }
    let logical: PixelRect = { x0: 0, y0: 0, x1: assetSize[0], y1: assetSize[1] };
    let toImage = A;
    if (interpolation !== 'nearest' && part.subset) {
      // C6: linear with a band selection crops the source to the image canvas footprint
      logical = footprintCrop(A, plan.imageSize, assetSize);
      if (logical.x0 !== 0 || logical.y0 !== 0) toImage = A.matmul(Affine.translate(logical.x0, logical.y0));
    }
    const M = plan.space === 'video' ? V!.matmul(toImage) : toImage;
    const lsize: [number, number] = [logical.x1 - logical.x0, logical.y1 - logical.y0];
    const p = planWarp(M, lsize, canvas, interpolation, antialias, 'auto', isFloat);
    const r = sourceWindowFor(p, lsize, canvas, win);
    const src = await readPart(file, part, { x0: r.x0 + logical.x0, y0: r.y0 + logical.y0, x1: r.x1 + logical.x0, y1: r.y1 + logical.y0 });
    return warpAffine(src, M, { dsize: canvas, interpolation, antialias, dstWindow: win, srcOrigin: [r.x0, r.y0], srcSize: lsize });
  });
}

const PROMOTION_ORDER: readonly Dtype[] = ['uint8', 'int8', 'uint16', 'int16', 'int32'];

/** numpy-like result dtype of concatenating parts of these dtypes (floats -> float32, or float64 if one is). */
export function promoteDtypes(dtypes: readonly Dtype[]): Dtype {
  if (dtypes.length === 0) return 'float32';
  if (dtypes.includes('float64')) return 'float64';
  if (dtypes.some((d) => DTYPES[d].isFloat)) return 'float32';
  const lo = Math.min(...dtypes.map((d) => DTYPES[d].min));
  const hi = Math.max(...dtypes.map((d) => DTYPES[d].max));
  return PROMOTION_ORDER.find((d) => DTYPES[d].min <= lo && DTYPES[d].max >= hi) ?? 'float64';
}

class Delayed implements DelayedImage {
  readonly #plan: LoadPlan;
  readonly #win: DestWindow;

  constructor(plan: LoadPlan, win: DestWindow) {
    this.#plan = plan;
    this.#win = win;
  }

  get shape(): [number, number, number] {
    return [this.#win.height, this.#win.width, this.#plan.channels.numel()];
  }

  get channels(): FusedChannelSpec {
    return this.#plan.channels;
  }

  crop(spaceSlice: SpaceSlice): DelayedImage {
    if (!Array.isArray(spaceSlice) || spaceSlice.length !== 2) {
      throw new ValueError(`crop expects [rows, cols] slices, got ${JSON.stringify(spaceSlice)}`);
    }
    const [rs, cs] = spaceSlice;
    const r = normalizeSlice(rs!, this.#win.height);
    const c = normalizeSlice(cs!, this.#win.width);
    if (r.step !== 1 || c.step !== 1) throw new ValueError(`crop slices must have step 1, got rows step ${r.step}, cols step ${c.step}`);
    const win: DestWindow = {
      x0: this.#win.x0 + c.start, y0: this.#win.y0 + r.start,
      width: Math.max(c.stop - c.start, 0), height: Math.max(r.stop - r.start, 0),
    };
    return new Delayed(this.#plan, win);
  }

  async finalize(): Promise<Raster> {
    const plan = this.#plan;
    const win = this.#win;
    // each part's resampled bands, then the output: at most twice the output, at 8 bytes a sample
    checkAllocation(win.width * win.height * plan.channels.numel() * 8 * 2,
      `image ${plan.image.id}: reading ${win.width} x ${win.height} pixels of ${plan.channels.numel()} channel(s) in ${plan.space} space`);
    const rendered = await Promise.all(plan.parts.map((p) => renderPart(plan, p, win)));
    const dtypes = rendered.map((r) => r.dtype);
    if (plan.missingBands.length) dtypes.push('float32');
    const dtype = promoteDtypes(dtypes);
    const n = plan.channels.numel();
    if (rendered.length === 1 && plan.missingBands.length === 0 && plan.parts[0]!.outBands.every((b, i) => b === i) && rendered[0]!.dtype === dtype) {
      return rendered[0]!;
    }
    const out = new DTYPES[dtype].ctor(win.width * win.height * n) as TypedArray;
    const npix = win.width * win.height;
    for (const b of plan.missingBands) for (let p = 0, o = b; p < npix; p++, o += n) out[o] = NaN;
    rendered.forEach((r, k) => {
      const bands = plan.parts[k]!.outBands;
      const src = r.data;
      const c = r.bands;
      for (let j = 0; j < c; j++) {
        const ob = bands[j]!;
        for (let p = 0, i = j, o = ob; p < npix; p++, i += c, o += n) out[o] = src[i]!;
      }
    });
    return new Raster(out, [win.height, win.width, n]);
  }
}

/**
 * A delayed load of `channels` of `image` in `space` (see ImdelayOptions);
 * a string option is the channels.
 *
 * Errors (thrown here, before any read): ChannelError for a channel no asset
 * holds under `missing: 'error'` (naming it and the image's channels), or in
 * 'asset' space when no requested channel is held, CoordinateCompatibilityError for
 * 'asset' space over several assets, ValueError for an unknown space or
 * interpolation, ManifestError for missing sizes / video or a bad quantization.
 *
 * @example
 * const d = imdelay(dset.cocoImage(1), { channels: 'r|g|b', space: 'video' });
 * d.shape;                                     // [h, w, 3]
 * const tile = await d.crop([slice(0, 32), slice(0, 32)]).finalize();
 */
export function imdelay(image: CocoImage, options: ImdelayOptions | string = {}): DelayedImage {
  const opts: ImdelayOptions = typeof options === 'string' ? { channels: options } : options ?? {};
  const plan = buildPlan(image, opts);
  return new Delayed(plan, { x0: 0, y0: 0, width: plan.canvas[0], height: plan.canvas[1] });
}
