/**
 * How native/binding.gyp builds the optional addon: with libjpeg and libzstd
 * exactly when pkg-config finds them, and without them (pkg-config finding
 * nothing) still an addon, lacking only jpegDecode and zstdDecompress; the
 * reader then decodes JPEG and ZSTD tiles in JavaScript, and its pixels agree
 * with GDAL's.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeAddon } from '../../src/io/native-addon.ts';
import { gdalPython, gdalRead } from '../helpers/gdal.ts';
import { scratchDir } from '../helpers/scratch.ts';

const NATIVE = fileURLToPath(new URL('../../native/', import.meta.url));
const pkgConfigFinds = (lib: string) => spawnSync('pkg-config', ['--exists', lib]).status === 0;
const lib = nativeAddon();

describe('the addon npm ci built', { skip: lib ? false : 'coco-stitcher-native is not built here' }, () => {
  it('has JPEG and ZSTD decoding exactly when pkg-config finds libjpeg and libzstd', () => {
    assert.equal(typeof lib!.jpegDecode === 'function', pkgConfigFinds('libjpeg'));
    assert.equal(typeof lib!.zstdDecompress === 'function', pkgConfigFinds('libzstd'));
  });
});

describe('an addon built where pkg-config finds neither libjpeg nor libzstd', { skip: lib ? false : 'coco-stitcher-native does not build here (libdeflate-dev)' }, () => {
  const dir = scratchDir('native-minimal-');
  const build = join(dir, 'native');
  cpSync(NATIVE, build, { recursive: true, filter: (src) => !src.startsWith(join(NATIVE, 'build')) });
  mkdirSync(join(dir, 'no-pc'));
  // `npm run install` runs the package's own install script (node-gyp rebuild) with npm's node-gyp and config
  const res = spawnSync('npm', ['run', 'install'], {
    cwd: build, encoding: 'utf8', env: { ...process.env, PKG_CONFIG_LIBDIR: join(dir, 'no-pc'), PKG_CONFIG_PATH: '' },
  });

  it('builds, and lacks exactly jpegDecode and zstdDecompress', () => {
    assert.equal(res.status, 0, res.stdout + res.stderr);
    const minimal = createRequire(import.meta.url)(join(build, 'index.cjs'));
    assert.deepEqual(Object.keys(minimal).sort(), ['accumulateKernel', 'adviseHugePages', 'copyFileRange', 'firstNonFinite', 'libdeflateVersion', 'lzwDecode', 'prefault', 'prefaultAsync', 'stitchAccumulate', 'streamTriad', 'zlibCompressBound', 'zlibCompressInto', 'zlibDecompress']);
  });

  it('with it, the reader decodes JPEG and ZSTD tiles in JavaScript: ZSTD exactly GDAL\'s pixels, JPEG within 1', () => {
    assert.equal(res.status, 0, res.stdout + res.stderr);
    gdalPython(`
import sys
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
y, x = np.mgrid[0:70, 0:90]
for name, dtype, gdt, opts in [('zstd', np.uint16, gdal.GDT_UInt16, ['COMPRESS=ZSTD', 'PREDICTOR=2']), ('jpeg', np.uint8, gdal.GDT_Byte, ['COMPRESS=JPEG'])]:
    ds = gdal.GetDriverByName('MEM').Create('', 90, 70, 1, gdt)
    ds.GetRasterBand(1).WriteArray(((x * 3 + y * 2) % 200).astype(dtype))
    gdal.GetDriverByName('COG').CreateCopy(sys.argv[1] + '/' + name + '.tif', ds, options=opts + ['BLOCKSIZE=32'])
`, [dir]);
    // a child process where coco-stitcher-native resolves to the minimal build
    writeFileSync(join(dir, 'redirect.cjs'), `const M = require('node:module'); const r = M._resolveFilename;
M._resolveFilename = function (req, ...a) { return r.call(this, req === 'coco-stitcher-native' ? ${JSON.stringify(join(build, 'index.cjs'))} : req, ...a); };`);
    writeFileSync(join(dir, 'read.mts'), `
import { readRaster } from ${JSON.stringify(fileURLToPath(new URL('../../src/io/read-raster.ts', import.meta.url)))};
import { nativeAddon } from ${JSON.stringify(fileURLToPath(new URL('../../src/io/native-addon.ts', import.meta.url)))};
const out = { addon: Object.keys(nativeAddon() ?? {}) };
for (const name of ['zstd', 'jpeg']) out[name] = Array.from((await readRaster(process.argv[2] + '/' + name + '.tif')).raster.data);
console.log(JSON.stringify(out));
`);
    const child = execFileSync(process.execPath, ['--require', join(dir, 'redirect.cjs'), '--import', 'tsx', join(dir, 'read.mts'), dir], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const got = JSON.parse(child);
    assert.ok(got.addon.includes('zlibCompressInto') && !got.addon.includes('jpegDecode'), `the child loaded the minimal addon: ${got.addon}`);
    assert.deepEqual(got.zstd, Array.from(gdalRead(join(dir, 'zstd.tif')).data));
    const jpeg = gdalRead(join(dir, 'jpeg.tif')).data;
    assert.equal(got.jpeg.length, jpeg.length);
    got.jpeg.forEach((v: number, i: number) => { if (Math.abs(v - jpeg[i]) > 1) assert.fail(`JPEG sample ${i}: ${v} vs GDAL ${jpeg[i]}`); });
  });
});
