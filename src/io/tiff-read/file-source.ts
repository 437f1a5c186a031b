/**
 * A byte source over a local file for geotiff.js's IFD parser, plus exact
 * reads for tile data. geotiff.js's own file source zero-fills reads past the
 * end of the file silently; here the header parser may read past the end
 * (it asks for 1 KiB blocks speculatively, padded with zeros as geotiff.js
 * expects), but tile reads must lie inside the file or fail with a
 * FormatError naming the file, the byte range and the file size.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { FormatError, IoError } from '../errors.ts';
import { geotiffSourceOf, type ByteSource, type GeotiffSource } from './byte-source.ts';

export type { ByteRange } from './byte-source.ts';

/** An open local file: speculative reads for header parsing, exact reads for tiles. */
export class FileByteSource implements ByteSource {
  readonly path: string;
  readonly size: number;
  #fh: FileHandle | null;

  private constructor(path: string, fh: FileHandle, size: number) {
    this.path = path;
    this.#fh = fh;
    this.size = size;
  }

  /** Opens `path` for reading; IoError naming the path when it cannot. */
  static async open(path: string): Promise<FileByteSource> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : (err as Error).message;
      throw new IoError(`cannot open raster ${path}: ${why}`, path, { cause: err });
    }
    try {
      const st = await fh.stat();
      if (st.isDirectory()) throw new IoError(`cannot open raster ${path}: it is a directory`, path);
      return new FileByteSource(path, fh, st.size);
    } catch (err) {
      await fh.close().catch(() => {});
      if (err instanceof IoError) throw err;
      throw new IoError(`cannot stat raster ${path}: ${(err as Error).message}`, path, { cause: err });
    }
  }

  #handle(): FileHandle {
    if (!this.#fh) throw new IoError(`raster ${this.path} is closed`, this.path);
    return this.#fh;
  }

  /** Reads `length` bytes at `offset`; the part past the end of the file is left zero. */
  async readPadded(offset: number, length: number): Promise<Uint8Array> {
    const buf = new Uint8Array(length);
    const avail = Math.max(0, Math.min(length, this.size - offset));
    if (avail > 0) await this.#readFully(buf, avail, offset);
    return buf;
  }

  /**
   * Reads exactly `length` bytes at `offset`. `what` names the thing read
   * (e.g. "tile 12 of IFD 0") for the FormatError thrown when the range is
   * outside the file.
   */
  async readExact(offset: number, length: number, what: string): Promise<Uint8Array> {
    this.checkRange(offset, length, what);
    // Not zero-filled (every byte is read below), and its own ArrayBuffer (tiles are decoded in place).
    const buf = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
    await this.#readFully(buf, length, offset);
    return buf;
  }

  /** Throws the FormatError of `readExact` when bytes offset..offset+length are not all inside the file. */
  checkRange(offset: number, length: number, what: string): void {
    if (!(offset >= 0 && length >= 0 && offset + length <= this.size)) {
      throw new FormatError(
        `${this.path} is truncated or corrupt: ${what} needs bytes ${offset}..${offset + length} but the file has ${this.size} bytes`,
        this.path);
    }
  }

  async #readFully(buf: Uint8Array, length: number, offset: number): Promise<void> {
    const fh = this.#handle();
    let done = 0;
    try {
      while (done < length) {
        const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch (err) {
      throw new IoError(`reading ${this.path} at byte ${offset} failed: ${(err as Error).message}`, this.path, { cause: err });
    }
    if (done < length) {
      throw new FormatError(`${this.path} is truncated: expected ${length} bytes at ${offset}, got ${done}`, this.path);
    }
  }

  /** The geotiff.js `BaseSource` interface (fetch of byte ranges, zero-padded past the end). */
  asGeotiffSource(): GeotiffSource {
    return geotiffSourceOf(this);
  }

  /** Closes the file handle (idempotent). */
  async close(): Promise<void> {
    const fh = this.#fh;
    this.#fh = null;
    if (fh) await fh.close();
  }
}
