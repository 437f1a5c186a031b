/**
 * writeCog's options and sources: validation (every bad value is a
 * WriterOptionError naming it) and resolution of defaults into a plan.
 */
import { Affine } from '../../array/affine.ts';
import { DTYPES, isDtype, type Dtype } from '../../array/dtypes.ts';
import { Raster } from '../../array/raster.ts';
import { WriterOptionError } from '../errors.ts';
import { COMPRESS_NAMES, LEVELS, type CompressName, type DeflateEngine } from './compress.ts';
import type { OverviewResample } from './overviews.ts';
import type { BandScaleOffset } from './gdal-metadata-write.ts';

/** A raster delivered block by block (a Stitcher's blockSource(), a huge image). */
export interface BlockSource {
  readonly height: number;
  readonly width: number;
  readonly bands: number;
  readonly dtype: Dtype;
  /**
   * The pixels of rows y0..y0+h, columns x0..x0+w as an h x w x bands raster
   * of `dtype`, or null when the block is empty (written as a sparse tile,
   * which reads as nodata, or 0 without one). Blocks are asked for in
   * row-major order, each at most once. The writer copies a block before it
   * asks for the next one, so a source may hand out the same buffer again.
   */
  readBlock(y0: number, x0: number, h: number, w: number): Raster | null | Promise<Raster | null>;
}

/** Options of {@link writeCog}. */
export interface WriteCogOptions {
  /** tile compression (default 'DEFLATE') */
  compress?: CompressName;
  /** compression level: DEFLATE 1-9 (default 6), ZSTD 1-22 (default 9); not for LZW / NONE */
  level?: number;
  /** 1 none, 2 horizontal (integers, float32), 3 floating point (floats); default 2 for ints / 3 for floats when compressed, else 1 */
  predictor?: 1 | 2 | 3;
  /** tile width and height in pixels, a multiple of 16 (default 128) */
  blocksize?: number;
  /** overview factors ([2, 4]), a count of 2x levels (2 = [2, 4]), or 'auto' (halve until a level fits in one tile); default none */
  overviews?: readonly number[] | number | 'auto';
  /** how overviews are computed (default 'nearest') */
  overviewResample?: OverviewResample;
  /** nodata value (GDAL_NODATA), representable in the dtype */
  nodata?: number | null;
  /** dataset metadata items (GDAL_METADATA) */
  metadata?: Readonly<Record<string, string>>;
  /** every band's GDAL scale and offset (GDAL_METADATA items; readers that apply them get `raw * scale + offset`) */
  bandScale?: BandScaleOffset | null;
  /** EPSG code of the CRS */
  epsg?: number | null;
  /** pixel-corner -> CRS transform */
  transform?: Affine | null;
  /** BigTIFF: true, false, or 'auto' (default: BigTIFF only when the file would pass 4 GiB) */
  bigtiff?: boolean | 'auto';
  /** write empty blocks (null from readBlock, or all nodata / all 0) as sparse tiles (default true) */
  sparse?: boolean;
  /** DEFLATE implementation: 'auto' (default: libdeflate when its addon is built, else node:zlib), 'libdeflate' or 'zlib' */
  deflateEngine?: DeflateEngine;
}

/** Options resolved to their final values. */
export interface CogPlan {
  height: number;
  width: number;
  bands: number;
  dtype: Dtype;
  compress: CompressName;
  level: number | undefined;
  predictor: 1 | 2 | 3;
  blocksize: number;
  /** size of each overview level, largest first, and its factor relative to the level before */
  overviews: { width: number; height: number; k: number }[];
  resample: OverviewResample;
  nodata: number | null;
  metadata: Record<string, string>;
  bandScale: BandScaleOffset | null;
  epsg: number | null;
  transform: Affine | null;
  bigtiff: boolean | 'auto';
  sparse: boolean;
  deflateEngine: DeflateEngine;
}

const KNOWN_OPTIONS = new Set(['compress', 'level', 'predictor', 'blocksize', 'overviews', 'overviewResample', 'nodata', 'metadata', 'bandScale',
  'epsg', 'transform', 'bigtiff', 'sparse', 'deflateEngine']);

const show = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v == null) return String(v);
  try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
};

