/**
 * The optional native addon (native/): prefault leaves memory zero and
 * writable; its libdeflate zlib streams round trip
 * through node:zlib (an independent implementation) both ways; its errors
 * name the bad value; COGs written with it and with node:zlib read back
 * exactly in GDAL and validate; and without the addon the writer falls back
 * to node:zlib ('auto') or fails clearly ('libdeflate').
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync, inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { nativeAddon, nativeAddonLoadError } from '../../src/io/native-addon.ts';
import { applyHorizontal } from '../../src/io/cog/predictor-encode.ts';
import { lzwEncode } from '../../src/io/cog/lzw-encode.ts';
import { lzwDecode } from '../../src/io/tiff-read/lzw-decode.ts';
import { gdalPython } from '../helpers/gdal.ts';
import { Wasm } from '../../src/stitch/wasm-kernels.ts';
import { writeCog } from '../../src/io/cog/write-cog.ts';
import { readRaster } from '../../src/io/read-raster.ts';
import { scratchDir } from '../helpers/scratch.ts';
import { gdalBatch, patternRaster } from './write-cog.helpers.ts';

const lib = nativeAddon();

/** zlibCompressInto into a buffer of the bound's size, trimmed to the result. */
async function compress(data: Uint8Array, level: number): Promise<Uint8Array> {
  const out = new Uint8Array(lib!.zlibCompressBound(data.length));
  return out.subarray(0, await lib!.zlibCompressInto(data, level, out));
}
const skip = lib ? false : `coco-stitcher-native is not built here (${nativeAddonLoadError().split('\n')[0]}); install libdeflate-dev and run npm ci`;

describe('libdeflate addon', { skip }, () => {
  it('compresses to zlib streams node:zlib inflates exactly, at every level, any size, within the bound', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 70000 }), fc.integer({ min: 1, max: 12 }), async (data, level) => {
      const z = await compress(data, level);
      assert.deepEqual(new Uint8Array(inflateSync(z)), data);
    }), { numRuns: 60 });
  });

  it('decompresses node:zlib streams exactly, a short stream to its own length', async () => {
    const r = patternRaster([64, 64, 3], 'uint16');
    const data = new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength);
    const z = deflateSync(data, { level: 9 });
    assert.deepEqual(new Uint8Array(await lib!.zlibDecompress(z, data.length)), data);
    assert.deepEqual(new Uint8Array(await lib!.zlibDecompress(z, data.length + 100)), data);
  });

  it('applies predictor 2 before compressing exactly as predictor-encode.ts does (1, 2, 4-byte samples)', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(1, 2, 4), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), fc.integer(),
      async (sampleBytes, width, spp, rows, seed) => {
        const raw = new Uint8Array(rows * width * spp * sampleBytes);
        let x = seed >>> 0;
        for (let i = 0; i < raw.length; i++) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; raw[i] = x >>> 24; }
        const want = raw.slice();
        applyHorizontal(want, sampleBytes, width, spp);
        const out = new Uint8Array(lib!.zlibCompressBound(raw.length));
        const n = await lib!.zlibCompressInto(raw, 6, out, sampleBytes, width, spp);
        assert.deepEqual(new Uint8Array(inflateSync(out.subarray(0, n))), want);
        assert.deepEqual(raw, want, 'the input is predicted in place');
      }), { numRuns: 150 });
    assert.throws(() => lib!.zlibCompressInto(new Uint8Array(12), 6, new Uint8Array(64), 3, 2, 2), /predictor \(sampleBytes 3, width 2, spp 2\)/);
  });

  it('rejects a corrupt stream, one longer than expected, and bad arguments, naming them', async () => {
    const z = await compress(new Uint8Array(5000).fill(7), 6);
    await assert.rejects(lib!.zlibDecompress(z.subarray(0, 5), 5000), /corrupt zlib stream/);
    await assert.rejects(lib!.zlibDecompress(z, 4999), /more than the expected 4999 bytes/);
    const out = new Uint8Array(64);
    assert.throws(() => lib!.zlibCompressInto(new Uint8Array(4), 0, out), /level 0 is not an integer in 1\.\.12/);
    assert.throws(() => lib!.zlibCompressInto(new Uint8Array(4), 2.5, out), /level 2\.5/);
    assert.throws(() => lib!.zlibCompressInto(new Float32Array(4) as never, 6, out), /input must be a Uint8Array/);
    assert.throws(() => lib!.zlibCompressInto(new Uint8Array(4), 6, [] as never), /output must be a Uint8Array/);
    const noise = Uint8Array.from({ length: 4000 }, (_, i) => (i * 2654435761) >>> 24);
    await assert.rejects(lib!.zlibCompressInto(noise, 6, new Uint8Array(100)), /4000 bytes did not compress into the 100-byte output/);
    assert.throws(() => lib!.zlibDecompress(new Uint8Array(4), -1), /size -1 is not a byte count/);
  });

  it('writes COGs that GDAL reads exactly and validates, as node:zlib\'s do', async () => {
    const dir = scratchDir('libdeflate-cog-');
    const cases = [['uint8', 3], ['int16', 4], ['float32', 1], ['float64', 2]] as const;
    const paths: string[] = [];
    const rasters = cases.map(([dtype, bands]) => patternRaster([150, 201, bands], dtype));
    for (const [i, r] of rasters.entries()) {
      for (const engine of ['libdeflate', 'zlib'] as const) {
        const path = join(dir, `${i}-${engine}.tif`);
        await writeCog(path, r, { compress: 'DEFLATE', deflateEngine: engine, blocksize: 64, overviews: 1 });
        paths.push(path);
        const { raster: back } = await readRaster(path);
        assert.deepEqual(back.data, r.data, `${path}: our reader`);
      }
    }
    const res = gdalBatch(paths);
    for (const [k, g] of res.entries()) {
      const r = rasters[k >> 1];
      assert.deepEqual(g.errors, [], paths[k]);
      assert.deepEqual(g.levels[0].shape, [...r.shape]);
      assert.deepEqual(g.levels[0].data, Float64Array.from(r.data as ArrayLike<number>), paths[k]);
    }
    // both engines give the same overviews
    for (let k = 0; k < res.length; k += 2) assert.deepEqual(res[k].levels[1].data, res[k + 1].levels[1].data);
  });
});

