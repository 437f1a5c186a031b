/**
 * The stitch stage: each window's model output goes into the image's canvas
 * through a CocoStitchingManager, which is made when the first output
 * arrives (the output channel count comes from the model itself, so no
 * separate probe run is needed). NaN and Inf in the output are counted per
 * image and handled by the run's policies here, where the message can name
 * the image, the window and the option.
 */
import { checkAllocation } from '../array/memory-budget.ts';
import { ValueError } from '../array/errors.ts';
import { Raster } from '../array/raster.ts';
import { slice } from '../array/slices.ts';
import type { CocoDataset } from '../coco/dataset.ts';
import { FusedChannelSpec } from '../coco/channel-spec.ts';
import { nativeAddon } from '../io/native-addon.ts';
import { StitchError } from '../stitch/errors.ts';
import { CocoStitchingManager } from '../stitch/manager.ts';
import type { CocoStitchingManagerOptions } from '../stitch/manager-options.ts';
import type { BatchOutput } from './model-stage.ts';
import { canvasBytes, imageLabel, type PlannedWindow } from './plan.ts';
import { windowOnAsset } from './region.ts';

/** What the model gave one image. */
export interface OutputCounts {
  /** values (pixels x bands) of its windows' outputs */
  values: number;
  nan: number;
  /** Inf values (given no weight under infPolicy 'omit') */
  inf: number;
}

export interface StitchStageOptions {
  shortCode: string;
  chanCode?: string;
  space: 'video' | 'image';
  inputScale: number;
  outputScale: number;
  downweightEdges: boolean;
  nanPolicy: 'omit' | 'raise';
  infPolicy: 'raise' | 'omit';
  memmap: boolean | string;
  /** how the manager writes (format, compression, quantization) */
  manager: Omit<CocoStitchingManagerOptions, 'shortCode' | 'chanCode' | 'stitchingSpace' | 'memmap' | 'infPolicy'>;
}

export class StitchStage {
  readonly #dset: CocoDataset;
  readonly #opts: StitchStageOptions;
  #manager: CocoStitchingManager | null = null;
  #chanCode: string | null = null;
  readonly counts = new Map<number, OutputCounts>();
  /** seconds spent stitching */
  seconds = 0;
  windowsDone = 0;

  constructor(dset: CocoDataset, opts: StitchStageOptions) {
    this.#dset = dset;
    this.#opts = opts;
  }

