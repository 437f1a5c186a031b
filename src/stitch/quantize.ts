/**
 * Quantization of float rasters into integers and back, as kwcoco stores it:
 * a `quantization` dict `{orig_min, orig_max, quant_min, quant_max, nodata}`
 * next to the asset, and `dequantize` inverts it (NaN at nodata).
 *
 * Port of geowatch's `quantize_image` with one deliberate change: values are
 * ROUNDED to the nearest level instead of truncated, so the reconstruction
 * error is at most half a step, `(orig_max - orig_min) / (quant_max - quant_min) / 2`.
 *
 * Dtype rules (derived from the original's code logic, which reads `np.iinfo(dtype)`):
 * - unsigned (`kind == 'u'`): quant_min 1, quant_max iinfo.max, nodata 0;
 * - signed (`kind == 'i'`): quant_min 0, quant_max iinfo.max, nodata max(-9999, iinfo.min).
 * So `quantize_image(None, 0, 1, dtype)` gives, per dtype:
 *   int16  {orig_min 0, orig_max 1, quant_min 0, quant_max 32767, nodata -9999}
 *   int8   {orig_min 0, orig_max 1, quant_min 0, quant_max 127,   nodata -128}
 *   uint8  {orig_min 0, orig_max 1, quant_min 1, quant_max 255,   nodata 0}
 *   uint16 {orig_min 0, orig_max 1, quant_min 1, quant_max 65535, nodata 0}
 *   int32  {orig_min 0, orig_max 1, quant_min 0, quant_max 2147483647, nodata -9999}
 * The int16 and uint8 rows are the ones measured on the original (design.md,
 * fixtures README C7).
 */
import { Raster } from '../array/raster.ts';
import { DTYPES, allocate, type TypedArray } from '../array/dtypes.ts';
import { DtypeError, ValueError } from '../array/errors.ts';
import { dequantizeRaster, type Quantization } from '../coco/quantization.ts';
import { instantiateKernels, Wasm, type Kernels, type WasmMemory } from './wasm-kernels.ts';

/** The integer dtypes a raster can be quantized to. */
export type QuantizeDtype = 'int16' | 'int8' | 'uint8' | 'uint16' | 'int32';

export const QUANTIZE_DTYPES: readonly QuantizeDtype[] = ['int16', 'int8', 'uint8', 'uint16', 'int32'];

export interface QuantizeOptions {
  /** Lower bound of the data (values below are clipped). Default: floor of the finite minimum. */
  oldMin?: number | null;
  /** Upper bound of the data (values above are clipped). Default: ceil of the finite maximum. */
  oldMax?: number | null;
  /** Integer dtype of the result (default int16). */
  quantizeDtype?: QuantizeDtype;
}

function checkQuantizeDtype(dtype: unknown): QuantizeDtype {
  if (!(QUANTIZE_DTYPES as readonly unknown[]).includes(dtype)) {
    throw new DtypeError(`cannot quantize to dtype ${JSON.stringify(dtype)}; expected one of ${QUANTIZE_DTYPES.join(', ')}`);
  }
  return dtype as QuantizeDtype;
}

function checkBound(name: string, v: unknown): number {
  if (v === Infinity || v === -Infinity) {
    throw new ValueError(`${name} is ${v}: a quantization range must be finite, since an infinite range maps every finite value `
      + 'to one level (data holding ±Infinity, e.g. sums that overflowed float32, needs finite bounds or accumulation in float64)');
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ValueError(`${name} must be a finite number, got ${String(v)}`);
  }
  return v;
}

/**
 * The quantization dict for `dtype` over [oldMin, oldMax] (the original's
 * `quantize_image(None, oldMin, oldMax, dtype)[1]`). oldMin == oldMax is
 * allowed (constant data: every valid value maps to quant_min).
 */