/** Checks a source: a Raster, or a BlockSource with sane dimensions and dtype. */
export function checkSource(source: unknown): Raster | BlockSource {
  if (source instanceof Raster) {
    if (source.height < 1 || source.width < 1 || source.bands < 1) {
      throw new WriterOptionError(`cannot write an empty raster of shape [${source.shape.join(', ')}]`);
    }
    if (source.bands > 65535) throw new WriterOptionError(`a TIFF holds at most 65535 bands, got a raster of ${source.bands}`);
    return source;
  }
  const s = source as Partial<BlockSource> | null;
  if (!s || typeof s !== 'object' || typeof s.readBlock !== 'function') {
    throw new WriterOptionError(`writeCog source must be a Raster or {height, width, bands, dtype, readBlock}, got ${show(source)}`);
  }
  for (const key of ['height', 'width', 'bands'] as const) {
    const v = s[key];
    if (!Number.isInteger(v) || (v as number) < 1) throw new WriterOptionError(`block source ${key} must be a positive integer, got ${show(v)}`);
  }
  if (s.bands! > 65535) throw new WriterOptionError(`block source bands must be at most 65535, got ${s.bands}`);
  if (!isDtype(s.dtype)) throw new WriterOptionError(`block source dtype must be one of ${Object.keys(DTYPES).join(', ')}, got ${show(s.dtype)}`);
  return s as BlockSource;
}

function overviewFactors(spec: WriteCogOptions['overviews'], w: number, h: number, blocksize: number): number[] {
  if (spec === undefined || spec === null) return [];
  if (spec === 'auto') {
    const out: number[] = [];
    for (let f = 2; Math.ceil(w / (f / 2)) > blocksize || Math.ceil(h / (f / 2)) > blocksize; f *= 2) out.push(f);
    return out;
  }
  if (typeof spec === 'number') {
    if (!Number.isInteger(spec) || spec < 0 || spec > 30) throw new WriterOptionError(`overviews count must be an integer 0..30, got ${show(spec)}`);
    return Array.from({ length: spec }, (_, i) => 2 ** (i + 1));
  }
  if (!Array.isArray(spec)) throw new WriterOptionError(`overviews must be a list of factors, a count or 'auto', got ${show(spec)}`);
  spec.forEach((f, i) => {
    if (!Number.isInteger(f) || f < 2) throw new WriterOptionError(`overview factor ${show(f)} must be an integer >= 2 (in overviews ${show(spec)})`);
    const prev = i === 0 ? 1 : spec[i - 1];
    if (f <= prev || f % prev !== 0) {
      throw new WriterOptionError(`overview factors must increase, each a multiple of the one before: ${show(f)} after ${prev} (in overviews ${show(spec)})`);
    }
  });
  return [...spec];
}

