/**
 * Raster dtypes: one table from dtype name to typed-array constructor, so no
 * other code switches on dtype strings to pick a constructor.
 */
import { DtypeError } from './errors.ts';

export type Dtype = 'uint8' | 'int8' | 'uint16' | 'int16' | 'int32' | 'float32' | 'float64';

export type TypedArray =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Int32Array | Float32Array | Float64Array;

export type TypedArrayFor<D extends Dtype> = {
  uint8: Uint8Array; int8: Int8Array; uint16: Uint16Array; int16: Int16Array;
  int32: Int32Array; float32: Float32Array; float64: Float64Array;
}[D];

export interface DtypeInfo {
  readonly ctor: { new (n: number): TypedArray; new (b: ArrayBufferLike, o?: number, n?: number): TypedArray; BYTES_PER_ELEMENT: number };
  readonly bytes: number;
  readonly isFloat: boolean;
  readonly isSigned: boolean;
  readonly min: number;
  readonly max: number;
}

export const DTYPES: Readonly<Record<Dtype, DtypeInfo>> = {
  uint8: { ctor: Uint8Array, bytes: 1, isFloat: false, isSigned: false, min: 0, max: 255 },
  int8: { ctor: Int8Array, bytes: 1, isFloat: false, isSigned: true, min: -128, max: 127 },
  uint16: { ctor: Uint16Array, bytes: 2, isFloat: false, isSigned: false, min: 0, max: 65535 },
  int16: { ctor: Int16Array, bytes: 2, isFloat: false, isSigned: true, min: -32768, max: 32767 },
  int32: { ctor: Int32Array, bytes: 4, isFloat: false, isSigned: true, min: -2147483648, max: 2147483647 },
  float32: { ctor: Float32Array, bytes: 4, isFloat: true, isSigned: true, min: -3.4028234663852886e38, max: 3.4028234663852886e38 },
  float64: { ctor: Float64Array, bytes: 8, isFloat: true, isSigned: true, min: -Number.MAX_VALUE, max: Number.MAX_VALUE },
};

export const DTYPE_NAMES = Object.keys(DTYPES) as Dtype[];

/** True when `name` is one of the supported dtype names. */
export function isDtype(name: unknown): name is Dtype {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, name);
}

/** Returns the dtype name, or throws a DtypeError naming the bad value. */
export function checkDtype(name: unknown): Dtype {
  if (!isDtype(name)) {
    throw new DtypeError(`unknown dtype ${JSON.stringify(name)}; expected one of ${DTYPE_NAMES.join(', ')}`);
  }
  return name;
}

/** The dtype of a typed array, or a DtypeError for an unsupported array. */
export function dtypeOf(data: unknown): Dtype {
  if (data instanceof Uint8Array && !(data instanceof Uint8ClampedArray)) return 'uint8';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  const what = data === null ? 'null' : (data as object)?.constructor?.name ?? typeof data;
  throw new DtypeError(`unsupported array type ${what}; expected a typed array of ${DTYPE_NAMES.join(', ')}`);
}

/** A new zero-filled typed array of `n` elements of `dtype`. */
export function allocate<D extends Dtype>(dtype: D, n: number): TypedArrayFor<D> {
  return new DTYPES[checkDtype(dtype)].ctor(n) as TypedArrayFor<D>;
}

/** A typed-array view of `dtype` over bytes (copied when misaligned). */
export function viewAs<D extends Dtype>(dtype: D, bytes: Uint8Array): TypedArrayFor<D> {
  const info = DTYPES[dtype];
  if (bytes.byteLength % info.bytes !== 0) {
    throw new DtypeError(`${bytes.byteLength} bytes is not a whole number of ${dtype} elements (${info.bytes} bytes each)`);
  }
  const n = bytes.byteLength / info.bytes;
  if (bytes.byteOffset % info.bytes === 0) return new info.ctor(bytes.buffer, bytes.byteOffset, n) as TypedArrayFor<D>;
  const copy = new Uint8Array(bytes);
  return new info.ctor(copy.buffer, 0, n) as TypedArrayFor<D>;
}
