/**
 * CocoStitchingManager's options: their types, defaults and validation. Each
 * bad value is an error naming the option, the value and what was expected;
 * the manager itself only coordinates (manager.ts).
 */
import { DtypeError, ValueError } from '../array/errors.ts';
import { FusedChannelSpec } from '../coco/channel-spec.ts';
import { COMPRESS_NAMES, type CompressName } from '../io/cog/compress.ts';
import { WriterOptionError } from '../io/errors.ts';
import { StitchError } from './errors.ts';
import type { AssetWriters } from './finalize-image.ts';
import type { WriterQueue } from './writer-queue.ts';

/** Compression names accepted by `probCompress` ('RAW' is GDAL's name for 'NONE'). */
export type ProbCompress = CompressName | 'RAW';

/** Options of {@link CocoStitchingManager} (the original's, camelCase, plus a few of ours at the end). */
export interface CocoStitchingManagerOptions {
  /** folder name under `{bundle}/{assetsDname}/` (sanitised) */
  shortCode?: string | null;
  /** channel code of the stitched bands, e.g. 'df1|df2' */
  chanCode?: string | null;
  /** 'video' (default) or 'image' */
  stitchingSpace?: 'video' | 'image';
  /** 'cpu' (default); 'numpy' is an alias; anything else is an error */
  device?: string;
  /** true: blocks in a temp file; a string: the folder for it */
  memmap?: boolean | string | null;
  /** threshold of `writePreds` (default 0.5) */
  thresh?: number;
  writeProbs?: boolean;
  writePreds?: boolean;
  numBands?: number | 'auto';
  probCompress?: ProbCompress;
  probBlocksize?: number;
  probFormat?: 'cog' | 'tif' | 'png';
  /** channels turned into polygons by `writePreds` (default: all of chanCode) */
  polygonCategories?: readonly string[] | null;
  /** fixed [min, max] of the quantization (else floor/ceil of each image's data) */
  expectedMinmax?: readonly [number, number] | null;
  quantize?: boolean;
  /** a queue shared with other managers (default: a queue of this manager, 2 images in flight) */
  writerQueue?: WriterQueue | null;
  writePredictionAttrs?: boolean;
  assetsDname?: string;
  dtype?: 'float32' | 'float64';
  // ---- ours
  /** Inf in the data: 'raise' (default) or 'omit' (zero weight, like NaN) */
  infPolicy?: 'raise' | 'omit';
  /** memory cache of a memmapped stitcher, bytes (default 256 MB) */
  memmapCacheBytes?: number;
  /** pixel connectivity of polygons (default 8) */
  connectivity?: 4 | 8;
  /** writer functions (to inject failures in tests) */
  io?: AssetWriters;
}

/** The options with defaults applied and values checked. */
export interface ManagerSettings {
  shortCode: string | null;
  chanCode: string | null;
  /** number of channels of chanCode (null without one) */
  chanNumel: number | null;
  stitchingSpace: 'video' | 'image';
  device: 'cpu';
  memmap: boolean | string;
  thresh: number;
  writeProbs: boolean;
  writePreds: boolean;
  numBands: number | 'auto';
  probCompress: CompressName;
  probBlocksize: number;
  probFormat: 'cog' | 'tif' | 'png';
  polygonCategories: readonly string[] | null;
  /** band index in chanCode of each polygon category */
  polygonIdxs: readonly number[];
  expectedMinmax: readonly [number, number] | null;
  quantize: boolean;
  /** the shared queue, or null: the manager makes its own */
  writerQueue: WriterQueue | null;
  writePredictionAttrs: boolean;
  assetsDname: string;
  dtype: 'float32' | 'float64';
  infPolicy: 'raise' | 'omit';
  memmapCacheBytes: number | undefined;
  connectivity: 4 | 8;
  io: AssetWriters | undefined;
}

/** A value as it appears in messages. */
export function fmt(v: unknown): string {
  try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
}

/** Throws unless `n` bands agree with chanCode's channel count (when there is a chanCode). */
export function checkBandCount(settings: Pick<ManagerSettings, 'chanCode' | 'chanNumel'>, n: number, what: string): void {
  const numel = settings.chanNumel;
  if (numel !== null && n !== numel) {
    throw new StitchError(`${what} has ${n} band${n === 1 ? '' : 's'} but chanCode ${fmt(settings.chanCode)} has ${numel} channel${numel === 1 ? '' : 's'}; they must agree (kwcoco would fail to load the asset)`);
  }
}