/** Validates `options` against a source of this size and dtype; resolves every default. */
export function resolveOptions(options: WriteCogOptions | undefined, src: { height: number; width: number; bands: number; dtype: Dtype }): CogPlan {
  const o = (options ?? {}) as WriteCogOptions & Record<string, unknown>;
  if (typeof o !== 'object') throw new WriterOptionError(`writeCog options must be an object, got ${show(options)}`);
  for (const key of Object.keys(o)) {
    if (!KNOWN_OPTIONS.has(key)) throw new WriterOptionError(`unknown writeCog option ${show(key)} (known: ${[...KNOWN_OPTIONS].join(', ')})`);
  }
  const info = DTYPES[src.dtype];
  const compress = o.compress ?? 'DEFLATE';
  if (!COMPRESS_NAMES.includes(compress)) throw new WriterOptionError(`compress must be one of ${COMPRESS_NAMES.join(', ')}, got ${show(compress)}`);

  let level: number | undefined;
  if (o.level !== undefined && o.level !== null) {
    const range = LEVELS[compress];
    if (!range) throw new WriterOptionError(`level ${show(o.level)} given, but ${compress} has no compression level`);
    if (!Number.isInteger(o.level) || o.level < range.min || o.level > range.max) {
      throw new WriterOptionError(`${compress} level must be an integer ${range.min}..${range.max}, got ${show(o.level)}`);
    }
    level = o.level;
  }

  let predictor: 1 | 2 | 3;
  if (o.predictor === undefined || o.predictor === null) {
    predictor = compress === 'NONE' ? 1 : info.isFloat ? 3 : 2;
  } else {
    if (o.predictor !== 1 && o.predictor !== 2 && o.predictor !== 3) throw new WriterOptionError(`predictor must be 1, 2 or 3, got ${show(o.predictor)}`);
    predictor = o.predictor;
    if (predictor !== 1 && compress === 'NONE') throw new WriterOptionError(`predictor ${predictor} needs compression; compress is NONE`);
    if (predictor === 3 && !info.isFloat) throw new WriterOptionError(`predictor 3 (floating point) is only for float32/float64 data, got dtype ${src.dtype}`);
    if (predictor === 2 && info.bytes === 8) throw new WriterOptionError(`predictor 2 on 64-bit samples (dtype ${src.dtype}) is not supported; use predictor 3`);
  }

  const blocksize = o.blocksize ?? 128;
  if (!Number.isInteger(blocksize) || blocksize < 16 || blocksize > 4096 || blocksize % 16 !== 0) {
    throw new WriterOptionError(`blocksize must be a multiple of 16 in 16..4096, got ${show(blocksize)}`);
  }

  const factors = overviewFactors(o.overviews, src.width, src.height, blocksize);
  const overviews: CogPlan['overviews'] = [];
  let [pw, ph, pf] = [src.width, src.height, 1];
  for (const f of factors) {
    const [w, h] = [Math.ceil(src.width / f), Math.ceil(src.height / f)];
    if (w >= pw && h >= ph) break; // no longer shrinking (1 x 1 reached)
    overviews.push({ width: w, height: h, k: f / pf });
    [pw, ph, pf] = [w, h, f];
  }

  const resample = o.overviewResample ?? 'nearest';
  if (resample !== 'nearest' && resample !== 'average') throw new WriterOptionError(`overviewResample must be 'nearest' or 'average', got ${show(resample)}`);

  let nodata: number | null = null;
  if (o.nodata !== undefined && o.nodata !== null) {
    const v = o.nodata;
    if (typeof v !== 'number') throw new WriterOptionError(`nodata must be a number, got ${show(v)}`);
    if (info.isFloat) {
      if (src.dtype === 'float32' && Number.isFinite(v) && !Number.isFinite(Math.fround(v))) throw new WriterOptionError(`nodata ${v} does not fit in float32`);
    } else if (!Number.isInteger(v) || v < info.min || v > info.max) {
      throw new WriterOptionError(`nodata ${show(v)} is not a ${src.dtype} value (integers ${info.min}..${info.max})`);
    }
    nodata = src.dtype === 'float32' ? Math.fround(v) : v;
  }

  const metadata: Record<string, string> = {};
  if (o.metadata !== undefined && o.metadata !== null) {
    if (typeof o.metadata !== 'object' || Array.isArray(o.metadata)) throw new WriterOptionError(`metadata must be an object of strings, got ${show(o.metadata)}`);
    for (const [k, v] of Object.entries(o.metadata)) {
      if (k === '' || typeof v !== 'string') throw new WriterOptionError(`metadata item ${show(k)} must be a non-empty name with a string value, got ${show(v)}`);
      metadata[k] = v;
    }
  }

  let bandScale: BandScaleOffset | null = null;
  if (o.bandScale !== undefined && o.bandScale !== null) {
    const b = o.bandScale as unknown as Record<string, unknown>;
    // scale 0 is allowed: constant data quantized over orig_min == orig_max reads as orig_min
    if (typeof b !== 'object' || !Number.isFinite(b.scale) || !Number.isFinite(b.offset)) {
      throw new WriterOptionError(`bandScale must be {scale, offset} of finite numbers, got ${show(o.bandScale)}`);
    }
    bandScale = { scale: b.scale as number, offset: b.offset as number };
  }

  let epsg: number | null = null;
  if (o.epsg !== undefined && o.epsg !== null) {
    if (!Number.isInteger(o.epsg) || o.epsg < 1 || o.epsg > 32766) throw new WriterOptionError(`epsg must be an EPSG code (integer 1..32766), got ${show(o.epsg)}`);
    epsg = o.epsg;
  }

  let transform: Affine | null = null;
  if (o.transform !== undefined && o.transform !== null) {
    const t = o.transform as unknown;
    if (!(t instanceof Affine)) throw new WriterOptionError(`transform must be an Affine (pixel corner -> CRS), got ${show(t)}`);
    if (!t.matrix.every(Number.isFinite)) throw new WriterOptionError(`transform has non-finite entries: ${show(t.matrix)}`);
    transform = t;
  }

  const bigtiff = o.bigtiff ?? 'auto';
  if (bigtiff !== true && bigtiff !== false && bigtiff !== 'auto') throw new WriterOptionError(`bigtiff must be true, false or 'auto', got ${show(bigtiff)}`);
  const sparse = o.sparse ?? true;
  if (typeof sparse !== 'boolean') throw new WriterOptionError(`sparse must be a boolean, got ${show(sparse)}`);

  const deflateEngine = o.deflateEngine ?? 'auto';
  if (deflateEngine !== 'auto' && deflateEngine !== 'libdeflate' && deflateEngine !== 'zlib') {
    throw new WriterOptionError(`deflateEngine must be 'auto', 'libdeflate' or 'zlib', got ${show(deflateEngine)}`);
  }
  return { ...src, compress, level, predictor, blocksize, overviews, resample, nodata, metadata, bandScale, epsg, transform, bigtiff, sparse, deflateEngine };
}
