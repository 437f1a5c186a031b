/**
 * Opens the byte source a path needs: a local file, or a remote file read
 * with HTTP range requests for `https://…`, `http://…` and `/vsicurl/…`.
 */
import { isRemotePath, remoteUrl } from './remote-path.ts';
import type { ByteSource } from './tiff-read/byte-source.ts';
import { FileByteSource } from './tiff-read/file-source.ts';
import { HttpByteSource } from './tiff-read/http-source.ts';

/** The open source of `path`; IoError naming the path (or URL) when it cannot be opened. */
export function openByteSource(path: string): Promise<ByteSource> {
  return isRemotePath(path) ? HttpByteSource.open(remoteUrl(path)) : FileByteSource.open(path);
}
