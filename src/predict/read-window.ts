/**
 * Reads one model input window of an image through the delayed loader.
 * Windows are planned in the stitching space scaled by `inputScale`; the
 * loader only knows the unscaled space, so a scaled window is read as the
 * covering region of the unscaled space and resampled once to the window.
 */
import { Affine } from '../array/affine.ts';
import { Raster } from '../array/raster.ts';
import { slice } from '../array/slices.ts';
import { warpAffine } from '../array/resample/warp-affine.ts';
import type { CocoImage } from '../coco/coco-image.ts';

/**
 * The window `rows` x `cols` (half-open, in the stitching space scaled by
 * `inputScale`) of `channels`, as float32 HWC with NaN where the image has no
 * data and in the bands of channels it lacks.
 */
export async function readInputWindow(
  image: CocoImage, channels: string, space: 'video' | 'image',
  rows: readonly [number, number], cols: readonly [number, number], inputScale: number,
): Promise<Raster> {
  // an image without a video is its own canvas in video space too (as planImages and the manager take it)
  // channels it lacks are NaN bands (planImages has refused them already under --missing-channels error)
  const delayed = image.imdelay({ channels, space: image.video ? space : 'image', interpolation: 'linear', missing: 'nan' });
  const h = rows[1] - rows[0];
  const w = cols[1] - cols[0];
  if (inputScale === 1) {
    const raster = await delayed.crop([slice(rows[0], rows[1]), slice(cols[0], cols[1])]).finalize();
    return raster.dtype === 'float32' ? raster : raster.astype('float32');
  }
  // covering region of the unscaled space, with a margin for the kernel
  // (the antialiasing blur of a downscale reaches about 2 / scale pixels)
  const m = inputScale < 1 ? Math.ceil(2 / inputScale) + 1 : 1;
  const r0 = Math.max(0, Math.floor(rows[0] / inputScale) - m);
  const c0 = Math.max(0, Math.floor(cols[0] / inputScale) - m);
  const r1 = Math.min(delayed.shape[0], Math.ceil(rows[1] / inputScale) + m);
  const c1 = Math.min(delayed.shape[1], Math.ceil(cols[1] / inputScale) + m);
  if (r1 <= r0 || c1 <= c0) return Raster.full([h, w, delayed.shape[2]], NaN, 'float32');
  const region = await delayed.crop([slice(r0, r1), slice(c0, c1)]).finalize();
  // region pixel (x, y) is unscaled (x + c0, y + r0), i.e. scaled s * (x + c0) - cols[0]
  const toWindow = Affine.translate(-cols[0], -rows[0])
    .matmul(Affine.scale(inputScale))
    .matmul(Affine.translate(c0, r0));
  const src = region.dtype === 'float32' ? region : region.astype('float32');
  return warpAffine(src, toWindow, { dsize: [w, h], interpolation: 'linear', antialias: inputScale < 1 });
}