describe('LZW decoding in the addon', { skip }, () => {
  /** The result of a decoder: the bytes, or the error message. */
  const outcome = async (f: () => Promise<Uint8Array> | Uint8Array) => {
    try { return [...(await f())]; } catch (err) { return (err as Error).message; }
  };

  it('decodes what the encoder wrote, and equals the JavaScript decoder on cut and damaged streams (bytes or error message)', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 256 }), fc.integer({ min: 0, max: 20000 }), fc.integer({ min: 0, max: 2 ** 31 }),
      fc.constantFrom('whole', 'cut', 'damaged', 'smaller'),
      async (alphabet, n, seed, how) => {
        let s = seed >>> 0;
        const data = new Uint8Array(n).map(() => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 16) % alphabet);
        let stream = lzwEncode(data).slice();
        let size = data.length;
        if (how === 'cut') stream = stream.subarray(0, stream.length >> 1);
        if (how === 'damaged') stream = stream.map((v, i) => (i % 53 === 7 ? v ^ 0xa5 : v));
        if (how === 'smaller') size = data.length >> 2; // the output grows past the expected size
        const native = await outcome(() => lib!.lzwDecode!(stream, size));
        assert.deepEqual(native, await outcome(() => lzwDecode(stream, size)));
        if (how === 'whole' || how === 'smaller') assert.deepEqual(native, [...data]);
      }), { numRuns: 200 });
  });

  it('reads GDAL\'s LZW COGs exactly (uint8, int16 with predictor 2)', async () => {
    const dir = scratchDir('native-lzw-');
    const script = `
import sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
y, x = np.mgrid[0:300, 0:260]
for name, dt, pred, a in [('u8', gdal.GDT_Byte, '1', (x * 7 + y * 3) % 251), ('i16', gdal.GDT_Int16, '2', (x * 37 - y * 91) % 30000)]:
    ds = gdal.GetDriverByName('MEM').Create('', 260, 300, 2, dt)
    for b in range(2): ds.GetRasterBand(b + 1).WriteArray(a + b)
    gdal.GetDriverByName('COG').CreateCopy(sys.argv[1] + '/' + name + '.tif', ds, options=['COMPRESS=LZW', 'PREDICTOR=' + pred, 'BLOCKSIZE=64'])
`;
    gdalPython(script, [dir]);
    for (const [name, mul, sub] of [['u8', 7, 3], ['i16', 37, -91]] as const) {
      const { raster } = await readRaster(join(dir, `${name}.tif`));
      for (let yy = 0; yy < 300; yy += 13) for (let xx = 0; xx < 260; xx += 11) for (let b = 0; b < 2; b++) {
        const m = name === 'u8' ? 251 : 30000;
        const v = (((xx * mul + yy * sub) % m) + m) % m; // Python's modulo
        assert.equal(raster.get(yy, xx, b), v + b, `${name} (${yy}, ${xx}, ${b})`);
      }
    }
  });
});

