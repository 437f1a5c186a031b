/**
 * CocoStitchingManager: stitches window predictions into one raster per image of
 * a kwcoco dataset, writes each finished raster (COG / tif / PNG) and registers it
 * as a new asset of its image. A port of geowatch's `CocoStitchingManager` with its
 * options and methods in camelCase; see ../../shared/spec/design.md.
 *
 * The manager coordinates; the jobs live in their own modules:
 * `manager-options.ts` (defaults and checks of the options), `Stitcher` (the
 * accumulator), `readiness.ts` (when an image is done), `writer-queue.ts`
 * (bounded concurrent writes), `finalize-image.ts` (blocks -> quantize ->
 * writer), `asset-naming.ts` (safe file names), `prediction-region.ts` (polygons).
 *
 * The dataset is only modified in the finalize continuation, after the file is on
 * disk, one image at a time in submission order (deterministic ids and order, also
 * across managers sharing one writer queue).
 *
 * @example
 * const manager = new CocoStitchingManager(dset, { shortCode: 'pred', chanCode: 'salient', stitchingSpace: 'video' });
 * for (const [gid, sl, probs] of windows) {
 *   manager.accumulateImage(gid, sl, probs, { downweightEdges: true });
 *   for (const ready of manager.readyImageIds()) await manager.submitFinalizeImage(ready);
 * }
 * for (const gid of manager.managedImageIds()) await manager.submitFinalizeImage(gid);
 * await manager.flushImages();
 */
import { Affine } from '../array/affine.ts';
import { DtypeError, ValueError } from '../array/errors.ts';
import { Raster } from '../array/raster.ts';
import { fixSlice, slice, type Slice, type SpaceSlice } from '../array/slices.ts';
import type { CocoDataset, CocoImageDict } from '../coco/dataset.ts';
import { FusedChannelSpec } from '../coco/channel-spec.ts';
import { UnknownIdError } from '../coco/errors.ts';
import type { CompressName } from '../io/cog/compress.ts';
import { WriterOptionError } from '../io/errors.ts';
import { assetLocation } from './asset-naming.ts';
import { StitchError, StitchStateError } from './errors.ts';
import type { Quantization } from '../coco/quantization.ts';
import { writeStitchedAsset } from './finalize-image.ts';
import type { MultiPolygon } from './polygons.ts';
import { predictedPolygons, predictionRegion, regionFromRectangle, type PredictedPolygon } from './prediction-region.ts';
import { Readiness } from './readiness.ts';
import { registerAsset } from './register-asset.ts';
import { MAX_CANVAS_SIDE, Stitcher } from './stitcher.ts';
import { upweightCenterMask } from './weights.ts';
import { WriterQueue } from './writer-queue.ts';
import { cogOptionsToJson, regionCoverage, regionFloatsPath, regionPartPath, type AssetRegion, type RegionReport } from './region-parts.ts';
import {
  checkBandCount, fmt, resolveManagerOptions, type CocoStitchingManagerOptions, type ManagerSettings,
} from './manager-options.ts';

/** Options of {@link CocoStitchingManager.accumulateImage}. */
export interface AccumulateOptions {
  /** [width, height] of the asset grid (default: the stitching space's size) */
  assetDsize?: readonly [number, number] | null;
  /** scale from stitching space to the asset grid, number or [sx, sy] (default 1) */
  scaleAssetFromStitchspace?: number | readonly [number, number] | null;
  /** 'auto' (the original heuristic), true or false */
  isReady?: 'auto' | boolean;
  /** per-pixel weights (HxWx1 raster, within 1 pixel of the data) or a scalar */
  weights?: Raster | number | null;
  /** multiply the weights by `upweightCenterMask` of the data's HxW */
  downweightEdges?: boolean;
  /**
   * the canvas is this part of the asset grid only (a region of `predict --shard region:SIZE`);
   * slices stay in asset pixels of the whole image, and the finalize writes the region's part file
   */
  assetRegion?: AssetRegion | null;
  /** deprecated aliases of the original */
  dsize?: readonly [number, number] | null;
  scale?: number | readonly [number, number] | null;
}

