/**
 * Models that need input sizes in multiples of 32, as most fully
 * convolutional networks do: built here as a U-Net in miniature (32x32
 * average pooling, nearest upsampling back, added to a 1x1 convolution of
 * the input), which onnxruntime refuses for other sizes because the two
 * branches' shapes differ. `--pad-to 32` and a model's fixed input shape are
 * checked against a windowed stitch computed here in float64 from the
 * pixels written into the input PNGs; a model failure is checked to name the
 * image, the window and the shape, and to keep the images finished before.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { attr, buildOnnxModel } from '../../src/cli/onnx/build-model.ts';
import { gdalRead } from '../helpers/gdal.ts';
import { runCli } from '../helpers/cli.ts';
import { scratchDir } from '../helpers/scratch.ts';

const ort = await import('onnxruntime-node').then(() => true, () => false);
const needsOrt = { skip: ort ? false : 'onnxruntime-node is not installed' };
const assetsOf = (img: any): any[] => img.assets ?? img.auxiliary ?? [];

const BLOCK = 32;
/** y = (32x32 block mean of channel 0) + 0.5 * channel 1, per pixel; refused by onnxruntime unless H and W are multiples of 32 */
function buildNeeds32(inputShape: (number | string)[]): Uint8Array {
  return buildOnnxModel({
    name: 'needs-32',
    inputs: [{ name: 'x', shape: inputShape }],
    outputs: [{ name: 'y', shape: ['N', 1, 'H', 'W'] }],
    initializers: [
      { name: 'scales', dims: [4], data: Float32Array.from([1, 1, BLOCK, BLOCK]) },
      { name: 'wa', dims: [1, 3, 1, 1], data: Float32Array.from([1, 0, 0]) },
      { name: 'wb', dims: [1, 3, 1, 1], data: Float32Array.from([0, 0.5, 0]) },
    ],
    nodes: [
      { op: 'AveragePool', inputs: ['x'], outputs: ['p'], attributes: { kernel_shape: attr.ints([BLOCK, BLOCK]), strides: attr.ints([BLOCK, BLOCK]) } },
      { op: 'Resize', inputs: ['p', '', 'scales'], outputs: ['u'], attributes: { mode: attr.string('nearest'), coordinate_transformation_mode: attr.string('asymmetric'), nearest_mode: attr.string('floor') } },
      { op: 'Conv', inputs: ['u', 'wa'], outputs: ['a'], attributes: { kernel_shape: attr.ints([1, 1]) } },
      { op: 'Conv', inputs: ['x', 'wb'], outputs: ['b'], attributes: { kernel_shape: attr.ints([1, 1]) } },
      { op: 'Add', inputs: ['a', 'b'], outputs: ['y'] },
    ],
  });
}

interface Img { name: string; h: number; w: number; rgb: Uint8Array }

/** Window starts as predict's grid is defined: the fewest with steps of at most floor(window * (1 - overlap)), evenly spread. */
function starts(size: number, win: number, overlap: number): number[] {
  if (size <= win) return [0];
  const k = 1 + Math.ceil((size - win) / Math.floor(win * (1 - overlap) + 1e-9));
  return Array.from({ length: k }, (_, i) => Math.round((i * (size - win)) / (k - 1)));
}

/**
 * The stitched output predict should write: each window normalised
 * ((x / 255 - 0.5) / 0.25), put in the top-left of a frame of `frame(h, w)`
 * zeros, run through the model's formula, cropped, averaged where windows overlap.
 */
function reference(img: Img, window: number, overlap: number, frame: (h: number, w: number) => [number, number]): Float64Array {
  const sum = new Float64Array(img.h * img.w);
  const count = new Float64Array(img.h * img.w);
  const [wh, ww] = [Math.min(window, img.h), Math.min(window, img.w)];
  const norm = (y: number, x: number, c: number) => (img.rgb[(y * img.w + x) * 3 + c] / 255 - 0.5) / 0.25;
  for (const r0 of starts(img.h, wh, overlap)) {
    for (const c0 of starts(img.w, ww, overlap)) {
      const [ph, pw] = frame(wh, ww);
      const at = (y: number, x: number, c: number) => (y < wh && x < ww ? norm(r0 + y, c0 + x, c) : 0);
      for (let y = 0; y < wh; y++) {
        for (let x = 0; x < ww; x++) {
          const by = Math.floor(y / BLOCK) * BLOCK;
          const bx = Math.floor(x / BLOCK) * BLOCK;
          let m = 0;
          for (let yy = by; yy < Math.min(by + BLOCK, ph); yy++) for (let xx = bx; xx < Math.min(bx + BLOCK, pw); xx++) m += at(yy, xx, 0);
          const p = (r0 + y) * img.w + c0 + x;
          sum[p] += m / (BLOCK * BLOCK) + 0.5 * at(y, x, 1);
          count[p] += 1;
        }
      }
    }
  }
  return sum.map((v, i) => v / count[i]);
}

