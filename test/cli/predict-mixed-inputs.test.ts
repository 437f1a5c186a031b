/**
 * `coco-stitcher predict` on manifests that are not uniform: frames that
 * lack a band (multi-sensor videos), images whose bands are spread over
 * different assets, images of different sizes, and tiny ones (1x1, 1xN,
 * Nx1, smaller than the window). Inputs are PNGs of known values written
 * here; the outputs are read by GDAL and compared with the model applied by
 * hand to those values. Also the --space default.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Raster } from '../../src/array/raster.ts';
import { writePng } from '../../src/io/png.ts';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { buildPointwiseModel } from '../../src/cli/onnx/build-model.ts';
import { validateManifest } from '../../src/coco/schema.ts';
import { gdalRead } from '../helpers/gdal.ts';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/scratch.ts';
import { expectedArray, fixtureEntries, KWCOCO_FIXTURES, SKIP_WITHOUT_FIXTURES } from '../helpers/kwcoco-fixtures.ts';

const ort = await import('onnxruntime-node').then(() => true, () => false);
const needsOrt = { skip: ort ? false : 'onnxruntime-node is not installed' };
const assetsOf = (img: any): any[] => img.assets ?? img.auxiliary ?? [];

const CHANNELS = ['r', 'g', 'b', 'nir'] as const;
// normalised x = (v - mean) / std; y0 = x_r + x_nir, y1 = 0.5 x_g + x_nir
const MEAN = [0, 0, 0, 100];
const STD = [255, 255, 255, 255];
const W = [[1, 0, 0, 1], [0, 0.5, 0, 1]];
const MINMAX: [number, number] = [-1, 2];
const HALF_STEP = (MINMAX[1] - MINMAX[0]) / 32767 / 2;

/** One image of the test bundle: its size, and how its bands are split into files (a channel left out is missing). */
interface ImageSpec { name: string; w: number; h: number; files: string[][]; video?: boolean }

const IMAGES: ImageSpec[] = [
  // a three-frame video: all bands, no nir, each band in its own file (plus one the model does not take)
  { name: 'f1', w: 20, h: 13, files: [['r', 'g', 'b'], ['nir']], video: true },
  { name: 'f2', w: 20, h: 13, files: [['r', 'g', 'b']], video: true },
  { name: 'f3', w: 20, h: 13, files: [['r'], ['g'], ['b'], ['extra', 'nir']], video: true },
  // images without a video, of other sizes, down to one pixel
  { name: 't1x1', w: 1, h: 1, files: [['r', 'g', 'b', 'nir']] },
  { name: 't1x7', w: 1, h: 7, files: [['r', 'g', 'b'], ['nir']] },
  { name: 't7x1', w: 7, h: 1, files: [['r', 'g', 'b']] },
  { name: 't3x3', w: 3, h: 3, files: [['r', 'g', 'b'], ['nir']] },
  { name: 's9x17', w: 9, h: 17, files: [['r', 'g'], ['b', 'nir']] },
];

/** The value of band `c` at pixel p of image k (uint8, different per image and band). */
function value(k: number, c: string, p: number): number {
  const ci = ['r', 'g', 'b', 'nir', 'extra'].indexOf(c);
  return (p * 29 + k * 53 + ci * 71 + ((p * p) % 17)) % 256;
}

/** The model's output for image k at pixel p, from the known inputs (a missing band counts as its mean: 0 after normalising). */
function expected(spec: ImageSpec, k: number, p: number): number[] {
  const present = new Set(spec.files.flat());
  const x = CHANNELS.map((c, i) => (present.has(c) ? (value(k, c, p) - MEAN[i]) / STD[i] : 0));
  return W.map((row) => row.reduce((s, wi, i) => s + wi * x[i], 0));
}