/** Result of {@link CocoStitchingManager.finalizeImage}. */
export interface FinalizeInfo {
  nAnns: number;
  totalProb: number;
  /** stitched values (pixels x bands) that are not NaN */
  validValues: number;
  /** no valid value at all (e.g. a model that output NaN everywhere): the asset is all nodata */
  allNodata: boolean;
  /** a region's finalize: what the coordinator needs to assemble the image (its part, coverage, COG options) */
  region?: RegionReport;
}

/**
 * Managers writing probability assets, per dataset object, by short code and channels:
 * two at once would write the same files and entries.
 */
const writersOf = new WeakMap<CocoDataset, Map<string, CocoStitchingManager>>();

interface ImageState {
  stitcher: Stitcher;
  scale: [number, number];
  dsize: [number, number];
  /** the part of the asset grid the canvas holds (null: all of it) */
  region: AssetRegion | null;
}

function scalePair(s: number | readonly [number, number] | null | undefined, what: string): [number, number] {
  if (s === null || s === undefined) return [1, 1];
  const p: [number, number] = typeof s === 'number' ? [s, s] : [s[0], s[1]];
  if (!(Number.isFinite(p[0]) && Number.isFinite(p[1]) && p[0] > 0 && p[1] > 0)) {
    throw new ValueError(`${what} must be a positive number or [sx, sy], got ${fmt(s)}`);
  }
  return p;
}

/** Manages one Stitcher per image and turns finished ones into registered assets. */
export class CocoStitchingManager {
  readonly resultDataset: CocoDataset;
  readonly shortCode: string | null;
  readonly chanCode: string | null;
  readonly stitchingSpace: 'video' | 'image';
  readonly device: 'cpu';
  readonly memmap: boolean | string;
  readonly thresh: number;
  readonly writeProbs: boolean;
  readonly writePreds: boolean;
  readonly probCompress: CompressName;
  readonly probBlocksize: number;
  readonly probFormat: 'cog' | 'tif' | 'png';
  readonly polygonCategories: readonly string[] | null;
  readonly polygonIdxs: readonly number[];
  readonly expectedMinmax: readonly [number, number] | null;
  readonly quantize: boolean;
  readonly writerQueue: WriterQueue;
  readonly writePredictionAttrs: boolean;
  readonly assetsDname: string;
  readonly dtype: 'float32' | 'float64';
  readonly infPolicy: 'raise' | 'omit';
  /** band count: 'auto' until the first data arrives */
  numBands: number | 'auto';

  #settings: ManagerSettings;
  #images = new Map<number, ImageState>();
  #readiness: Readiness;
  #seen = new Set<number>();
  #failed = new Set<number>();
  #usedPaths = new Map<string, number>();
  #submissions = new Set<Promise<unknown>>();
  #infos = new Map<number, FinalizeInfo>();
  #claim: string | null = null;
  #disposed = false;

  constructor(resultDataset: CocoDataset, options: CocoStitchingManagerOptions = {}) {
    const o = resolveManagerOptions(options);
    this.#settings = o;
    this.resultDataset = resultDataset;
    this.shortCode = o.shortCode;
    this.chanCode = o.chanCode;
    this.stitchingSpace = o.stitchingSpace;
    this.device = o.device;
    this.memmap = o.memmap;
    this.thresh = o.thresh;
    this.writeProbs = o.writeProbs;
    this.writePreds = o.writePreds;
    this.numBands = o.numBands;
    this.probCompress = o.probCompress;
    this.probBlocksize = o.probBlocksize;
    this.probFormat = o.probFormat;
    this.quantize = o.quantize;
    this.expectedMinmax = o.expectedMinmax;
    this.writerQueue = o.writerQueue ?? new WriterQueue({ maxInFlight: 2 });
    this.writePredictionAttrs = o.writePredictionAttrs;
    this.assetsDname = o.assetsDname;
    this.dtype = o.dtype;
    this.infPolicy = o.infPolicy;
    this.polygonCategories = o.polygonCategories;
    this.polygonIdxs = o.polygonIdxs;
    this.#readiness = new Readiness(this.stitchingSpace, (vid) => resultDataset.index.vidToGids.get(vid) ?? []);
    if (this.writeProbs) this.#claimAssets();
  }