export function quantizationFor(dtype: QuantizeDtype, oldMin: number, oldMax: number): Quantization & { nodata: number } {
  const d = checkQuantizeDtype(dtype);
  const lo = checkBound('oldMin', oldMin), hi = checkBound('oldMax', oldMax);
  if (lo > hi) throw new ValueError(`oldMin ${lo} is greater than oldMax ${hi}; expected oldMin <= oldMax`);
  if (hi - lo === Infinity) {
    throw new ValueError(`the quantization range ${lo}..${hi} is wider than a float64 holds (oldMax - oldMin overflows to Infinity), `
      + 'so every value would map to one level; give narrower oldMin / oldMax');
  }
  const info = DTYPES[d];
  const signed = info.isSigned;
  return {
    orig_min: lo,
    orig_max: hi,
    quant_min: signed ? 0 : 1,
    quant_max: info.max,
    nodata: signed ? Math.max(-9999, info.min) : 0,
  };
}

/** Checks a quantization dict's fields; returns them as numbers. */
function checkQuantization(q: Quantization, needNodata: boolean): Required<Quantization> {
  if (q === null || typeof q !== 'object') throw new ValueError(`quantization must be an object, got ${String(q)}`);
  for (const k of ['orig_min', 'orig_max', 'quant_min', 'quant_max'] as const) {
    if (typeof q[k] !== 'number' || !Number.isFinite(q[k])) {
      throw new ValueError(`quantization.${k} must be a finite number, got ${JSON.stringify(q[k])}`);
    }
  }
  if (q.orig_min > q.orig_max) throw new ValueError(`quantization.orig_min ${q.orig_min} > orig_max ${q.orig_max}`);
  if (!(q.quant_max > q.quant_min)) throw new ValueError(`quantization.quant_max ${q.quant_max} must be > quant_min ${q.quant_min}`);
  const nodata = q.nodata ?? null;
  if (nodata !== null && (typeof nodata !== 'number' || !Number.isFinite(nodata))) {
    throw new ValueError(`quantization.nodata must be a finite number or null, got ${JSON.stringify(q.nodata)}`);
  }
  if (needNodata && nodata === null) throw new ValueError('quantization.nodata is required to quantize (NaN needs a code)');
  return { orig_min: q.orig_min, orig_max: q.orig_max, quant_min: q.quant_min, quant_max: q.quant_max, nodata };
}

/** The integer dtype whose quantizationFor() has these quant_max / nodata (for quantizeBlock without a dtype). */
function inferDtype(q: Quantization): QuantizeDtype {
  for (const d of QUANTIZE_DTYPES) {
    const ref = quantizationFor(d, 0, 1);
    if (ref.quant_max === q.quant_max && ref.quant_min === q.quant_min && ref.nodata === q.nodata) return d;
  }
  throw new DtypeError(`cannot tell the dtype of quantization ${JSON.stringify(q)}; pass the dtype explicitly`);
}

/**
 * Quantizes one raster (a whole image or one block of it) with a fixed
 * quantization: clip to [orig_min, orig_max], map linearly onto
 * [quant_min, quant_max] and round to the nearest integer; NaN -> nodata;
 * +-Infinity are clipped like any other out-of-range value. Bands are kept.
 * `dtype` defaults to the integer dtype the quantization was made for.
 * `out` (optional): a raster of that dtype and size to write into instead of
 * allocating (streaming callers pass the previous block's result back).
 */
export function quantizeBlock(raster: Raster, quantization: Quantization, dtype?: QuantizeDtype, out?: Raster): Raster {
  const q = checkQuantization(quantization, true);
  const d = dtype === undefined ? inferDtype(quantization) : checkQuantizeDtype(dtype);
  const info = DTYPES[d];
  if (q.quant_min < info.min || q.quant_max > info.max || q.nodata! < info.min || q.nodata! > info.max) {
    throw new DtypeError(`quantization ${JSON.stringify(quantization)} does not fit in ${d} (${info.min}..${info.max})`);
  }
  const src = raster.data;
  // a caller streaming many blocks passes the previous result back to be reused
  const reuse = out !== undefined && out.dtype === d && out.data.length === src.length;
  const dst = reuse ? out.data : allocate(d, src.length);
  quantizeInto(src, dst, q.orig_min, q.orig_max, q.quant_min, q.quant_max, q.nodata!);
  return reuse && out.shape.every((v, i) => v === raster.shape[i]) ? out : new Raster(dst, raster.shape);
}