describe('ZSTD decoding in the addon', { skip: lib?.zstdDecompress ? false : 'the addon is not built with libzstd here (libzstd-dev)' }, () => {
  it('decompresses what zstd-napi compressed, at any level and size, and names a corrupt stream', async (t) => {
    const zstd = await import('zstd-napi').catch(() => null);
    if (!zstd) { t.skip('zstd-napi is not installed here'); return; }
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 70000 }), fc.integer({ min: 1, max: 19 }), fc.boolean(), async (data, level, under) => {
      const z = zstd.compress(data, { compressionLevel: level });
      // an expected size below the real one: the frame states its size, and that wins
      assert.deepEqual(new Uint8Array(await lib!.zstdDecompress!(z, under ? data.length >> 1 : data.length)), data);
    }), { numRuns: 60 });
    await assert.rejects(lib!.zstdDecompress!(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 100), /corrupt ZSTD stream \(/);
  });

  it('reads GDAL\'s ZSTD COGs exactly (float32 with predictor 3, uint16 with predictor 2)', async () => {
    const dir = scratchDir('native-zstd-');
    gdalPython(`
import sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
y, x = np.mgrid[0:300, 0:260]
for name, dt, pred, a in [('f32', gdal.GDT_Float32, '3', np.sin(x / 13.0) * np.cos(y / 7.0) * 1000), ('u16', gdal.GDT_UInt16, '2', (x * 37 + y * 91) % 60000)]:
    ds = gdal.GetDriverByName('MEM').Create('', 260, 300, 2, dt)
    for b in range(2): ds.GetRasterBand(b + 1).WriteArray(a + b)
    gdal.GetDriverByName('COG').CreateCopy(sys.argv[1] + '/' + name + '.tif', ds, options=['COMPRESS=ZSTD', 'PREDICTOR=' + pred, 'BLOCKSIZE=64'])
`, [dir]);
    const paths = ['f32', 'u16'].map((name) => join(dir, `${name}.tif`));
    for (const [k, g] of gdalBatch(paths).entries()) {
      const { raster } = await readRaster(paths[k]);
      const want = g.levels[0].data;
      assert.equal(raster.data.length, want.length);
      for (let i = 0; i < want.length; i++) if (raster.data[i] !== want[i]) assert.fail(`${paths[k]} sample ${i}: ${raster.data[i]}, GDAL ${want[i]}`);
    }
  });
});

describe('JPEG decoding in the addon', { skip: lib?.jpegDecode ? false : 'the addon is not built with libjpeg here (libjpeg-dev)' }, () => {
  it('rejects a stream that is not JPEG, a component count the TIFF does not have, and bad arguments, naming them', async () => {
    await assert.rejects(lib!.jpegDecode!(new Uint8Array([1, 2, 3, 4]), null, false, 8, 8, 1), /^Error: JPEG: /);
    // a real 8x8 gray JPEG made by GDAL, claimed to hold 3 components
    const dir = scratchDir('native-jpeg-');
    gdalPython(`
import sys
import numpy as np
from osgeo import gdal
ds = gdal.GetDriverByName('MEM').Create('', 8, 8, 1, gdal.GDT_Byte)
ds.GetRasterBand(1).WriteArray(np.arange(64, dtype='uint8').reshape(8, 8))
gdal.GetDriverByName('JPEG').CreateCopy(sys.argv[1] + '/g.jpg', ds)
`, [dir]);
    const { readFileSync } = await import('node:fs');
    const jpg = new Uint8Array(readFileSync(join(dir, 'g.jpg')));
    assert.equal((await lib!.jpegDecode!(jpg, null, false, 8, 8, 1)).length, 64);
    await assert.rejects(lib!.jpegDecode!(jpg, null, true, 8, 8, 3), /JPEG: the tile has 1 components, the TIFF says 3/);
    await assert.rejects(lib!.jpegDecode!(jpg, null, false, 16, 8, 1), /JPEG: the tile is 8x8 pixels, the TIFF says 16x8/);
    assert.throws(() => lib!.jpegDecode!(jpg, null, false, 8, 8, 2), /components must be 1 or 3/);
    assert.throws(() => lib!.jpegDecode!(jpg, null, false, 0, 8, 1), /whole numbers in 1..65535/);
  });
});