async function writeBundle(root: string, withVideo: boolean): Promise<string> {
  mkdirSync(root, { recursive: true });
  const images: any[] = [];
  let frame = 0;
  for (const [k, spec] of IMAGES.entries()) {
    const assets = [];
    for (const [j, bands] of spec.files.entries()) {
      const data = new Uint8Array(spec.w * spec.h * bands.length);
      for (let p = 0; p < spec.w * spec.h; p++) bands.forEach((c, b) => { data[p * bands.length + b] = value(k, c, p); });
      const file = `${spec.name}_${j}.png`;
      await writePng(join(root, file), new Raster(data, [spec.h, spec.w, bands.length]));
      assets.push({ file_name: file, channels: bands.join('|'), width: spec.w, height: spec.h, num_bands: bands.length, warp_aux_to_img: { scale: 1 } });
    }
    const img: any = { id: k + 1, name: spec.name, width: spec.w, height: spec.h, assets };
    if (withVideo && spec.video) Object.assign(img, { video_id: 1, frame_index: frame++, warp_img_to_vid: { scale: 1 } });
    images.push(img);
  }
  const videos = withVideo ? [{ id: 1, name: 'v1', width: 20, height: 13 }] : [];
  const path = join(root, 'data.kwcoco.json');
  writeFileSync(path, JSON.stringify({ videos, images, categories: [], annotations: [] }));
  return path;
}

/** GDAL's reading of image `img`'s asset of `channels`, dequantized. */
function readOutput(dst: string, img: any, channels: string): { shape: [number, number, number]; data: Float64Array } {
  const a = assetsOf(img).find((x) => x.channels === channels);
  assert.ok(a, `image ${img.id} has no ${channels} asset`);
  const g = gdalRead(join(dirname(dst), a.file_name));
  const q = a.quantization;
  const scale = (q.orig_max - q.orig_min) / (q.quant_max - q.quant_min);
  return { shape: g.shape, data: Float64Array.from(g.data, (v: number) => (v === q.nodata ? NaN : (v - q.quant_min) * scale + q.orig_min)) };
}