describe('models that need multiples of 32', needsOrt, () => {
  let root: string;
  let pngs: string;
  let needs32: string;
  let fixed64: string;
  const images: Img[] = [];
  before(async () => {
    const { encode } = await import('fast-png');
    root = scratchDir('pad-to-');
    pngs = join(root, 'pngs');
    mkdirSync(pngs);
    // a fits 64 px windows as they are; b is smaller than a window and not a multiple of 32; c is one pixel high
    let seed = 5;
    for (const [name, h, w] of [['a', 64, 96], ['b', 20, 13], ['c', 1, 45], ['d', 70, 90]] as const) {
      const rgb = new Uint8Array(h * w * 3).map(() => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % 256; });
      writeFileSync(join(pngs, `${name}.png`), encode({ width: w, height: h, data: rgb, channels: 3, depth: 8 }));
      images.push({ name, h, w, rgb });
    }
    needs32 = join(root, 'needs32.onnx');
    writeFileSync(needs32, buildNeeds32(['N', 3, 'H', 'W']));
    fixed64 = join(root, 'fixed64.onnx');
    writeFileSync(fixed64, buildNeeds32([1, 3, 64, 64]));
  });

  const args = (dst: string, model: string, extra: string[]) => ['predict', '--src', join(pngs, '*.png'), '--src-channels', 'r|g|b', '--dst', dst,
    '--model', model, '--channels', 'r|g|b', '--space', 'image', '--scale', '1/255', '--mean', '0.5', '--std', '0.25',
    '--no-quantize', '--no-progress', ...extra];

  function assertStitched(dst: string, window: number, overlap: number, frame: (h: number, w: number) => [number, number]): void {
    const out = JSON.parse(readFileSync(dst, 'utf8'));
    assert.equal(out.images.length, images.length);
    for (const img of images) {
      const entry = out.images.find((e: any) => e.name === img.name);
      const pred = assetsOf(entry).find((a) => a.channels === 'pred.0');
      assert.ok(pred, `image ${img.name} has no prediction`);
      const got = gdalRead(resolve(dirname(dst), pred.file_name));
      assert.deepEqual(got.shape, [img.h, img.w, 1]);
      const want = reference(img, window, overlap, frame);
      for (let p = 0; p < want.length; p++) {
        assert.ok(Math.abs(got.data[p] - want[p]) < 1e-4, `image ${img.name} pixel (${Math.floor(p / img.w)}, ${p % img.w}): ${got.data[p]} vs ${want[p]}`);
      }
    }
  }

  it('--pad-to 32: every window (full, cut to a small image, one pixel high) padded, its output cropped back, stitched as computed here', async () => {
    const dst = join(root, 'padded', 'out.kwcoco.json');
    const r = await runCli(args(dst, needs32, ['--window', '40', '--overlap', '0.3', '--pad-to', '32']));
    assert.equal(r.code, 0, r.stderr);
    assertStitched(dst, 40, 0.3, (h, w) => [Math.ceil(h / 32) * 32, Math.ceil(w / 32) * 32]);
  });

  it('without --pad-to the model fails: the error names the image, the window, the shape and "multiple of 32", and the images finished before stay registered (exit 3)', async () => {
    const dst = join(root, 'failing', 'out.kwcoco.json');
    const r = await runCli(args(dst, needs32, ['--window', '64', '--batch-size', '1']));
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /the window at rows 0:20, cols 0:13 of image 2 \(b\), given as an input of shape \[1, 3, 20, 13\] failed in the model: [^\n]*\. 20 x 13 pixels is not a multiple of 32.*--pad-to 32/);
    assert.match(r.stderr, /1 of 4 image\(s\) were written and registered/);
    const out = JSON.parse(readFileSync(dst, 'utf8'));
    const predicted = out.images.filter((e: any) => assetsOf(e).some((a) => a.channels === 'pred.0')).map((e: any) => e.name);
    assert.deepEqual(predicted, ['a']);
    const files = existsSync(join(root, 'failing', '_assets', 'pred')) ? (await import('node:fs')).readdirSync(join(root, 'failing', '_assets', 'pred')) : [];
    assert.equal(files.length, 1, `only the finished image's file: ${files.join(', ')}`);
    // nothing finished: the model error itself, exit 2, no manifest
    const dst2 = join(root, 'failing-first', 'out.kwcoco.json');
    const r2 = await runCli(args(dst2, needs32, ['--window', '40']));
    assert.equal(r2.code, 2, r2.stderr);
    assert.match(r2.stderr, /of image 1 \(a\).* given as an input of shape \[\d, 3, 40, 40\] failed in the model: .*40 x 40 pixels is not a multiple of 32/);
    assert.equal(existsSync(dst2), false);
  });

  it('a model whose input is fixed at 1 x 3 x 64 x 64 sets the window and the batch; smaller windows are padded to it; --window 40 is refused', async () => {
    const dst = join(root, 'fixed', 'out.kwcoco.json');
    const r = await runCli(args(dst, fixed64, ['--overlap', '0.3']));
    assert.equal(r.code, 0, r.stderr);
    assertStitched(dst, 64, 0.3, () => [64, 64]);
    const bad: [string[], RegExp][] = [
      [['--window', '40'], /--window 40 conflicts with model .*fixed64\.onnx, whose input \[1, 3, 64, 64\] is fixed at 64 x 64 pixels/],
      [['--batch-size', '4'], /--batch-size 4 conflicts with model .*takes batches of exactly 1/],
      [['--channels', 'r|g'], /takes 3 input channels .*--channels r\|g has 2/],
    ];
    for (const [extra, re] of bad) {
      const r2 = await runCli([...args(join(root, 'fixed-bad', 'out.kwcoco.json'), fixed64, []), ...extra]);
      assert.equal(r2.code, 2, `${extra.join(' ')}: ${r2.stderr}`);
      assert.match(r2.stderr, re);
    }
  });
});