describe('prefault', { skip }, () => {
  it('faults in whole pages of a WebAssembly memory, which stay zero and writable; a range outside is a RangeError', () => {
    const m = new Wasm.Memory({ initial: 64 }); // 4 MiB
    const u8 = new Uint8Array(m.buffer);
    u8[5000] = 7;
    assert.equal(lib!.prefault(m.buffer, 4096 + 100, 3 * 4096), true);
    assert.equal(u8[5000], 7, 'contents are kept');
    assert.ok(u8.every((v, i) => v === (i === 5000 ? 7 : 0)));
    u8[3 * 4096] = 1;
    assert.equal(u8[3 * 4096], 1);
    assert.equal(lib!.prefault(m.buffer, 0, 0), true, 'an empty range is fine');
    assert.throws(() => lib!.prefault(m.buffer, 4 << 20, 1), RangeError);
    assert.throws(() => lib!.prefault(new Uint8Array(8) as never, 0, 1), RangeError);
  });
});

describe('adviseHugePages', { skip }, () => {
  it('marks a WebAssembly memory for huge pages without changing it; the kernel backs its 2 MiB pages with them where THP is offered', async () => {
    const { readFileSync } = await import('node:fs');
    const m = new Wasm.Memory({ initial: 128, maximum: 1024 }); // 8 MiB
    const u8 = new Uint8Array(m.buffer);
    u8[12345] = 9;
    assert.equal(lib!.adviseHugePages(m.buffer, 0, m.buffer.byteLength), true);
    assert.equal(lib!.prefault(m.buffer, 0, m.buffer.byteLength), true);
    assert.ok(u8.every((v, i) => v === (i === 12345 ? 9 : 0)), 'contents are kept, the rest reads zero');
    const thp = (() => { try { return readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'); } catch { return ''; } })();
    if (/\[madvise\]/.test(thp)) {
      // in madvise mode only advised mappings may get huge pages: one of at least 8 MiB now is (smaps' THPeligible)
      const eligible = readFileSync('/proc/self/smaps', 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)
        .filter((e) => /THPeligible:\s+1/.test(e) && Number(/^Size:\s+(\d+) kB/m.exec(e)![1]) >= 8192);
      assert.ok(eligible.length > 0, 'an advised mapping of the memory is THP-eligible');
    }
    assert.equal(lib!.adviseHugePages(m.buffer, 0, 0), true, 'an empty range is fine');
    assert.throws(() => lib!.adviseHugePages(m.buffer, 8 << 20, 1), /adviseHugePages expects \(ArrayBuffer, offset, length\)/);
  });
});

describe('prefaultAsync', { skip }, () => {
  it('faults a range in on the pool without changing it, and refuses a range outside the buffer', async () => {
    const m = new Wasm.Memory({ initial: 64, maximum: 256 }); // 4 MiB
    const u8 = new Uint8Array(m.buffer);
    u8[5000] = 3;
    u8[3 << 20] = 4;
    assert.equal(await lib!.prefaultAsync(m.buffer, 0, m.buffer.byteLength), true);
    assert.ok(u8.every((v, i) => v === (i === 5000 ? 3 : i === 3 << 20 ? 4 : 0)), 'contents are kept, the rest reads zero');
    assert.equal(await lib!.prefaultAsync(m.buffer, 4096, 0), true, 'an empty range is fine');
    assert.throws(() => lib!.prefaultAsync(m.buffer, 4 << 20, 1) as unknown, /prefaultAsync expects \(ArrayBuffer, offset, length\)/);
  });
});

describe('copyFileRange', { skip }, () => {
  it('copies a byte range between files at the given offsets, and rejects naming the byte when the input ends first', async () => {
    const { openSync, closeSync, readFileSync } = await import('node:fs');
    const dir = scratchDir('copy-range-');
    const src = Buffer.alloc(3 << 20);
    for (let i = 0; i < src.length; i++) src[i] = (i * 131 + (i >> 11)) & 255;
    writeFileSync(join(dir, 'in'), src);
    writeFileSync(join(dir, 'out'), Buffer.alloc(100, 7));
    const fin = openSync(join(dir, 'in'), 'r');
    const fout = openSync(join(dir, 'out'), 'r+');
    try {
      await lib!.copyFileRange(fin, 12345, fout, 50, 2 << 20);
      await lib!.copyFileRange(fin, 0, fout, 0, 10);
      const out = readFileSync(join(dir, 'out'));
      assert.equal(out.length, 50 + (2 << 20));
      assert.ok(out.subarray(0, 10).equals(src.subarray(0, 10)), 'first 10 bytes');
      assert.ok(out.subarray(10, 50).every((v) => v === 7), 'bytes between left alone');
      assert.ok(out.subarray(50).equals(src.subarray(12345, 12345 + (2 << 20))), 'the range');
      await assert.rejects(lib!.copyFileRange(fin, src.length - 10, fout, 0, 20), /input ended at byte 3145728, 10 bytes short/);
      assert.throws(() => lib!.copyFileRange(fin, -1, fout, 0, 1) as unknown, /takes non-negative integers/);
      // with a leader: the little-endian uint32 at offsetIn must be it, else nothing is copied
      const at = 4096, leader = src.readUInt32LE(at);
      await lib!.copyFileRange(fin, at, fout, 0, 8, leader);
      assert.ok(readFileSync(join(dir, 'out')).subarray(0, 8).equals(src.subarray(at, at + 8)));
      await assert.rejects(lib!.copyFileRange(fin, at, fout, 0, 8, leader + 1), new RegExp(`size leader ${leader} at byte 4096, expected ${leader + 1}`));
      assert.throws(() => lib!.copyFileRange(fin, 0, fout, 0, 1, 2 ** 32) as unknown, /leader: -1 or a uint32/);
      await assert.rejects(lib!.copyFileRange(9999, 0, fout, 0, 1), /copy_file_range at byte 0: Bad file descriptor|read at byte 0: Bad file descriptor/);
    } finally {
      closeSync(fin);
      closeSync(fout);
    }
  });
});

describe('without the addon', () => {
  // A child process where resolving coco-stitcher-native fails, as on a machine without libdeflate-dev.
  const blocker = `const M = require('node:module'); const r = M._resolveFilename;
M._resolveFilename = function (req, ...a) { if (req === 'coco-stitcher-native') throw new Error('Cannot find module coco-stitcher-native'); return r.call(this, req, ...a); };`;
  const script = `
import { writeCog } from ${JSON.stringify(fileURLToPath(new URL('../../src/io/cog/write-cog.ts', import.meta.url)))};
import { readRaster } from ${JSON.stringify(fileURLToPath(new URL('../../src/io/read-raster.ts', import.meta.url)))};
import { Raster } from ${JSON.stringify(fileURLToPath(new URL('../../src/array/raster.ts', import.meta.url)))};
const dir = process.argv[2];
const r = Raster.zeros([40, 50, 2], 'uint16'); for (let i = 0; i < r.data.length; i++) r.data[i] = (i * 37) % 1000;
await writeCog(dir + '/auto.tif', r, { compress: 'DEFLATE', blocksize: 16 });
const { raster: back } = await readRaster(dir + '/auto.tif');
console.log('auto', back.data.every((v, i) => v === r.data[i]));
await writeCog(dir + '/forced.tif', r, { compress: 'DEFLATE', deflateEngine: 'libdeflate' }).catch((e) => console.log('forced', e.name, e.message));
`;

  it("'auto' falls back to node:zlib; 'libdeflate' is a clear error and writes nothing", () => {
    const dir = scratchDir('no-libdeflate-');
    writeFileSync(join(dir, 'block.cjs'), blocker);
    writeFileSync(join(dir, 'run.mts'), script);
    const res = spawnSync(process.execPath, ['--require', join(dir, 'block.cjs'), '--import', 'tsx', join(dir, 'run.mts'), dir], { encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /^auto true$/m);
    assert.match(res.stdout, /^forced UnsupportedError deflateEngine 'libdeflate' needs the optional addon coco-stitcher-native .*libdeflate-dev/m);
    assert.ok(existsSync(join(dir, 'auto.tif')));
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('forced')), []);
  });

  it('an unknown deflateEngine is a WriterOptionError naming it', async () => {
    const dir = scratchDir('bad-engine-');
    await assert.rejects(writeCog(join(dir, 'x.tif'), patternRaster([16, 16, 1], 'uint8'), { deflateEngine: 'pigz' as never }),
      (e: Error) => e.name === 'WriterOptionError' && /deflateEngine must be 'auto', 'libdeflate' or 'zlib', got "pigz"/.test(e.message));
  });
});