  /** Register as the one writer of this short code and channels in the dataset (released by dispose). */
  #claimAssets(): void {
    const key = `${this.shortCode}\u0000${FusedChannelSpec.coerce(this.chanCode!).parsed.join('|')}`;
    let claims = writersOf.get(this.resultDataset);
    if (!claims) writersOf.set(this.resultDataset, (claims = new Map()));
    if (claims.has(key)) {
      throw new StitchStateError(`another CocoStitchingManager already writes shortCode ${fmt(this.shortCode)} with channels ${fmt(this.chanCode)} `
        + 'to this dataset; two would overwrite each other\'s files and asset entries (dispose() the first one, or use another shortCode)');
    }
    claims.set(key, this);
    this.#claim = key;
  }

  #img(gid: number, op: string): CocoImageDict {
    const img = this.resultDataset.index.imgs.get(gid);
    if (!img) throw new UnknownIdError(`${op}: image id ${fmt(gid)} is not in the result dataset (${this.resultDataset.index.imgs.size} images)`);
    return img;
  }

  /**
   * Stitch `data` (HxWxC float raster) into the canvas of image `gid` at `spaceSlice`
   * (asset-grid rows/cols; null = the whole asset).
   */
  accumulateImage(gid: number, spaceSlice: SpaceSlice | readonly Slice[] | null, data: Raster, options: AccumulateOptions = {}): void {
    if (this.#disposed) throw new StitchStateError('accumulateImage on a disposed CocoStitchingManager');
    const img = this.#img(gid, 'accumulateImage');
    if (this.#seen.has(gid)) {
      throw new StitchStateError(`accumulateImage: image gid=${gid} was already finalized (or is being finalized); it cannot receive more data`);
    }
    if (!(data instanceof Raster)) throw new StitchError(`accumulateImage: data must be a Raster (HxWxC; use Raster.fromCHW for model output), got ${typeof data}`);
    if (data.dtype !== 'float32' && data.dtype !== 'float64') {
      throw new DtypeError(`accumulateImage: data of image ${gid} has dtype ${data.dtype}; expected float32 or float64 (convert with .astype('float32'))`);
    }
    if (this.numBands === 'auto') {
      checkBandCount(this.#settings, data.bands, 'the data');
      this.numBands = data.bands;
    } else if (data.bands !== this.numBands) {
      throw new StitchError(`accumulateImage: data of image ${gid} has ${data.bands} bands, expected numBands ${this.numBands}${this.chanCode ? ` (chanCode ${fmt(this.chanCode)})` : ''}`);
    }
    if (this.probFormat === 'png' && this.writeProbs && data.bands > 4) {
      throw new WriterOptionError(`probFormat 'png' holds 1 to 4 bands, the data has ${data.bands}; use 'cog'`);
    }
    const vidid = img.video_id ?? null;
    const dsizeOpt = options.assetDsize ?? options.dsize ?? null;
    const scaleOpt = options.scaleAssetFromStitchspace ?? options.scale ?? null;
    let state = this.#images.get(gid);
    if (!state) {
      let width: number, height: number;
      if (dsizeOpt) {
        [width, height] = dsizeOpt;
      } else if (this.stitchingSpace === 'video' && vidid !== null) {
        const video = this.resultDataset.index.videos.get(vidid);
        if (!video) throw new UnknownIdError(`accumulateImage: image ${gid} has video_id ${vidid}, which is not in the dataset`);
        ({ width, height } = video);
      } else {
        ({ width, height } = img);
      }
      if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
        throw new ValueError(`accumulateImage: the asset size of image ${gid} must be positive integers [width, height], got ${fmt([width, height])}`);
      }
      if (width > MAX_CANVAS_SIDE || height > MAX_CANVAS_SIDE) {
        throw new ValueError(`accumulateImage: the asset size of image ${gid}, ${fmt([width, height])}, is larger than any TIFF or BigTIFF can hold (${MAX_CANVAS_SIDE} pixels per side)`);
      }
      const region = options.assetRegion ? this.#checkRegion(gid, options.assetRegion, width, height) : null;
      const stitcher = new Stitcher([region ? region.height : height, region ? region.width : width, this.numBands as number], {
        dtype: this.dtype, nanPolicy: 'propagate', memmap: this.memmap || false,
        blocksize: this.probBlocksize, cacheBytes: this.#settings.memmapCacheBytes,
      });
      state = { stitcher, scale: scalePair(scaleOpt, 'scaleAssetFromStitchspace'), dsize: [width, height], region };
      this.#images.set(gid, state);
    } else {
      if (dsizeOpt && (dsizeOpt[0] !== state.dsize[0] || dsizeOpt[1] !== state.dsize[1])) {
        throw new StitchError(`accumulateImage: image ${gid} was started with assetDsize ${fmt(state.dsize)}, got ${fmt(dsizeOpt)}`);
      }
      if (scaleOpt !== null) {
        const s = scalePair(scaleOpt, 'scaleAssetFromStitchspace');
        if (s[0] !== state.scale[0] || s[1] !== state.scale[1]) {
          throw new StitchError(`accumulateImage: image ${gid} was started with scaleAssetFromStitchspace ${fmt(state.scale)}, got ${fmt(scaleOpt)}`);
        }
      }
    }
    if (state.region) spaceSlice = shiftSlice(spaceSlice, state.region, state.dsize);
    this.#add(gid, state.stitcher, spaceSlice, data, options);
    this.#readiness.note(gid, vidid, options.isReady ?? 'auto', new Set(this.#images.keys()));
  }

  #checkRegion(gid: number, r: AssetRegion, width: number, height: number): AssetRegion {
    const ok = [r.x, r.y, r.width, r.height, r.size].every((v) => Number.isInteger(v)) && r.size > 0 && r.size % this.probBlocksize === 0
      && r.x >= 0 && r.y >= 0 && r.x % r.size === 0 && r.y % r.size === 0 && r.x < width && r.y < height
      && r.width === Math.min(r.size, width - r.x) && r.height === Math.min(r.size, height - r.y);
    if (!ok) {
      throw new ValueError(`accumulateImage: assetRegion ${fmt(r)} of image ${gid} must be a region of its ${width}x${height} asset grid: size a multiple of probBlocksize ${this.probBlocksize}, x and y multiples of size, width and height clipped at the edges`);
    }
    if (this.probFormat !== 'cog') throw new WriterOptionError(`a region (assetRegion) is written as part of a COG; probFormat must be 'cog', got ${fmt(this.probFormat)}`);
    return { x: r.x, y: r.y, width: r.width, height: r.height, size: r.size };
  }

  #add(gid: number, stitcher: Stitcher, spaceSlice: SpaceSlice | readonly Slice[] | null, data: Raster, options: AccumulateOptions): void {
    const [H, W] = stitcher.shape;
    let weights: Raster | number = 1;
    const w = options.weights;
    if (w !== null && w !== undefined) {
      if (typeof w === 'number') {
        if (!Number.isFinite(w) || w < 0) throw new ValueError(`accumulateImage: weight must be a finite number >= 0, got ${w}`);
        weights = w;
      } else {
        if (!(w instanceof Raster) || w.bands !== 1) throw new StitchError(`accumulateImage: weights must be a number or an HxWx1 Raster, got ${w instanceof Raster ? `shape [${w.shape.join(', ')}]` : typeof w}`);
        const dh = data.height - w.height, dw = data.width - w.width;
        if (Math.abs(dh) > 1 || Math.abs(dw) > 1) {
          throw new StitchError(`accumulateImage: weights of shape [${w.shape.join(', ')}] do not agree with data of shape [${data.shape.join(', ')}] (at most 1 pixel of difference is tolerated)`);
        }
        const h = Math.min(data.height, w.height), wd = Math.min(data.width, w.width);
        if (data.height !== h || data.width !== wd) data = data.crop(0, 0, h, wd);
        weights = (w.height !== h || w.width !== wd) ? w.crop(0, 0, h, wd) : w;
      }
    }
    if (options.downweightEdges) {
      const center = upweightCenterMask([data.height, data.width]);
      if (typeof weights === 'number') {
        weights = weights === 1 ? center : scaleRaster(center, weights, this.dtype);
      } else {
        weights = multiplyRasters(weights, center, this.dtype);
      }
    }
    // the space slice, with the 1-pixel tolerance of the original's off-by-one hack
    let rows: Slice, cols: Slice;
    if (spaceSlice === null || spaceSlice === undefined) {
      rows = slice(0, H); cols = slice(0, W);
    } else {
      if (!Array.isArray(spaceSlice) || spaceSlice.length !== 2) throw new StitchError(`accumulateImage: spaceSlice must be [rows, cols] or null, got ${fmt(spaceSlice)}`);
      [rows, cols] = fixSlice(spaceSlice as readonly Slice[]);
    }
    for (const s of [rows, cols]) {
      if (s.step !== null && s.step !== undefined && s.step !== 1) throw new StitchError(`accumulateImage: spaceSlice step ${s.step} is not supported (expected 1)`);
    }
    const y0 = rows.start ?? 0, x0 = cols.start ?? 0;
    let sh = (rows.stop ?? H) - y0, sw = (cols.stop ?? W) - x0;
    if (Math.abs(sh - data.height) > 1 || Math.abs(sw - data.width) > 1) {
      throw new StitchError(`accumulateImage: image ${gid}: spaceSlice rows ${y0}:${y0 + sh}, cols ${x0}:${x0 + sw} (shape [${sh}, ${sw}]) does not fit data of shape [${data.shape.join(', ')}] (at most 1 pixel of difference is tolerated)`);
    }
    if (sh !== data.height || sw !== data.width) {
      // off by one: crop the larger side to the smaller
      const h = Math.min(sh, data.height), wd = Math.min(sw, data.width);
      if (data.height !== h || data.width !== wd) data = data.crop(0, 0, h, wd);
      if (typeof weights !== 'number' && (weights.height !== h || weights.width !== wd)) weights = weights.crop(0, 0, h, wd);
      sh = h; sw = wd;
    }
    // NaN (and Inf under 'omit'): that value gets zero weight in its band, and is added as 0.
    // A window inside the canvas is scanned by the stitcher on the copy it accumulates from
    // (nothing is added if it holds one); one reaching outside is scanned whole first.
    const region: SpaceSlice = [slice(y0, y0 + sh), slice(x0, x0 + sw)];
    if (y0 >= 0 && x0 >= 0 && y0 + sh <= H && x0 + sw <= W) {
      if (!stitcher.add(region, data, weights, { skipIfNonFinite: true }).nonFinite) return;
    } else if (stitcher.firstNonFinite(data.data as Float32Array | Float64Array) < 0) {
      stitcher.add(region, data, weights);
      return;
    }
    [data, weights] = this.#maskInvalid(gid, data, weights, y0, x0);
    stitcher.add(region, data, weights);
  }

  /**
   * The data with non-finite values replaced by 0, and weights that are 0 for them: one weight
   * per pixel when every pixel's bands are all valid or all invalid, else one per band (each band
   * weighted on its own: NaN in one band does not blank the others).
   */
  #maskInvalid(gid: number, data: Raster, weights: Raster | number, y0: number, x0: number): [Raster, Raster] {
    const { height: h, width: w, bands: C } = data;
    const src = data.data as Float32Array | Float64Array;
    const out = new (src.constructor as Float32ArrayConstructor)(src.length) as Float32Array | Float64Array;
    const F = this.dtype === 'float64' ? Float64Array : Float32Array;
    const wt = new F(h * w * C);
    const wd = typeof weights === 'number' ? null : weights.data;
    let agree = true;
    for (let p = 0; p < h * w; p++) {
      const wp = wd === null ? (weights as number) : wd[p];
      let bad = 0;
      for (let c = 0; c < C; c++) {
        const v = src[p * C + c];
        if (v !== v) { bad++; continue; }
        if (v === Infinity || v === -Infinity) {
          if (this.infPolicy === 'raise') {
            throw new StitchError(`accumulateImage: image ${gid}: data has ${v} at window pixel (${Math.floor(p / w)}, ${p % w}) band ${c} (canvas row ${y0 + Math.floor(p / w)}, col ${x0 + p % w}); infPolicy 'raise' forbids it (use infPolicy: 'omit' to give such values zero weight)`);
          }
          bad++;
          continue;
        }
        out[p * C + c] = v;
        wt[p * C + c] = wp;
      }
      if (bad !== 0 && bad !== C) agree = false;
    }
    if (!agree) return [new Raster(out, [h, w, C]), new Raster(wt, [h, w, C])];
    const w1 = new F(h * w);
    for (let p = 0; p < h * w; p++) w1[p] = wt[p * C];
    return [new Raster(out, [h, w, C]), new Raster(w1, [h, w, 1])];
  }

  /** Declare that image `gid` will receive `n` windows: it becomes ready once they have arrived, in any order. */
  expectWindows(gid: number, n: number): void {
    this.#img(gid, 'expectWindows');
    this.#readiness.expect(gid, n);
  }

  /** Images being stitched (not yet submitted for finalization). */
  managedImageIds(): number[] { return [...this.#images.keys()]; }

  /** Images known to be ready to finalize. */
  readyImageIds(): number[] { return this.#readiness.ready().filter((g) => this.#images.has(g)); }

  /** Images finalized or being finalized. */
  get seenImageIds(): ReadonlySet<number> { return this.#seen; }

  /** Windows accumulated into image `gid` so far. */
  windowCount(gid: number): number { return this.#readiness.count(gid); }

  /**
   * Hand image `gid` to the writer queue. Resolves once the job is queued (it waits
   * while `maxInFlight` images are being written: backpressure). Errors of the write
   * come out of {@link flushImages}.
   */
  async submitFinalizeImage(gid: number): Promise<void> {
    const job = this.#begin(gid);
    const sub = this.writerQueue.submit(job, this);
    this.#submissions.add(sub);
    try {
      await sub;
    } finally {
      this.#submissions.delete(sub);
    }
  }

  /** Wait until every submitted image is written and registered; rejects with the first error. */
  async flushImages(): Promise<void> {
    while (this.#submissions.size > 0) await Promise.allSettled([...this.#submissions]);
    await this.writerQueue.flush(this);
  }

  /** Finalize image `gid` now (not through the queue): write, register, free its stitcher. */
  async finalizeImage(gid: number): Promise<FinalizeInfo> {
    return await this.#begin(gid)();
  }

  /** Synchronous part of a finalize: state checks, take the stitcher out of the managed set. */
  #begin(gid: number): () => Promise<FinalizeInfo> {
    if (this.#disposed) throw new StitchStateError('finalize on a disposed CocoStitchingManager');
    const img = this.#img(gid, 'finalizeImage');
    const state = this.#images.get(gid);
    if (!state) {
      if (this.#failed.has(gid)) throw new StitchStateError(`Attempted to finalize image gid=${gid}, but its finalize already ran and failed (the error came out of flushImages/finalizeImage); its data is gone`);
      if (this.#seen.has(gid)) throw new StitchStateError(`Attempted to finalize image gid=${gid}, but we already finalized it`);
      throw new StitchStateError(`Attempted to finalize image gid=${gid}, but no data was ever accumulated for it`);
    }
    this.#images.delete(gid);
    this.#readiness.discard(gid);
    this.#seen.add(gid);
    // registration happens in submission order (across managers sharing the queue)
    const { wait, release } = this.writerQueue.turn();
    return async () => {
      try {
        const outcome = await this.#write(gid, img, state);
        await wait;
        return this.#register(gid, img, outcome);
      } catch (err) {
        this.#failed.add(gid);
        throw err;
      } finally {
        state.stitcher.dispose();
        // a failed job passes its turn on only after the earlier ones (order is kept)
        void wait.then(release);
      }
    };
  }

  #imgFromAsset(img: CocoImageDict, scale: [number, number]): Affine {
    const imgFromStitch = this.stitchingSpace === 'video'
      ? Affine.coerce((img.warp_img_to_vid ?? null) as never).inv()
      : Affine.eye();
    return imgFromStitch.matmul(Affine.scale(scale).inv());
  }

  async #write(gid: number, img: CocoImageDict, state: ImageState): Promise<WriteOutcome> {
    const { stitcher } = state;
    let any = false;
    for (const _ of stitcher.touchedBlocks()) { any = true; break; }
    if (!any) {
      throw new StitchStateError(`cannot finalize image gid=${gid}: none of its ${stitcher.stats.windows} window(s) overlapped its ${stitcher.shape[1]}x${stitcher.shape[0]} asset canvas (no data)`);
    }
    const imgFromAsset = this.#imgFromAsset(img, state.scale);
    const out: WriteOutcome = { imgFromAsset, totalProb: 0, nAnns: 0, preds: [], validValues: -1 };
    if (this.writeProbs) {
      const ext = this.probFormat === 'png' ? '.png' : '.tif';
      const where = (imageName: string | null | undefined) => assetLocation(this.resultDataset.bundleDpath, {
        assetsDname: this.assetsDname, shortCode: this.shortCode!, imageName, imageId: gid, chanCode: this.chanCode!, ext,
      });
      let loc = where(img.name);
      // two names that sanitise alike ('a/b', 'a_b') must not overwrite each other
      const owner = this.#usedPaths.get(loc.fpath);
      if (owner !== undefined && owner !== gid) loc = where(`${img.name ?? gid}_gid${gid}`);
      this.#usedPaths.set(loc.fpath, gid);
      const geo = this.probFormat === 'png' ? null : this.#geo(img, imgFromAsset);
      const region = state.region;
      const [fullW, fullH] = state.dsize;
      if (this.probFormat === 'png' && img.wld_crs_info) {
        process.emitWarning(`image ${gid}: cannot save geospatial information in a PNG (use probFormat 'cog')`, 'CocoStitcherWarning');
      }
      const written = await writeStitchedAsset(stitcher, loc.fpath, {
        format: this.probFormat, compress: this.probCompress, blocksize: this.probBlocksize,
        quantize: this.quantize, expectedMinmax: this.expectedMinmax, io: this.#settings.io, coverage: this.writePredictionAttrs,
        label: `image ${gid}${img.name ? ` (${fmt(img.name)})` : ''}`,
        ...(geo ? { epsg: geo.epsg, transform: geo.transform, overviews: 2 } : {}),
        ...(region ? { part: { path: regionPartPath(loc.fpath, region.x, region.y), region: { fullWidth: fullW, fullHeight: fullH, regionSize: region.size, x: region.x, y: region.y } } } : {}),
        // a region cannot know the whole image's range: its floats wait for it (two-phase)
        ...(region && this.quantize && !this.expectedMinmax ? { floats: regionFloatsPath(loc.fpath, region.x, region.y) } : {}),
      });
      if (region) {
        out.regionReport = {
          ...region, fullWidth: fullW, fullHeight: fullH, part: regionPartPath(loc.fpath, region.x, region.y), asset: loc.fpath,
          coverage: regionCoverage(stitcher, region, written.coverage),
          imgFromAsset: [...imgFromAsset.matrix],
          cog: { bands: written.bands, dtype: written.cog!.dtype, options: cogOptionsToJson(written.cog!.options) },
          ...(written.range ? { floats: { path: regionFloatsPath(loc.fpath, region.x, region.y), ...written.range } } : {}),
        };
        // the image's region joins all parts' coverage (the coordinator's); this part's alone is set for now
        written.coverage = written.coverage === null ? null : written.coverage === 'empty' ? 'empty'
          : [written.coverage[0] + region.x, written.coverage[1] + region.y, written.coverage[2] + region.x, written.coverage[3] + region.y];
      }
      out.totalProb = written.totalProb;
      out.validValues = written.validValues;
      // a covered rectangle (the usual case) needs no mask; anything else is traced below
      if (written.coverage) out.region = regionFromRectangle(written.coverage, imgFromAsset);
      out.asset = {
        file_name: loc.fileName,
        channels: this.chanCode!,
        height: region ? fullH : written.height,
        width: region ? fullW : written.width,
        num_bands: written.bands,
        warp_aux_to_img: imgFromAsset.concise(),
        ...(written.quantization ? { quantization: written.quantization } : {}),
      };
    }
    if (out.validValues < 0) {
      // nothing written (writeProbs false): totalProb stays 0, as in the original
      out.validValues = stitcher.finalizedStats().valid;
    }
    if (this.writePredictionAttrs && !out.region) {
      const shifted = state.region ? imgFromAsset.matmul(Affine.translate(state.region.x, state.region.y)) : imgFromAsset;
      out.region = predictionRegion(stitcher, shifted, this.#settings.connectivity);
    }
    if (this.writePreds) {
      out.preds = predictedPolygons(stitcher, this.polygonIdxs, this.thresh, imgFromAsset, this.#settings.connectivity);
    }
    return out;
  }

  #geo(img: CocoImageDict, imgFromAsset: Affine): { epsg: number; transform: Affine } | null {
    const crs = img.wld_crs_info as { auth?: unknown } | undefined;
    if (!crs || img.wld_to_pxl === undefined || img.wld_to_pxl === null) return null;
    const auth = crs.auth;
    if (!Array.isArray(auth) || auth.length < 2 || String(auth[0]).toUpperCase() !== 'EPSG' || !Number.isInteger(Number(auth[1]))) {
      process.emitWarning(`image ${img.id}: wld_crs_info.auth ${fmt(auth)} is not an EPSG code; writing without georeferencing`, 'CocoStitcherWarning');
      return null;
    }
    const wldFromImg = Affine.coerce(img.wld_to_pxl as never).inv();
    return { epsg: Number(auth[1]), transform: wldFromImg.matmul(imgFromAsset) };
  }

  /** Modify the dataset (main thread, in submission order). */
  #register(gid: number, img: CocoImageDict, out: WriteOutcome): FinalizeInfo {
    if (out.region) {
      img.prediction_region = out.region;
      img.has_predictions = { ...(img.has_predictions ?? {}), [this.chanCode!]: true };
    }
    if (out.asset) registerAsset(this.resultDataset, gid, out.asset);
    let nAnns = 0;
    if (out.preds.length) {
      const cids = this.polygonCategories!.map((c) => this.resultDataset.ensureCategory(c));
      for (const p of out.preds) {
        const cid = cids[this.polygonIdxs.indexOf(p.band)];
        this.resultDataset.addAnnotation({ image_id: gid, category_id: cid, bbox: p.bbox, segmentation: p.segmentation, score: p.score });
        nAnns++;
      }
    }
    const info: FinalizeInfo = { nAnns, totalProb: out.totalProb, validValues: out.validValues, allNodata: out.validValues === 0, ...(out.regionReport ? { region: out.regionReport } : {}) };
    this.#infos.set(gid, info);
    return info;
  }

  /** What the finalize of image `gid` found (undefined until it is registered). */
  finalizeInfo(gid: number): FinalizeInfo | undefined { return this.#infos.get(gid); }

  /** Images registered so far whose stitched values are all nodata (no valid value), in registration order. */
  allNodataImageIds(): number[] { return [...this.#infos].filter(([, i]) => i.allNodata).map(([g]) => g); }

  /** Release every stitcher not yet handed to a finalize (memmap files included). In-flight ones are released when their write ends. */
  dispose(): void {
    for (const s of this.#images.values()) s.stitcher.dispose();
    this.#images.clear();
    this.#disposed = true;
    if (this.#claim !== null && writersOf.get(this.resultDataset)?.get(this.#claim) === this) writersOf.get(this.resultDataset)!.delete(this.#claim);
    this.#claim = null;
  }
}

interface WriteOutcome {
  imgFromAsset: Affine;
  totalProb: number;
  nAnns: number;
  region?: MultiPolygon;
  asset?: { file_name: string; channels: string; height: number; width: number; num_bands: number; warp_aux_to_img: unknown; quantization?: Quantization };
  preds: PredictedPolygon[];
  /** -1 until known */
  validValues: number;
  regionReport?: RegionReport;
}

/** A slice in asset pixels of the whole image made relative to a region's canvas (null: the whole asset). */
function shiftSlice(sl: SpaceSlice | readonly Slice[] | null, r: AssetRegion, dsize: [number, number]): Slice[] {
  if (sl === null || sl === undefined) return [slice(-r.y, dsize[1] - r.y), slice(-r.x, dsize[0] - r.x)];
  if (!Array.isArray(sl) || sl.length !== 2) throw new StitchError(`accumulateImage: spaceSlice must be [rows, cols] or null, got ${fmt(sl)}`);
  const [rows, cols] = fixSlice(sl as readonly Slice[]);
  const sh = (s: Slice, o: number, n: number): Slice => ({ start: (s.start ?? 0) - o, stop: (s.stop ?? n) - o, step: s.step });
  return [sh(rows, r.y, dsize[1]), sh(cols, r.x, dsize[0])];
}

function scaleRaster(r: Raster, k: number, dtype: 'float32' | 'float64'): Raster {
  const src = r.data as Float32Array;
  const out = new (dtype === 'float64' ? Float64Array : Float32Array)(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] * k;
  return new Raster(out, r.shape);
}

function multiplyRasters(a: Raster, b: Raster, dtype: 'float32' | 'float64'): Raster {
  const x = a.data as Float32Array, y = b.data as Float32Array;
  const out = new (dtype === 'float64' ? Float64Array : Float32Array)(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * y[i];
  return new Raster(out, a.shape);
}