describe('predict on mixed inputs', needsOrt, () => {
  let root: string;
  let src: string;
  let model: string;
  const common = () => [
    '--model', model, '--channels', CHANNELS.join('|'), '--mean', MEAN.join(','), '--std', STD.join(','),
    '--window', '8', '--overlap', '0.3', '--expected-minmax', MINMAX.join(','), '--no-progress',
  ];
  before(async () => {
    root = scratchDir('predict-mixed-');
    src = await writeBundle(join(root, 'input'), true);
    model = join(root, 'mix.onnx');
    writeFileSync(model, buildPointwiseModel(W, [0, 0]));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('a frame without nir, bands spread over files, sizes from 1x1 to 20x13: every pixel is the model on the known input, the missing band as its mean', async () => {
    const dst = join(root, 'mixed', 'out.kwcoco.json');
    const r = await runCli(['predict', '--src', src, '--dst', dst, ...common()]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote 8 image\(s\), \d+ window\(s\) in video space/);
    // one warning names the images that lack a channel, and what is done with it
    assert.match(r.stderr, /warning: 2 image\(s\) lack channel\(s\) of --channels r\|g\|b\|nir: image 2 \(f2\) lacks nir; image 6 \(t7x1\) lacks nir/);
    assert.match(r.stderr, /given to the model as 0 after --mean\/--std/);
    const out = JSON.parse(readFileSync(dst, 'utf8'));
    assert.deepEqual(validateManifest(out).errors, []);
    for (const [k, spec] of IMAGES.entries()) {
      const img = out.images.find((x: any) => x.id === k + 1);
      const got = readOutput(dst, img, 'pred.0|pred.1');
      assert.deepEqual(got.shape, [spec.h, spec.w, 2], spec.name);
      let maxErr = 0;
      for (let p = 0; p < spec.w * spec.h; p++) {
        const want = expected(spec, k, p);
        for (let o = 0; o < 2; o++) {
          const v = got.data[p * 2 + o];
          assert.ok(Number.isFinite(v), `${spec.name} pixel ${p} band ${o} is nodata`);
          maxErr = Math.max(maxErr, Math.abs(v - want[o]));
        }
      }
      assert.ok(maxErr <= HALF_STEP + 1e-6, `${spec.name}: max error ${maxErr} > half a quantization step ${HALF_STEP}`);
      assert.deepEqual(img.prediction_region.coordinates, [[[[0, 0], [spec.w, 0], [spec.w, spec.h], [0, spec.h], [0, 0]]]], spec.name);
    }
    const v = await runCli(['validate', dst]);
    assert.equal(v.code, 0, v.stdout);
    // visualize draws every image, the video's frames in video space by default, tiny ones too
    const vis = await runCli(['visualize', dst, '--channels', 'pred.1', '--out', join(root, 'vis')]);
    assert.equal(vis.code, 0, vis.stderr);
    assert.deepEqual(vis.stdout.trim().split('\n').map((p) => p.slice(join(root, 'vis').length + 1)).sort(),
      ['no-video/s9x17.png', 'no-video/t1x1.png', 'no-video/t1x7.png', 'no-video/t3x3.png', 'no-video/t7x1.png', 'no-video_contact.png',
        'v1/f1.png', 'v1/f2.png', 'v1/f3.png', 'v1_contact.png']);
  });

  it('--missing-channels error refuses, naming the image and the channel; an image with none of the channels is refused either way', async () => {
    const strict = await runCli(['predict', '--src', src, '--dst', join(root, 'strict', 'out.kwcoco.json'), ...common(), '--missing-channels', 'error']);
    assert.equal(strict.code, 2, strict.stderr);
    assert.match(strict.stderr, /image 2 \(f2\) has no channel\(s\) nir for --channels r\|g\|b\|nir; it has r\|g\|b \(--missing-channels nan reads them as NaN bands\)/);
    const none = await runCli(['predict', '--src', src, '--dst', join(root, 'none', 'out.kwcoco.json'), ...common().map((a) => (a === CHANNELS.join('|') ? 'nir|extra' : a)), '--mean', '0', '--std', '1']);
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /image 2 \(f2\) has none of the channels of --channels nir\|extra; it has r\|g\|b \(a missing channel is read as a NaN band, but an image needs at least one of them\)/);
    // a channel no image has is a typo, not a missing sensor
    const typo = await runCli(['predict', '--src', src, '--dst', join(root, 'typo', 'out.kwcoco.json'), ...common().map((a) => (a === CHANNELS.join('|') ? 'r|g|b|nri' : a))]);
    assert.equal(typo.code, 2, typo.stderr);
    assert.match(typo.stderr, /--channels r\|g\|b\|nri: no image of --src has nri; its images have r\|g\|b\|nir\|extra\n/);
    const bad = await runCli(['predict', '--src', src, '--dst', join(root, 'bad', 'out.kwcoco.json'), ...common(), '--missing-channels', 'zero']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--missing-channels.*zero.*nan, error|Allowed choices are nan, error/);
  });

  it("Python kwcoco's multi-sensor bundle (a frame with no r|g|b): every pixel is the model on Python's own video-space reads, missing bands as 0", { skip: SKIP_WITHOUT_FIXTURES }, async () => {
    // bundle-msi: video 1 = a frame with r|g|b and B8|B11, then one with B1, B8, B8a, B10, B11;
    // video 2 = B11, X.2, Y:2:6, then r|g|b and B10|B11. Video warps are the identity.
    const entries = fixtureEntries().filter((e) => e.bundle === 'bundle-msi' && e.space === 'video' && e.interpolation === 'linear' && e.file);
    const band = (gid: number, channels: string, b: number): Float32Array => {
      const e = entries.find((x) => x.image_id === gid && x.channels === channels);
      assert.ok(e, `no fixture for image ${gid} ${channels}`);
      const a = expectedArray(e);
      const c = e.shape![2];
      return Float32Array.from({ length: a.length / c }, (_, p) => a[p * c + b]);
    };
    // Python's r, g, b and B11 per image (null: the image lacks it); B11 is a band of a larger asset in images 1 and 4
    const rgb = (gid: number) => [0, 1, 2].map((b) => band(gid, 'r|g|b', b));
    const truth: Record<number, (Float32Array | null)[]> = {
      1: [...rgb(1), band(1, 'B11', 0)],
      2: [null, null, null, band(2, 'B11', 0)],
      3: [null, null, null, band(3, 'B11', 0)],
      4: [...rgb(4), band(4, 'B10|B11', 1)],
    };
    const std = [255, 255, 255, 10000];
    const weights = [[1, 0, 0, 1], [0, 1, 1, 0]];
    const msiModel = join(root, 'msi.onnx');
    writeFileSync(msiModel, buildPointwiseModel(weights, [0, 0]));
    const dst = join(root, 'msi', 'out.kwcoco.json');
    const r = await runCli(['predict', '--src', join(KWCOCO_FIXTURES, 'bundle-msi', 'data.kwcoco.json'), '--dst', dst, '--model', msiModel,
      '--channels', 'r|g|b|B11', '--std', std.join(','), '--window', '24', '--overlap', '0.3', '--expected-minmax', '-1,8', '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote 4 image\(s\), \d+ window\(s\) in video space/);
    assert.match(r.stderr, /2 image\(s\) lack channel\(s\) of --channels r\|g\|b\|B11: image 2 \(generated-1-1\) lacks r\|g\|b; image 3 \(generated-2-0\) lacks r\|g\|b/);
    const out = JSON.parse(readFileSync(dst, 'utf8'));
    const halfStep = 9 / 32767 / 2;
    for (const gid of [1, 2, 3, 4]) {
      const got = readOutput(dst, out.images.find((x: any) => x.id === gid), 'pred.0|pred.1');
      assert.deepEqual(got.shape, [64, 64, 2]);
      let maxErr = 0;
      for (let p = 0; p < 64 * 64; p++) {
        const x = truth[gid].map((t, i) => (t === null || Number.isNaN(t[p]) ? 0 : t[p] / std[i]));
        for (let o = 0; o < 2; o++) {
          const want = weights[o].reduce((sum, w, i) => sum + w * x[i], 0);
          maxErr = Math.max(maxErr, Math.abs(got.data[p * 2 + o] - want));
        }
      }
      assert.ok(maxErr <= halfStep + 1e-5, `image ${gid}: max error ${maxErr} > half a quantization step ${halfStep}`);
    }
  });

  it('--input-scale other than 1 on an image one pixel wide or high: refused before any work, naming the image and why', async () => {
    const dst = join(root, 'scaled', 'out.kwcoco.json');
    for (const scale of ['0.5', '2']) {
      const r = await runCli(['predict', '--src', src, '--dst', dst, ...common(), '--input-scale', scale]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`image 4 \\(t1x1\\): its canvas is 1 x 1 pixels; at --input-scale ${scale} a side of one pixel reads as nodata everywhere .*predict it at --input-scale 1`));
      assert.ok(!existsSync(dst));
    }
  });

  it('--space default: video with videos (frames stitched on the video canvas), image without (same output as --space image)', async () => {
    // with videos: the demo's second video is 1.5x its frames, so video space gives larger assets than image space
    const demo = await CocoDataset.demo('vidshapes-msi', { numVideos: 2, numFrames: 2, imageSize: 24, dpath: join(root, 'demo'), seed: 5 });
    const pointwise = join(root, 'red.onnx');
    writeFileSync(pointwise, buildPointwiseModel([[1 / 255, 0, 0]], [0]));
    const args = ['--model', pointwise, '--channels', 'r|g|b', '--window', '16', '--expected-minmax', '0,1', '--no-progress'];
    const sizes = async (dst: string, space: string[]) => {
      const r = await runCli(['predict', '--src', demo.fpath!, '--dst', dst, ...args, ...space]);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(readFileSync(dst, 'utf8'));
      return { stdout: r.stdout, sizes: out.images.map((img: any) => { const a = assetsOf(img).find((x) => x.channels === 'pred.0'); return [img.id, a.width, a.height, a.warp_aux_to_img]; }) };
    };
    const byDefault = await sizes(join(root, 'sp-default', 'out.kwcoco.json'), []);
    const video = await sizes(join(root, 'sp-video', 'out.kwcoco.json'), ['--space', 'video']);
    const image = await sizes(join(root, 'sp-image', 'out.kwcoco.json'), ['--space', 'image']);
    assert.match(byDefault.stdout, / in video space -> /);
    assert.deepEqual(byDefault.sizes, video.sizes);
    assert.notDeepEqual(byDefault.sizes, image.sizes, 'the demo has a video whose canvas is not its frames\'');
    // without videos: image space, the same values as --space image
    const noVideo = await writeBundle(join(root, 'input-novideo'), false);
    const run = async (name: string, space: string[]) => {
      const dst = join(root, name, 'out.kwcoco.json');
      const r = await runCli(['predict', '--src', noVideo, '--dst', dst, ...common(), ...space]);
      assert.equal(r.code, 0, r.stderr);
      return { dst, stdout: r.stdout, out: JSON.parse(readFileSync(dst, 'utf8')) };
    };
    const d = await run('nv-default', []);
    const i = await run('nv-image', ['--space', 'image']);
    assert.match(d.stdout, / in image space -> /);
    for (const img of d.out.images) {
      const other = i.out.images.find((x: any) => x.id === img.id);
      assert.deepEqual(readOutput(d.dst, img, 'pred.0|pred.1'), readOutput(i.dst, other, 'pred.0|pred.1'), `image ${img.id}`);
    }
  });
});
