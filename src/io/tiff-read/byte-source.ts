/**
 * What the raster readers read bytes through: a local file
 * (./file-source.ts) or a file on a web server read with HTTP range
 * requests (./http-source.ts). `path` names the file (or URL) in errors.
 */

/** One byte range requested by geotiff.js. */
export interface ByteRange { offset: number; length: number }

/** The geotiff.js `BaseSource` interface (fetch of byte ranges, zero-padded past the end). */
export interface GeotiffSource {
  fetch(slices: ByteRange[]): Promise<ArrayBuffer[]>;
  close(): Promise<void>;
  readonly fileSize: number;
}

/** An open file: speculative reads for header parsing, exact reads for tiles. */
export interface ByteSource {
  /** the file path or URL, for messages */
  readonly path: string;
  /** bytes in the file */
  readonly size: number;
  /**
   * Tiles at most this many bytes apart are fetched with one read, gap
   * included (default 0: only back-to-back tiles); worth it where each
   * read costs a round trip.
   */
  readonly mergeGap?: number;
  /** Reads `length` bytes at `offset`; the part past the end of the file is left zero. */
  readPadded(offset: number, length: number): Promise<Uint8Array>;
  /**
   * Reads exactly `length` bytes at `offset` into a buffer of its own.
   * `what` names the thing read (e.g. "tile 12 of IFD 0") for the
   * FormatError thrown when the range is outside the file.
   */
  readExact(offset: number, length: number, what: string): Promise<Uint8Array>;
  /** Throws the FormatError of `readExact` when bytes offset..offset+length are not all inside the file. */
  checkRange(offset: number, length: number, what: string): void;
  /** The source as geotiff.js's `BaseSource`. */
  asGeotiffSource(): GeotiffSource;
  /** Releases the file (idempotent). */
  close(): Promise<void>;
}

/** A geotiff.js source over `source`'s padded reads. */
export function geotiffSourceOf(source: ByteSource): GeotiffSource {
  return {
    fetch: (slices) => Promise.all(slices.map(async (s) => {
      const b = await source.readPadded(s.offset, s.length);
      return (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b.buffer : Uint8Array.prototype.slice.call(b).buffer) as ArrayBuffer;
    })),
    close: () => source.close(),
    get fileSize() { return source.size; },
  };
}