/** Arrays shorter than this are quantized in JS (copying into WebAssembly memory would cost more). */
const WASM_MIN = 4096;
/** Elements per WebAssembly call (bounds the kernels' memory: 12 MiB for float64 -> 16-bit). */
const WASM_CHUNK = 1 << 20;
let wasm: { memory: WasmMemory; f32: Kernels; f64: Kernels } | null | undefined;

/**
 * The SIMD-module's `quant` kernel on float32/float64 -> 8/16-bit arrays, in
 * chunks through its own WebAssembly memory (about 4x the JS loop, with the
 * same f64 arithmetic, so the same results); false when it does not apply.
 */
function quantizeWasm(src: TypedArray, out: TypedArray, lo: number, hi: number, f: number, bias: number, nodata: number): boolean {
  const E = src.BYTES_PER_ELEMENT, ob = out.BYTES_PER_ELEMENT;
  if (!(src instanceof Float32Array || src instanceof Float64Array) || ob > 2) return false;
  if (wasm === undefined) {
    const memory = new Wasm.Memory({ initial: 1 });
    const f32 = instantiateKernels(memory, 'float32'), f64 = instantiateKernels(memory, 'float64');
    wasm = f32 && f64 ? { memory, f32, f64 } : null;
  }
  if (!wasm) return false;
  const k = E === 4 ? wasm.f32 : wasm.f64;
  const chunk = Math.min(WASM_CHUNK, src.length);
  const need = chunk * (E + ob);
  if (wasm.memory.buffer.byteLength < need) wasm.memory.grow(Math.ceil((need - wasm.memory.buffer.byteLength) / 65536));
  const buf = wasm.memory.buffer, dst = chunk * E;
  const inView = new (src.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(buf, 0, chunk);
  const outBytes = new Uint8Array(buf, dst, chunk * ob);
  const outAll = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  for (let o = 0; o < src.length; o += chunk) {
    const m = Math.min(chunk, src.length - o);
    inView.set(src.subarray(o, o + m));
    // four at a time where the SIMD kernel applies, the rest (< 4) one by one
    const m4 = k.quant16v && ob === 2 ? m & ~3 : 0;
    if (m4) k.quant16v!(0, dst, m4, lo, hi, f, bias, nodata, out instanceof Int16Array ? 1 : 0);
    if (m4 < m) k.quant(m4 * E, dst + m4 * ob, m - m4, lo, hi, f, bias, nodata, ob);
    outAll.set(outBytes.subarray(0, m * ob), o * ob);
  }
  return true;
}

function quantizeInto(src: TypedArray, out: TypedArray, lo: number, hi: number, qmin: number, qmax: number, nodata: number): void {
  const extent = hi - lo;
  // Constant data (extent 0): every valid value maps to quant_min; no division by zero.
  const f = extent > 0 ? (qmax - qmin) / extent : 0;
  // The bias folds "+ quant_min + 0.5" into one add; floor(x + 0.5) rounds half up.
  const bias = qmin + 0.5;
  const n = src.length;
  if (!Number.isFinite(f)) {
    // Extent so small (subnormal) that the factor overflows: divide per value instead.
    const qext = qmax - qmin;
    for (let i = 0; i < n; i++) {
      let v = src[i];
      if (v !== v) { out[i] = nodata; continue; }
      if (v < lo) v = lo; else if (v > hi) v = hi;
      out[i] = Math.floor(((v - lo) / extent) * qext + bias);
    }
    return;
  }
  // With quant_min >= 0, (c - lo) * f + bias is >= 0.5 and < 2^31, so `| 0` is floor
  // (a negative quant_min needs Math.floor: `| 0` rounds toward zero)
  const truncIsFloor = qmin >= 0 && qmax + 1 < 2 ** 31;
  if (truncIsFloor && n >= WASM_MIN && quantizeWasm(src, out, lo, hi, f, bias, nodata)) return;
  if (truncIsFloor) {
    // Math.min/max clamp without branches (measured ~30% faster than if/else on data that often clips).
    for (let i = 0; i < n; i++) {
      const v = src[i];
      if (v !== v) { out[i] = nodata; continue; }
      out[i] = ((Math.min(Math.max(v, lo), hi) - lo) * f + bias) | 0;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const v = src[i];
    if (v !== v) { out[i] = nodata; continue; }
    out[i] = Math.floor((Math.min(Math.max(v, lo), hi) - lo) * f + bias);
  }
}

/**
 * Quantizes a float raster into integers (port of geowatch `quantize_image`).
 *
 * - Bounds: `oldMin` / `oldMax` when given; otherwise floor(min) / ceil(max)
 *   of the finite values (NaN and +-Infinity ignored). A computed bound never
 *   crosses a given one (e.g. oldMin 5 on data below 5 gives orig_max 5).
 * - No finite value at all (all NaN, empty raster, or `data === null`) and no
 *   bounds: orig 0..1, the original's `quantize_image(None)` default; with one
 *   bound given the other is 0 (min) or 1 (max) unless that would cross it.
 * - Values are clipped to the bounds, NaN becomes `nodata`, and values are
 *   rounded (not truncated) to the nearest quantization level.
 *
 * @example
 * const { data, quantization } = quantizeImage(Raster.full([2, 2, 1], 0.5), { oldMin: 0, oldMax: 1 });
 * // quantization = {orig_min: 0, orig_max: 1, quant_min: 0, quant_max: 32767, nodata: -9999}; data.get(0,0) === 16384
 */
export function quantizeImage(data: Raster | null, options: QuantizeOptions = {}): { data: Raster | null; quantization: Quantization & { nodata: number } } {
  const dtype = checkQuantizeDtype(options.quantizeDtype ?? 'int16');
  const givenMin = options.oldMin ?? null, givenMax = options.oldMax ?? null;
  if (givenMin !== null) checkBound('oldMin', givenMin);
  if (givenMax !== null) checkBound('oldMax', givenMax);
  if (givenMin !== null && givenMax !== null && givenMin > givenMax) {
    throw new ValueError(`oldMin ${givenMin} is greater than oldMax ${givenMax}; expected oldMin <= oldMax`);
  }
  if (data !== null && !(data instanceof Raster)) {
    throw new ValueError(`quantizeImage expects a Raster or null, got ${(data as object)?.constructor?.name ?? typeof data}`);
  }
  let lo = givenMin, hi = givenMax;
  if (lo === null || hi === null) {
    const [mn, mx] = data === null ? [Infinity, -Infinity] : finiteMinMax(data.data);
    if (mn > mx) {
      // No finite value: the original's defaults 0..1 (without crossing a given bound).
      if (lo === null) lo = Math.min(0, hi ?? 0);
      if (hi === null) hi = Math.max(1, lo);
    } else {
      if (lo === null) lo = hi === null ? Math.floor(mn) : Math.min(Math.floor(mn), hi);
      if (hi === null) hi = Math.max(Math.ceil(mx), lo);
    }
  }
  const quantization = quantizationFor(dtype, lo, hi);
  return { data: data === null ? null : quantizeBlock(data, quantization, dtype), quantization };
}

/** [min, max] of the finite values; [Infinity, -Infinity] when there are none. */
export function finiteMinMax(a: TypedArray): [number, number] {
  let mn = Infinity, mx = -Infinity;
  const n = a.length;
  // NaN fails both comparisons. Infinities are rare: a second pass excludes them only when seen.
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  if (mn !== -Infinity && mx !== Infinity) return [mn, mx];
  mn = Infinity; mx = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = a[i];
    if (v < mn && v !== -Infinity) mn = v;
    if (v > mx && v !== Infinity) mx = v;
  }
  return [mn, mx];
}

/**
 * Inverts a quantization: float32 values with NaN where the sample equals
 * `nodata`. Arithmetic follows kwcoco / delayed_image exactly (fixtures README
 * C7): every step in float32, `scale = (orig_max - orig_min) / (quant_max - quant_min)`
 * computed in double and rounded to float32,
 * `value = f32(f32(f32(q) - quant_min) * scale) + orig_min`.
 */
export function dequantize(raster: Raster, quantization: Quantization): Raster<Float32Array> {
  return dequantizeRaster(raster, checkQuantization(quantization, false));
}

/** Half a quantization step: the largest error quantizeBlock can make inside the bounds. */
export function halfStep(quantization: Quantization): number {
  return (quantization.orig_max - quantization.orig_min) / (quantization.quant_max - quantization.quant_min) / 2;
}
