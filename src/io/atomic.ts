/**
 * Atomic file writes: data goes to a temporary file beside the target and is
 * renamed over it only once complete, so a reader never sees a half-written
 * file and a failure leaves nothing behind.
 */
import { open, rename, rm, mkdir, type FileHandle } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { IoError } from './errors.ts';
import { CocoStitcherError } from '../array/errors.ts';

/** The temporary path used while `path` is being written. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Runs `write` on a file handle open on a temporary file, then renames it to
 * `path`. On any error the temporary file is removed and the error rethrown
 * (wrapped in an IoError naming `path` when it is not ours already).
 */
export async function withAtomicFile<T>(path: string, write: (fh: FileHandle, tmpPath: string) => Promise<T>): Promise<T> {
  const tmp = tempPathFor(path);
  let fh: FileHandle | undefined;
  try {
    await mkdir(dirname(path), { recursive: true });
    fh = await open(tmp, 'wx');
  } catch (err) {
    throw new IoError(`cannot create ${path}: ${(err as Error).message}`, path, { cause: err });
  }
  try {
    const result = await write(fh, tmp);
    await fh.close();
    fh = undefined;
    await rename(tmp, path);
    return result;
  } catch (err) {
    if (fh) await fh.close().catch(() => {});
    await rm(tmp, { force: true }).catch(() => {});
    // Our own errors already name what failed; system errors get the path.
    if (err instanceof CocoStitcherError) throw err;
    throw new IoError(`writing ${path} failed: ${(err as Error)?.message ?? String(err)}`, path, { cause: err });
  }
}

/** Writes `data` to `path` atomically. */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  await withAtomicFile(path, async (fh) => {
    let off = 0;
    while (off < data.length) {
      const { bytesWritten } = await fh.write(data, off, data.length - off, off);
      off += bytesWritten;
    }
  });
}