  /** The manager, once the first output has arrived. */
  get manager(): CocoStitchingManager | null { return this.#manager; }
  /** The output channel code, once the first output has arrived. */
  get chanCode(): string | null { return this.#chanCode; }

  #start(nOut: number): CocoStitchingManager {
    const chanCode = this.#opts.chanCode ?? Array.from({ length: nOut }, (_, i) => `${this.#opts.shortCode}.${i}`).join('|');
    const nDeclared = FusedChannelSpec.coerce(chanCode).numel();
    if (nDeclared !== nOut) {
      throw new ValueError(`--chan-code ${chanCode} has ${nDeclared} channels but the model outputs ${nOut}`);
    }
    this.#chanCode = chanCode;
    this.#manager = new CocoStitchingManager(this.#dset, {
      ...this.#opts.manager,
      shortCode: this.#opts.shortCode, chanCode, stitchingSpace: this.#opts.space,
      memmap: this.#opts.memmap, infPolicy: 'omit', writePredictionAttrs: true,
    });
    return this.#manager;
  }

  /** Stitches one batch's outputs, window by window. */
  add(out: BatchOutput): void {
    const t = performance.now();
    const [, c, oh, ow] = out.dims;
    const manager = this.#manager ?? this.#start(c);
    const per = c * oh * ow;
    const { inputScale, outputScale } = this.#opts;
    for (let i = 0; i < out.windows.length; i++) {
      const w = out.windows[i];
      const gid = w.plan.gid;
      const chw = out.data.subarray(i * per, (i + 1) * per);
      if (!this.counts.has(gid)) this.#beginImage(w, c);
      this.#count(w, chw, oh * ow);
      const data = Raster.fromCHW(chw, [c, oh, ow]); // a new HWC copy
      // placed by the function region planning uses, so a region runs exactly the windows that land on it
      const [r0, r1, c0, c1] = windowOnAsset(w.rows, w.cols, outputScale);
      manager.accumulateImage(gid, [slice(r0, r1), slice(c0, c1)], data, {
        assetDsize: w.plan.assetDsize,
        scaleAssetFromStitchspace: inputScale * outputScale,
        downweightEdges: this.#opts.downweightEdges,
        isReady: false,
        ...(w.plan.region ? { assetRegion: w.plan.region } : {}),
      });
      this.windowsDone++;
    }
    this.seconds += (performance.now() - t) / 1000;
  }

  #beginImage(w: PlannedWindow, bands: number): void {
    const { gid, assetDsize, region } = w.plan;
    const [cw, ch] = region ? [region.width, region.height] : assetDsize;
    if (this.#opts.memmap === false) {
      checkAllocation(canvasBytes(ch, cw, bands),
        `${imageLabel(this.#dset, gid)}: its stitched output of ${cw} x ${ch} pixels x ${bands} bands${region ? ` (region x ${region.x}, y ${region.y})` : ''} (--input-scale ${this.#opts.inputScale}, --output-scale ${this.#opts.outputScale}; --memmap keeps it on disk instead)`);
    }
    this.#manager!.expectWindows(gid, w.plan.windows);
    this.counts.set(gid, { values: 0, nan: 0, inf: 0 });
  }

  /** Counts NaN and Inf in one window's output (CHW) and applies the policies. */
  #count(w: PlannedWindow, chw: Float32Array, plane: number): void {
    let nan = 0;
    let inf = 0;
    // the addon's SIMD scan finds where counting starts (-1: nothing to count, the usual case);
    // without it, counting and the error's search start at 0
    const lib = nativeAddon();
    const first = lib?.firstNonFinite ? lib.firstNonFinite(chw, 0, 0, 1, chw.length) : 0;
    for (let i = first < 0 ? chw.length : first; i < chw.length; i++) {
      const v = chw[i];
      if (v !== v) nan++;
      else if (v === Infinity || v === -Infinity) inf++;
    }
    const counts = this.counts.get(w.plan.gid)!;
    counts.values += chw.length;
    counts.nan += nan;
    counts.inf += inf;
    const where = () => {
      let i = first;
      while (i < chw.length && Number.isFinite(chw[i])) i++;
      const band = Math.floor(i / plane);
      const p = i % plane;
      const ow = Math.round((w.cols[1] - w.cols[0]) * this.#opts.outputScale);
      return `${chw[i]} at output pixel (${Math.floor(p / ow)}, ${p % ow}) band ${band} of the window at rows ${w.rows.join(':')}, cols ${w.cols.join(':')} of ${imageLabel(this.#dset, w.plan.gid)}`;
    };
    if (nan > 0 && this.#opts.nanPolicy === 'raise') {
      throw new StitchError(`the model output ${where()}; --nan-policy raise forbids NaN (--nan-policy omit gives such values no weight)`);
    }
    if (inf > 0 && this.#opts.infPolicy === 'raise') {
      throw new StitchError(`the model output ${where()}; --inf-policy raise forbids Inf (--inf-policy omit gives such values no weight, as NaN)`);
    }
  }

  /** A warning for an image whose model output had no finite value, else null. */
  emptyWarning(gid: number): string | null {
    const c = this.counts.get(gid);
    if (!c || c.values === 0 || c.nan + c.inf < c.values) return null;
    const what = c.inf === 0 ? 'NaN' : c.nan === 0 ? 'Inf' : 'NaN or Inf';
    return `${imageLabel(this.#dset, gid)}: the model output ${what} for every value of its windows; its asset is all nodata`;
  }
}
