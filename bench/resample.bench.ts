/**
 * Resampling benchmark: warp a 2048x2048x3 float32 raster by a rotation
 * (0.3 rad) and scale (1.25) about its centre onto a 2048x2048 canvas,
 * linear and nearest: our warpAffine (OpenCV fixed-point kernels, row-wise
 * inverse mapping), a naive per-pixel float64 reference (in this file), and
 * GDAL's warper (python osgeo gdal.Warp between MEM datasets, single
 * thread, timed inside python so start-up and data transfer are not
 * counted). Also ours on uint8 data, and with antialias on a 0.5 downscale. Best of 3; prints a
 * markdown table with ms and output megapixels per second.
 *
 *   npm run bench -- resample
 */
import { Affine } from '../src/array/affine.ts';
import { Raster } from '../src/array/raster.ts';
import { warpAffine, type Interpolation } from '../src/array/resample/warp-affine.ts';
import { gdalPython } from '../test/helpers/gdal.ts';

const N = Number(process.env.RESAMPLE_BENCH_SIZE ?? 2048);
const C = 3;
const REPEAT = 3;
const T = Affine.affine({ scale: 1.25, theta: 0.3, about: [N / 2, N / 2] });

function makeSource(): Raster<Float32Array> {
  const data = new Float32Array(N * N * C);
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      for (let b = 0; b < C; b++) data[(y * N + x) * C + b] = Math.sin(x / (17 + b)) * Math.cos(y / 23) * 100;
    }
  }
  return new Raster(data, [N, N, C]);
}

/** The naive reference: per output pixel and band, back-project the centre in float64, exact bilinear weights, NaN outside. */
function naiveWarp(src: Raster<Float32Array>, A: Affine, w: number, h: number, interpolation: Interpolation): Raster<Float32Array> {
  const inv = A.inv();
  const out = new Float32Array(w * h * C);
  const at = (x: number, y: number, b: number): number => (x < 0 || y < 0 || x >= src.width || y >= src.height ? NaN : src.data[(y * src.width + x) * C + b]!);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [[u, v]] = inv.apply([[x + 0.5, y + 0.5]]) as [[number, number]];
      for (let b = 0; b < C; b++) {
        let val: number;
        if (interpolation === 'nearest') {
          val = at(Math.floor(u), Math.floor(v), b);
        } else {
          const sx = u - 0.5, sy = v - 0.5;
          const x0 = Math.floor(sx), y0 = Math.floor(sy);
          const fx = sx - x0, fy = sy - y0;
          val = at(x0, y0, b) * (1 - fx) * (1 - fy) + at(x0 + 1, y0, b) * fx * (1 - fy) + at(x0, y0 + 1, b) * (1 - fx) * fy + at(x0 + 1, y0 + 1, b) * fx * fy;
        }
        out[(y * w + x) * C + b] = val;
      }
    }
  }
  return new Raster(out, [h, w, C]);
}

function best(fn: () => unknown): number {
  let b = Infinity;
  for (let i = 0; i < REPEAT; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    const t = performance.now();
    fn();
    b = Math.min(b, performance.now() - t);
  }
  return b;
}

function gdalTimes(): { linear: number; nearest: number } {
  const script = `
import sys, json, time
import numpy as np
from osgeo import gdal
gdal.UseExceptions()
n = int(sys.argv[1]); c = int(sys.argv[2]); gt_dst = json.loads(sys.argv[3]); rep = int(sys.argv[4])
yy, xx = np.mgrid[0:n, 0:n]
src = gdal.GetDriverByName('MEM').Create('', n, n, c, gdal.GDT_Float32)
src.SetGeoTransform([0, 1, 0, 0, 0, 1])
for b in range(c):
    src.GetRasterBand(b + 1).WriteArray((np.sin(xx / (17.0 + b)) * np.cos(yy / 23.0) * 100).astype('float32'))
res = {}
for alg, key in (('bilinear', 'linear'), ('near', 'nearest')):
    bestt = 1e9
    for _ in range(rep):
        dst = gdal.GetDriverByName('MEM').Create('', n, n, c, gdal.GDT_Float32)
        dst.SetGeoTransform(gt_dst)
        t = time.perf_counter()
        gdal.Warp(dst, src, resampleAlg=alg, multithread=False, warpOptions=['NUM_THREADS=1'])
        bestt = min(bestt, time.perf_counter() - t)
        dst = None
    res[key] = bestt * 1000
print(json.dumps(res))
`;
  // destination pixel (u, v) -> source coordinates = T^-1 (u, v): the destination geotransform
  return JSON.parse(gdalPython(script, [String(N), String(C), JSON.stringify(T.inv().toGdal()), String(REPEAT)]));
}

const src = makeSource();
const mp = (N * N) / 1e6;
const rows: { name: string; ms: number }[] = [];
let oursLinear: Raster | undefined;
let naiveLinear: Raster | undefined;
for (const interpolation of ['linear', 'nearest'] as const) {
  rows.push({ name: `ours ${interpolation}`, ms: best(() => { const r = warpAffine(src, T, { dsize: [N, N], interpolation }); if (interpolation === 'linear') oursLinear = r; }) });
  rows.push({ name: `naive reference ${interpolation}`, ms: best(() => { const r = naiveWarp(src, T, N, N, interpolation); if (interpolation === 'linear') naiveLinear = r; }) });
}
const src8 = new Raster(Uint8Array.from(src.data, (v) => v + 128), [N, N, C]);
rows.push({ name: 'ours linear, uint8 source (15-bit integer weights)', ms: best(() => warpAffine(src8, T, { dsize: [N, N], interpolation: 'linear' })) });
const down = Affine.scale(0.5);
rows.push({ name: 'ours linear, 0.5 downscale, no antialias', ms: best(() => warpAffine(src, down, { dsize: [N / 2, N / 2], interpolation: 'linear' })) });
rows.push({ name: 'ours linear, 0.5 downscale, antialias (5x5 Gaussian)', ms: best(() => warpAffine(src, down, { dsize: [N / 2, N / 2], interpolation: 'linear', antialias: true })) });
const gdal = gdalTimes();
rows.push({ name: 'GDAL gdal.Warp bilinear (1 thread)', ms: gdal.linear });
rows.push({ name: 'GDAL gdal.Warp near (1 thread)', ms: gdal.nearest });

// agreement of ours with the naive reference (1/32 px quantization)
let maxDiff = 0;
for (let i = 0; i < oursLinear!.data.length; i++) {
  const d = Math.abs(oursLinear!.data[i]! - naiveLinear!.data[i]!);
  if (d > maxDiff) maxDiff = d;
}

console.log(`warp ${N}x${N}x${C} float32, rotation 0.3 rad + scale 1.25 about the centre, ${N}x${N} canvas; best of ${REPEAT}\n`);
console.log('| case | ms | output MP/s |');
console.log('| --- | ---: | ---: |');
for (const r of rows) {
  const outMp = r.name.includes('downscale') ? mp / 4 : mp;
  console.log(`| ${r.name} | ${r.ms.toFixed(0)} | ${(outMp / (r.ms / 1000)).toFixed(1)} |`);
}
console.log(`\nours vs naive (linear, both valid): max abs difference ${maxDiff.toFixed(3)} on values in [-100, 100]`);
