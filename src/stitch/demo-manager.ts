/**
 * The original's `demo_coco_stitching_manager`, end to end: a vidshapes-msi
 * dataset (1 video, 4 frames, 128 px), sliding windows of 96 px with overlap 0.3
 * in video space, fake 3-band probabilities with strong edge effects stitched with
 * `downweightEdges`, every image finalized, the stitched manifest dumped.
 */
import { join } from 'node:path';
import { Raster } from '../array/raster.ts';
import { SlidingWindow } from '../array/sliding-window.ts';
import { CocoDataset } from '../coco/dataset.ts';
import { CocoStitchingManager } from './manager.ts';

/** Options of {@link demoCocoStitchingManager}. */
export interface DemoStitchingOptions {
  /** folder of the demo bundle (created); the stitched manifest is `{dpath}/demo_stitched.kwcoco.json` */
  dpath: string;
  /** random seed of the fake probabilities (default 0) */
  seed?: number;
}

/** mulberry32: a small deterministic PRNG in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 3x3 box blur per band (edges clamped), standing in for kwimage.gaussian_blur. */
function blur3(r: Raster): Raster {
  const { height: H, width: W, bands: C } = r;
  const src = r.data as Float32Array, out = new Float32Array(src.length);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) {
    let s = 0, n = 0;
    for (let dy = -1; dy <= 1; dy++) {
      const yy = y + dy;
      if (yy < 0 || yy >= H) continue;
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        if (xx < 0 || xx >= W) continue;
        s += src[(yy * W + xx) * C + c]; n++;
      }
    }
    out[(y * W + x) * C + c] = s / n;
  }
  return new Raster(out, [H, W, C]);
}

/**
 * Runs the demo and returns the stitched dataset (already dumped to
 * `{dpath}/demo_stitched.kwcoco.json`).
 * @example
 * const dset = await demoCocoStitchingManager({ dpath: '/tmp/stitch-demo' });
 * dset.cocoImage(1).channels.spec; // '..., demochan.0|demochan.1|demochan.2'
 */
export async function demoCocoStitchingManager(options: DemoStitchingOptions): Promise<CocoDataset> {
  const { dpath } = options;
  const rand = rng(options.seed ?? 0);
  const input = await CocoDataset.demo('vidshapes-msi', { numVideos: 1, numFrames: 4, imageSize: 128, dpath });
  const result = input.copy();
  result.fpath = join(dpath, 'demo_stitched.kwcoco.json');
  const manager = new CocoStitchingManager(result, {
    shortCode: 'demofeat', chanCode: 'demochan.0|demochan.1|demochan.2', stitchingSpace: 'video',
  });
  try {
    for (const [vid, gids] of input.index.vidToGids) {
      const video = input.index.videos.get(vid)!;
      const windows = new SlidingWindow([video.height, video.width], [96, 96], { overlap: 0.3, keepbound: true, allowOvershoot: true });
      for (const gid of gids) {
        const frame = await input.cocoImage(gid).imdelay({ space: 'video' }).finalize();
        // a bright-object mask: mean over bands above the frame's 75th percentile of means
        const C = frame.bands, n = frame.height * frame.width;
        const means = new Float32Array(n);
        for (let p = 0; p < n; p++) {
          let s = 0;
          for (let c = 0; c < C; c++) s += frame.data[p * C + c];
          means[p] = s / C;
        }
        const thresh = Float32Array.from(means).sort()[Math.floor(n * 0.75)];
        for (const [rs, cs] of windows) {
          const y0 = rs.start!, x0 = cs.start!, h = rs.stop! - y0, w = cs.stop! - x0;
          const probs = Raster.zeros([h, w, 3]);
          for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
            const yy = y0 + y, xx = x0 + x;
            const m = yy < frame.height && xx < frame.width && means[yy * frame.width + xx] > thresh ? 1 : 0;
            for (let c = 0; c < 3; c++) probs.set(y, x, c, rand() * m);
          }
          const blurred = blur3(probs);
          // noticeable edge effects, which downweightEdges suppresses
          for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
            if (y < 4) blurred.set(y, x, 0, 1);
            if (y >= h - 4) blurred.set(y, x, 1, 1);
            if (x < 4 || x >= w - 4) blurred.set(y, x, 2, 1);
          }
          manager.accumulateImage(gid, [rs, cs], blurred, { assetDsize: [video.width, video.height], scaleAssetFromStitchspace: 1, downweightEdges: true });
        }
      }
    }
    for (const gid of result.imageIds()) {
      if (manager.managedImageIds().includes(gid)) await manager.submitFinalizeImage(gid);
    }
    await manager.flushImages();
  } finally {
    manager.dispose();
  }
  await result.dump();
  return result;
}
