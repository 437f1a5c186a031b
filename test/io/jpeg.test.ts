/**
 * Plain JPEG files written by GDAL (gdal_translate -of JPEG: gray and RGB,
 * baseline and progressive, 4:2:0 chroma, noisy colour so chroma
 * upsampling shows) read exactly as GDAL reads them, through libjpeg in the
 * native addon and through the WebAssembly fallback without the addon.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Raster } from '../../src/array/raster.ts';
import { slice } from '../../src/array/slices.ts';
import { writePng } from '../../src/io/png.ts';
import { openRaster, readRaster } from '../../src/io/read-raster.ts';
import { decodeJpegBytes, decodeWithWasm, isJpeg, jpegInfo } from '../../src/io/jpeg.ts';
import { FormatError } from '../../src/io/errors.ts';
import { nativeAddon } from '../../src/io/native-addon.ts';
import { gdalRead } from '../helpers/gdal.ts';
import { scratchDir } from '../helpers/scratch.ts';

const H = 61, W = 83; // not multiples of the 16 px MCU

describe('plain JPEG files', () => {
  const dir = scratchDir('jpeg-test-');
  const files: Record<string, string> = {};

  before(async () => {
    for (const bands of [1, 3]) {
      const r = Raster.zeros([H, W, bands], 'uint8');
      let seed = 5;
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          for (let b = 0; b < bands; b++) {
            seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
            r.data[(y * W + x) * bands + b] = (x * 3 + y * (b + 1) * 2 + (seed >>> 28) * 4) & 255;
          }
        }
      }
      const png = join(dir, `src${bands}.png`);
      await writePng(png, r);
      for (const progressive of [false, true]) {
        const name = `${bands === 1 ? 'gray' : 'rgb'}${progressive ? '-progressive' : ''}`;
        files[name] = join(dir, `${name}.jpg`);
        execFileSync('gdal_translate', ['-q', '-of', 'JPEG', '-co', 'QUALITY=85', ...(progressive ? ['-co', 'PROGRESSIVE=ON'] : []), png, files[name]]);
      }
    }
  });

  it('reads the frame header', () => {
    const bytes = readFileSync(files.rgb);
    assert.ok(isJpeg(bytes));
    assert.deepEqual(jpegInfo(bytes, files.rgb), { width: W, height: H, components: 3, precision: 8, ycbcr: true });
    assert.equal(jpegInfo(readFileSync(files.gray), files.gray).components, 1);
  });

  it('through libjpeg (native addon): exactly GDAL\'s pixels', { skip: nativeAddon()?.jpegDecode ? false : 'the native addon was built without libjpeg' }, async () => {
    for (const [name, path] of Object.entries(files)) {
      const { raster } = await readRaster(path);
      const g = gdalRead(path);
      assert.deepEqual(raster.shape, g.shape, name);
      assert.deepEqual(Array.from(raster.data), Array.from(g.data), name);
    }
  });

  it('through the WebAssembly decoder (no addon): exactly GDAL\'s pixels', async () => {
    for (const [name, path] of Object.entries(files)) {
      const r = await decodeWithWasm(readFileSync(path), path);
      const g = gdalRead(path);
      assert.deepEqual(r.shape, g.shape, name);
      assert.deepEqual(Array.from(r.data), Array.from(g.data), name);
    }
  });

  it('windows are crops of the whole image; format is jpeg', async () => {
    const f = await openRaster(files.rgb);
    try {
      assert.equal(f.format, 'jpeg');
      const all = await f.read();
      const win = await f.read({ window: [slice(10, 30), slice(20, 50)] });
      assert.deepEqual(Array.from(win.data), Array.from(all.crop(10, 20, 20, 30).data));
    } finally {
      await f.close();
    }
  });

  it('a truncated JPEG is a FormatError naming the file', async () => {
    const bytes = readFileSync(files.rgb);
    const cut = join(dir, 'cut.jpg');
    for (const n of [100, 1000]) {
      writeFileSync(cut, bytes.subarray(0, n)); // in the headers, in the scan
      await assert.rejects(readRaster(cut), (err: Error) => err instanceof FormatError && err.message.includes(cut));
    }
    await assert.rejects(decodeJpegBytes(Uint8Array.of(0xff, 0xd8, 0xff, 0xd9), 'x.jpg'), FormatError);
    // the WebAssembly decoder fails cleanly (a corrupt scan) and still decodes the next file
    const corrupt = Uint8Array.prototype.slice.call(bytes);
    corrupt.fill(0xff, 200, 600);
    await assert.rejects(decodeWithWasm(corrupt, cut), (err: Error) => err instanceof FormatError && err.message.includes(cut));
    const again = await decodeWithWasm(bytes, files.rgb);
    assert.deepEqual(again.shape, [H, W, 3]);
  });
});
