/**
 * A run of rows of one large uncompressed or DEFLATE strip, read without
 * decoding the whole strip: a GeoTIFF may hold a 20000 x 20000 float64
 * image as one DEFLATE strip of a few MB that inflates to 3.2 GB. Here the
 * compressed bytes are read from the file 64 KiB at a time and inflated as
 * a stream that keeps only the rows asked for and stops after the last one,
 * so memory is the rows asked for, whatever the strip's size.
 */
import { createInflate } from 'node:zlib';
import { FormatError } from '../errors.ts';
import type { ByteSource } from './byte-source.ts';

/**
 * Compressed bytes read from the file and handed to zlib at a time: DEFLATE
 * expands at most ~1032 times, so one slice inflates to at most ~64 MiB past
 * the last row wanted before the stream is stopped.
 */
const FEED_BYTES = 64 << 10;

/** Where a strip is in the file and how it is stored. */
export interface StripExtent {
  offset: number;
  count: number;
  /** 'none' or 'deflate' */
  codec: 'none' | 'deflate';
  /** bytes of one decoded row of the strip */
  rowBytes: number;
  /** "strip 0 (row 0, col 0) of IFD 0", for messages */
  what: string;
}

/**
 * The decoded bytes of rows [r0, r1) of `strip` (rows counted from the
 * strip's first), before byte order and predictor steps. FormatError naming
 * the file and strip when the data is corrupt or ends before row r1.
 */
export async function readStripRows(source: ByteSource, strip: StripExtent, r0: number, r1: number): Promise<Uint8Array> {
  const start = r0 * strip.rowBytes;
  const end = r1 * strip.rowBytes;
  if (strip.codec === 'none') {
    if (end > strip.count) {
      throw new FormatError(`${source.path}: ${strip.what} holds ${strip.count} bytes, but rows ${r0}..${r1} need bytes up to ${end}`, source.path);
    }
    return source.readExact(strip.offset + start, end - start, strip.what);
  }
  const out = new Uint8Array(end - start);
  const inflate = createInflate({ chunkSize: 1 << 20 });
  let pos = 0;
  const done = new Promise<void>((resolve, reject) => {
    inflate.on('data', (chunk: Buffer) => {
      const a = Math.max(start, pos), b = Math.min(end, pos + chunk.length);
      if (b > a) out.set(chunk.subarray(a - pos, b - pos), a - start);
      pos += chunk.length;
      if (pos >= end) {
        inflate.destroy();
        resolve();
      }
    });
    inflate.on('end', resolve);
    inflate.on('error', reject);
  });
  done.catch(() => {}); // awaited below; a read error may come first
  const stopped = () => inflate.destroyed || pos >= end;
  for (let at = 0; at < strip.count && !stopped(); at += FEED_BYTES) {
    const bytes = await source.readExact(strip.offset + at, Math.min(FEED_BYTES, strip.count - at), strip.what);
    if (stopped()) break;
    if (!inflate.write(bytes)) {
      await new Promise<void>((resolve) => {
        inflate.once('drain', resolve);
        inflate.once('close', resolve);
      });
    }
  }
  if (!inflate.destroyed) inflate.end();
  try {
    await done;
  } catch (err) {
    throw new FormatError(`${source.path}: ${strip.what} is corrupt: ${(err as Error).message}`, source.path, { cause: err });
  }
  if (pos < end) {
    throw new FormatError(`${source.path}: ${strip.what} inflates to ${pos} bytes, but rows ${r0}..${r1} need ${end}`, source.path);
  }
  return out;
}