/** Applies the defaults to `o` and checks every value (the first bad one throws). */
export function resolveManagerOptions(o: CocoStitchingManagerOptions = {}): ManagerSettings {
  const shortCode = o.shortCode ?? null;
  const chanCode = o.chanCode ?? null;
  const stitchingSpace = o.stitchingSpace ?? 'video';
  if (stitchingSpace !== 'video' && stitchingSpace !== 'image') {
    throw new ValueError(`stitchingSpace must be 'video' or 'image', got ${fmt(o.stitchingSpace)}`);
  }
  const device = o.device ?? 'cpu';
  if (device !== 'cpu' && device !== 'numpy') {
    throw new ValueError(`device ${fmt(device)} is not supported: this port stitches on the CPU only (use 'cpu', or its alias 'numpy')`);
  }
  const memmap = o.memmap ?? false;
  const thresh = o.thresh ?? 0.5;
  if (typeof thresh !== 'number' || Number.isNaN(thresh)) throw new ValueError(`thresh must be a number, got ${fmt(o.thresh)}`);
  const writeProbs = o.writeProbs ?? true;
  const writePreds = o.writePreds ?? false;
  const numBands = o.numBands ?? 'auto';
  if (numBands !== 'auto' && !(Number.isInteger(numBands) && numBands > 0)) {
    throw new ValueError(`numBands must be 'auto' or a positive integer, got ${fmt(o.numBands)}`);
  }
  const comp = String(o.probCompress ?? 'DEFLATE').toUpperCase();
  const probCompress = comp === 'RAW' ? 'NONE' : comp;
  if (!(COMPRESS_NAMES as readonly string[]).includes(probCompress)) throw new WriterOptionError(`probCompress ${fmt(o.probCompress)} is not supported; expected one of DEFLATE, LZW, ZSTD, NONE (RAW)`);
  const probBlocksize = o.probBlocksize ?? 128;
  if (!Number.isInteger(probBlocksize) || probBlocksize < 16 || probBlocksize % 16 !== 0) {
    throw new WriterOptionError(`probBlocksize must be a positive multiple of 16 (TIFF tiles), got ${fmt(o.probBlocksize)}`);
  }
  const probFormat = o.probFormat ?? 'cog';
  if (!['cog', 'tif', 'png'].includes(probFormat)) throw new WriterOptionError(`unknown probFormat ${fmt(o.probFormat)}; expected 'cog', 'tif' or 'png'`);
  const quantize = o.quantize ?? true;
  if (probFormat === 'png' && !quantize && writeProbs) {
    throw new WriterOptionError(`probFormat 'png' needs quantize: true (PNG holds integers; float probabilities need 'cog' or 'tif')`);
  }
  const expectedMinmax = o.expectedMinmax ?? null;
  if (expectedMinmax !== null) {
    const [lo, hi] = expectedMinmax;
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) throw new ValueError(`expectedMinmax must be [min, max] with finite min < max, got ${fmt(o.expectedMinmax)}`);
  }
  const writePredictionAttrs = o.writePredictionAttrs ?? true;
  const assetsDname = o.assetsDname ?? '_assets';
  const dtype = o.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') throw new DtypeError(`dtype must be 'float32' or 'float64', got ${fmt(o.dtype)}`);
  const infPolicy = o.infPolicy ?? 'raise';

  if ((writeProbs || writePreds || writePredictionAttrs) && (typeof chanCode !== 'string' || chanCode === '')) {
    throw new ValueError(`chanCode is required (e.g. 'salient' or 'df1|df2'), got ${fmt(o.chanCode)}`);
  }
  if (writeProbs && (typeof shortCode !== 'string' || shortCode === '')) {
    throw new ValueError(`shortCode is required when writeProbs is true (it names the folder {bundle}/${assetsDname}/{shortCode}), got ${fmt(o.shortCode)}`);
  }
  const chanNumel = chanCode ? FusedChannelSpec.coerce(chanCode).numel() : null;
  if (numBands !== 'auto') checkBandCount({ chanCode, chanNumel }, numBands, 'numBands');
  let polygonIdxs: number[] = [];
  let polygonCategories: readonly string[] | null = o.polygonCategories ?? null;
  if (writePreds) {
    const parsed = FusedChannelSpec.coerce(chanCode!).parsed;
    polygonCategories = polygonCategories ?? parsed;
    polygonIdxs = polygonCategories.map((c) => {
      const i = parsed.indexOf(c);
      if (i < 0) throw new ValueError(`polygonCategories entry ${fmt(c)} is not a channel of chanCode ${fmt(chanCode)} (${parsed.join(', ')})`);
      return i;
    });
  }
  return {
    shortCode, chanCode, chanNumel, stitchingSpace, device: 'cpu', memmap, thresh, writeProbs, writePreds, numBands,
    probCompress: probCompress as CompressName, probBlocksize, probFormat, polygonCategories, polygonIdxs, expectedMinmax,
    quantize, writerQueue: o.writerQueue ?? null, writePredictionAttrs, assetsDname, dtype, infPolicy,
    memmapCacheBytes: o.memmapCacheBytes, connectivity: o.connectivity ?? 8, io: o.io,
  };
}
