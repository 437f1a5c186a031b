/**
 * kwcoco's quantization record of an asset, its check on load and the
 * dequantization (fixtures README C7):
 * `value = f32(f32(f32(q) - quant_min) * f32(scale)) + orig_min` with
 * `scale = (orig_max - orig_min) / (quant_max - quant_min)` (double, then
 * float32), every step in float32; NaN where `q == nodata`.
 * The stitch layer's quantizeImage / dequantize build on these.
 */
import { Raster } from '../array/raster.ts';
import { ManifestError } from './errors.ts';

/**
 * kwcoco's quantization dict (snake_case: it is written into manifests as is).
 * `nodata` absent or null: no sample is nodata (what this package writes always has one).
 */
export interface Quantization {
  orig_min: number;
  orig_max: number;
  quant_min: number;
  quant_max: number;
  nodata?: number | null;
}

/** Checks a quantization record, naming the bad field. */
export function checkQuantization(q: unknown, where: string): Quantization {
  if (q === null || typeof q !== 'object' || Array.isArray(q)) {
    throw new ManifestError(`${where}: quantization must be an object {orig_min, orig_max, quant_min, quant_max, nodata}, got ${JSON.stringify(q)}`);
  }
  const r = q as Record<string, unknown>;
  for (const k of ['orig_min', 'orig_max', 'quant_min', 'quant_max']) {
    if (typeof r[k] !== 'number' || !Number.isFinite(r[k])) {
      throw new ManifestError(`${where}: quantization.${k} must be a finite number, got ${JSON.stringify(r[k])}`);
    }
  }
  if (r.quant_max === r.quant_min) throw new ManifestError(`${where}: quantization has quant_min == quant_max (${String(r.quant_min)})`);
  if (r.nodata !== undefined && r.nodata !== null && typeof r.nodata !== 'number') {
    throw new ManifestError(`${where}: quantization.nodata must be a number or null, got ${JSON.stringify(r.nodata)}`);
  }
  return r as unknown as Quantization;
}

/** The float32 values of quantized `raster` (NaN at nodata). */
export function dequantizeRaster(raster: Raster, q: Quantization): Raster<Float32Array> {
  const fr = Math.fround;
  const scale = fr((q.orig_max - q.orig_min) / (q.quant_max - q.quant_min));
  const qmin = fr(q.quant_min);
  const omin = fr(q.orig_min);
  const nodata = q.nodata ?? null;
  const src = raster.data;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    out[i] = v === nodata ? NaN : fr(fr(fr(v) - qmin) * scale) + omin;
  }
  return new Raster(out, raster.shape);
}

/**
 * GDAL's band scale and offset for data quantized by `q`, so tools that apply
 * them (gdalinfo, QGIS, rasterio's `scales` / `offsets`, GDAL's `-unscale`)
 * read the model's values: `raw * scale + offset` is C7's
 * `(raw - quant_min) * scale + orig_min` in double precision, which differs
 * from kwcoco's float32 steps by rounding only (a few float32 ulps). kwcoco
 * itself never reads these: it reads raw samples and dequantizes from the
 * manifest's `quantization`, so the file's values are not scaled twice.
 */
export function gdalScaleOffset(q: Quantization): { scale: number; offset: number } {
  const scale = (q.orig_max - q.orig_min) / (q.quant_max - q.quant_min);
  return { scale, offset: q.orig_min - q.quant_min * scale };
}
