/**
 * Zip files built byte by byte for tests: any CRC, any declared size, and
 * DEFLATE streams of gigabytes of zeros that take a few kilobytes (one
 * flushed block of zeros repeated: after a full flush a block refers to
 * nothing before it, so repeats are a valid stream).
 */
import { constants, crc32, deflateRawSync } from 'node:zlib';

export interface ZipMember { name: string; method: 0 | 8; data: Uint8Array; crc: number; size: number }

/** A zip holding `members` (their data already compressed as `method` says). */
export function zipBytes(members: readonly ZipMember[]): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let at = 0;
  for (const m of members) {
    const name = Buffer.from(m.name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(m.method, 8);
    local.writeUInt32LE(m.crc >>> 0, 14);
    local.writeUInt32LE(Math.min(m.data.length, 0xffffffff), 18);
    local.writeUInt32LE(Math.min(m.size, 0xffffffff), 22);
    local.writeUInt16LE(name.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(m.method, 10);
    cd.writeUInt32LE(m.crc >>> 0, 16);
    cd.writeUInt32LE(Math.min(m.data.length, 0xffffffff), 20);
    cd.writeUInt32LE(Math.min(m.size, 0xffffffff), 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(at, 42);
    parts.push(local, name, Buffer.from(m.data));
    central.push(cd, name);
    at += 30 + name.length + m.data.length;
  }
  const cdBytes = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(members.length, 8);
  eocd.writeUInt16LE(members.length, 10);
  eocd.writeUInt32LE(cdBytes.length, 12);
  eocd.writeUInt32LE(at, 16);
  return Buffer.concat([...parts, cdBytes, eocd]);
}

/** A DEFLATE member holding `data`, with its true CRC (or `crc` when given). */
export function deflateMember(name: string, data: Uint8Array, crc?: number): ZipMember {
  return { name, method: 8, data: deflateRawSync(data), crc: crc ?? crc32(data), size: data.length };
}

/** A raw DEFLATE stream of `prefix` followed by `zeroMiB` MiB of zero bytes (a few KB per GiB). */
export function deflateZeros(prefix: Uint8Array, zeroMiB: number): Uint8Array {
  const MiB = 1024 * 1024;
  const head = deflateRawSync(prefix, { finishFlush: constants.Z_FULL_FLUSH });
  const block = deflateRawSync(new Uint8Array(MiB), { finishFlush: constants.Z_FULL_FLUSH });
  const tail = deflateRawSync(new Uint8Array(0));
  const parts: Uint8Array[] = [head];
  for (let i = 0; i < zeroMiB; i++) parts.push(block);
  parts.push(tail);
  return Buffer.concat(parts);
}
