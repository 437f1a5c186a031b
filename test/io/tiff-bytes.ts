/**
 * Classic little-endian TIFFs written byte by byte for tests: any declared
 * size, codec and block layout, with DEFLATE strips of gigabytes of zeros
 * that take a few MB on disk (a flushed block of zeros repeated, in a zlib
 * wrapper with the right Adler-32).
 */
import { constants, deflateRawSync } from 'node:zlib';

export interface TiffSpec {
  width: number;
  height: number;
  /** bits per sample (one band) */
  bits: number;
  /** TIFF SampleFormat: 1 uint, 2 int, 3 float */
  sampleFormat: number;
  compression: number;
  predictor?: number;
  /** strips of this many rows (default: one strip), or tiles of this size */
  rowsPerStrip?: number;
  tile?: [number, number];
  /** one compressed block per strip / tile */
  blocks: Uint8Array[];
}

/** The TIFF file's bytes. */
export function tiffBytes(spec: TiffSpec): Buffer {
  const n = spec.blocks.length;
  const tags: [number, number, number[]][] = [ // tag, type (3 SHORT, 4 LONG), values
    [256, 4, [spec.width]], [257, 4, [spec.height]], [258, 3, [spec.bits]], [259, 3, [spec.compression]], [262, 3, [1]],
    [277, 3, [1]], [284, 3, [1]], [339, 3, [spec.sampleFormat]],
  ];
  if (spec.predictor) tags.push([317, 3, [spec.predictor]]);
  const ifdBytes = 2 + 12 * (tags.length + (spec.tile ? 4 : 3)) + 4;
  const arrays = n > 1 ? 8 * n : 0;
  let at = 8 + ifdBytes + arrays;
  const offsets: number[] = [];
  for (const b of spec.blocks) { offsets.push(at); at += b.length; }
  const counts = spec.blocks.map((b) => b.length);
  if (spec.tile) tags.push([322, 4, [spec.tile[0]]], [323, 4, [spec.tile[1]]], [324, 4, offsets], [325, 4, counts]);
  else tags.push([273, 4, offsets], [278, 4, [spec.rowsPerStrip ?? spec.height]], [279, 4, counts]);
  tags.sort((a, b) => a[0] - b[0]);
  const head = Buffer.alloc(8 + ifdBytes + arrays);
  head.write('II', 0, 'latin1');
  head.writeUInt16LE(42, 2);
  head.writeUInt32LE(8, 4);
  head.writeUInt16LE(tags.length, 8);
  let extra = 8 + ifdBytes;
  tags.forEach(([tag, type, values], i) => {
    const e = 10 + 12 * i;
    head.writeUInt16LE(tag, e);
    head.writeUInt16LE(type, e + 2);
    head.writeUInt32LE(values.length, e + 4);
    if (values.length === 1) {
      if (type === 3) head.writeUInt16LE(values[0]!, e + 8); else head.writeUInt32LE(values[0]!, e + 8);
    } else {
      head.writeUInt32LE(extra, e + 8);
      for (const v of values) { head.writeUInt32LE(v, extra); extra += 4; }
    }
  });
  return Buffer.concat([head, ...spec.blocks]);
}

/** A zlib stream of `prefix` then `zeroBytes` zero bytes (zeroBytes a multiple of 1 MiB), a few KB per GB. */
export function zlibZeros(prefix: Uint8Array, zeroBytes: number): Buffer {
  const MiB = 1 << 20;
  if (zeroBytes % MiB) throw new RangeError('zeroBytes must be a multiple of 1 MiB');
  const parts: Buffer[] = [Buffer.from([0x78, 0x9c]), deflateRawSync(prefix, { finishFlush: constants.Z_FULL_FLUSH })];
  const block = deflateRawSync(new Uint8Array(MiB), { finishFlush: constants.Z_FULL_FLUSH });
  for (let i = 0; i < zeroBytes / MiB; i++) parts.push(block);
  parts.push(deflateRawSync(new Uint8Array(0)));
  // Adler-32 of prefix + zeros: zeros add nothing to a and a each to b
  let a = 1, b = 0;
  for (const v of prefix) { a = (a + v) % 65521; b = (b + a) % 65521; }
  b = Number((BigInt(b) + BigInt(a) * BigInt(zeroBytes)) % 65521n);
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE(((b << 16) | a) >>> 0);
  parts.push(adler);
  return Buffer.concat(parts);
}
