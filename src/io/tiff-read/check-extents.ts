/**
 * Strict bounds check of a TIFF's IFDs. geotiff.js parses headers from
 * speculative reads padded with zeros past the end of the file, so on a
 * truncated file it can see a TileOffsets array of zeros (every tile
 * "sparse") and read nothing but nodata without complaint. This walks the
 * IFD chain with exact reads and checks every tag's value lies inside the
 * file, so truncation shows up as a FormatError at open.
 */
import { FormatError } from '../errors.ts';
import type { ByteSource } from './byte-source.ts';

/** Byte size of each TIFF field type (TIFF 6.0 section 2, BigTIFF types 16-18). */
const FIELD_TYPE_BYTES: Readonly<Record<number, number>> = {
  1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8,
};

/**
 * Walks the IFD chain from `firstIfd` and throws a FormatError naming the
 * file, the IFD and the tag when an IFD or a tag's value is past the end of
 * the file. Returns the number of IFDs.
 */
export async function checkIfdExtents(source: ByteSource, firstIfd: number, littleEndian: boolean, bigTiff: boolean): Promise<number> {
  const { path, size } = source;
  const countBytes = bigTiff ? 8 : 2;
  const entryBytes = bigTiff ? 20 : 12;
  const inlineBytes = bigTiff ? 8 : 4;
  const seen = new Set<number>();
  let offset = firstIfd;
  while (offset !== 0) {
    const k = seen.size;
    if (seen.has(offset)) throw new FormatError(`${path} is corrupt: IFD ${k} at byte ${offset} loops back to an earlier IFD`, path);
    seen.add(offset);
    const head = await source.readExact(offset, countBytes, `IFD ${k}`);
    const hv = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const n = bigTiff ? Number(hv.getBigUint64(0, littleEndian)) : hv.getUint16(0, littleEndian);
    const body = await source.readExact(offset + countBytes, n * entryBytes + inlineBytes, `IFD ${k} (${n} entries)`);
    const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    for (let i = 0; i < n; i++) {
      const e = i * entryBytes;
      const tag = dv.getUint16(e, littleEndian);
      const type = dv.getUint16(e + 2, littleEndian);
      const count = bigTiff ? Number(dv.getBigUint64(e + 4, littleEndian)) : dv.getUint32(e + 4, littleEndian);
      const bytes = (FIELD_TYPE_BYTES[type] ?? 1) * count;
      if (bytes <= inlineBytes) continue;
      const at = bigTiff ? Number(dv.getBigUint64(e + 12, littleEndian)) : dv.getUint32(e + 8, littleEndian);
      if (at + bytes > size) {
        throw new FormatError(`${path} is truncated or corrupt: IFD ${k} tag ${tag} needs bytes ${at}..${at + bytes} ` +
          `but the file has ${size} bytes`, path);
      }
    }
    offset = bigTiff ? Number(dv.getBigUint64(n * entryBytes, littleEndian)) : dv.getUint32(n * entryBytes, littleEndian);
  }
  return seen.size;
}
