/**
 * The JSON member of a `.kwcoco.zip`, inflated as a stream with a cap: a
 * few MB of zip can inflate to gigabytes, so the member is never inflated
 * past `limit` bytes (fflate's streaming Unzip, fed a small slice at a time,
 * so one slice inflates to at most ~1000 times its size). The CRC-32 of what
 * was inflated is checked against the zip's central directory.
 */
import { crc32 } from 'node:zlib';
import { Unzip, UnzipInflate, UnzipPassThrough, unzipSync } from 'fflate';
import { ManifestError } from './errors.ts';

/** Compressed bytes pushed into the inflater at a time. */
const PUSH_BYTES = 16 * 1024;

/** One central directory record: the member's name, CRC-32 and sizes as declared. */
interface CentralEntry { name: string; crc: number; compressedSize: number; size: number }

/** The zip's central directory (classic zip; zip64 sizes are taken as declared, 0xffffffff). */
function centralDirectory(bytes: Uint8Array): CentralEntry[] | null {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) return null;
  const count = dv.getUint16(eocd + 10, true);
  let at = dv.getUint32(eocd + 16, true);
  const entries: CentralEntry[] = [];
  const utf8 = new TextDecoder();
  for (let k = 0; k < count; k++) {
    if (at + 46 > bytes.length || dv.getUint32(at, true) !== 0x02014b50) return null;
    const nameLen = dv.getUint16(at + 28, true);
    const extraLen = dv.getUint16(at + 30, true);
    const commentLen = dv.getUint16(at + 32, true);
    if (at + 46 + nameLen > bytes.length) return null;
    entries.push({
      name: utf8.decode(bytes.subarray(at + 46, at + 46 + nameLen)),
      crc: dv.getUint32(at + 16, true), compressedSize: dv.getUint32(at + 20, true), size: dv.getUint32(at + 24, true),
    });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 2 : 0)} MiB`;
}

/** Chooses the kwcoco JSON member: the only file, else the only `.json` file. */
function chooseMember(bytes: Uint8Array, path: string): string {
  const names: string[] = [];
  try {
    unzipSync(bytes, { filter: (f) => { names.push(f.name); return false; } });
  } catch (err) {
    throw new ManifestError(`${path}: not a readable zip file: ${(err as Error).message}`, path, { cause: err });
  }
  const members = names.filter((nm) => !nm.endsWith('/') && !nm.startsWith('__MACOSX/'));
  if (members.length === 0) throw new ManifestError(`${path}: the zip holds no file (expected one kwcoco JSON file)`, path);
  if (members.length === 1) return members[0]!;
  const json = members.filter((nm) => /\.json$/i.test(nm));
  if (json.length !== 1) {
    throw new ManifestError(
      `${path}: the zip holds ${members.length} files and ${json.length} .json files (${members.slice(0, 10).join(', ')}); expected exactly one kwcoco JSON file`,
      path,
    );
  }
  return json[0]!;
}

/**
 * The manifest member of zip `bytes` (read from `path`), inflated up to
 * `limit` bytes. ManifestError naming the zip, the member and the limit when
 * it inflates to more, naming both CRCs when the data is corrupt.
 */
export function unzipManifest(bytes: Uint8Array, path: string, limit: number): { name: string; data: Uint8Array } {
  const name = chooseMember(bytes, path);
  const entry = centralDirectory(bytes)?.find((e) => e.name === name);
  const tooBig = (what: string) => new ManifestError(
    `${path}: member ${name} ${what} more than ${mib(limit)}, the limit for a manifest ` +
      `(an eighth of the memory budget or of V8's heap, whichever is smaller; raise the budget with --memory-budget MiB or COCO_STITCHER_MEMORY_MB)`, path);
  // 0xffffffff: a zip64 member, 4 GiB or more
  if (entry && entry.size > limit) throw tooBig(entry.size === 0xffffffff ? 'declares 4 GiB or' : `declares ${mib(entry.size)},`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  let crc = 0;
  let done = false;
  let failure: unknown = null;
  const unzip = new Unzip((file) => {
    if (file.name !== name || failure) return;
    file.ondata = (err, chunk, final) => {
      if (failure) return;
      if (err) { failure = err; return; }
      total += chunk.length;
      if (total > limit) {
        failure = tooBig('inflates to');
        file.terminate();
        return;
      }
      chunks.push(chunk);
      crc = crc32(chunk, crc);
      if (final) done = true;
    };
    try {
      file.start();
    } catch (err) {
      failure = new ManifestError(`${path}: member ${name} uses zip compression method ${file.compression}; expected stored (0) or DEFLATE (8)`, path, { cause: err });
    }
  });
  unzip.register(UnzipInflate);
  unzip.register(UnzipPassThrough);
  try {
    for (let at = 0; at < bytes.length && !failure && !done; at += PUSH_BYTES) {
      const end = Math.min(at + PUSH_BYTES, bytes.length);
      unzip.push(bytes.subarray(at, end), end === bytes.length);
    }
  } catch (err) {
    failure ??= err;
  }
  if (failure instanceof ManifestError) throw failure;
  if (failure || !done) {
    const why = failure ? (failure as Error).message : 'the data ends early';
    throw new ManifestError(`${path}: member ${name} of the zip is corrupt: ${why}`, path, { cause: failure ?? undefined });
  }
  if (entry && (crc >>> 0) !== entry.crc) {
    throw new ManifestError(
      `${path}: member ${name} of the zip is corrupt: CRC-32 of its ${total} bytes is ${hex(crc)}, the zip says ${hex(entry.crc)}`, path);
  }
  const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  return { name, data };
}

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}
