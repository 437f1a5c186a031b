/**
 * The source crop delayed_image's optimizer applies when a linear warp sits
 * above a band selection (fixtures README C6): the asset is cropped to the
 * footprint of the image canvas before the (fused) warp, so later warps to a
 * larger video canvas see border values outside that crop.
 */
import type { Affine } from '../../array/affine.ts';
import type { PixelRect } from '../../array/resample/warp-affine.ts';

/**
 * The crop of an asset of `assetSize` to the footprint of the image canvas
 * `imageSize` under `assetToImage`:
 * 1. map the canvas corners through the inverse, take the bounding box;
 * 2. floor left/top, ceil right/bottom, clip at 0;
 * 3. widen left/top by 1 unless at 0, right/bottom by ceil(bbox_w / W), ceil(bbox_h / H)
 *    (bbox_w, bbox_h: the box of step 2; matches every fixture, the float box does not);
 * 4. clip to the asset.
 */
export function footprintCrop(assetToImage: Affine, imageSize: readonly [number, number], assetSize: readonly [number, number]): PixelRect {
  const [W, H] = imageSize;
  const corners = assetToImage.inv().apply([[0, 0], [W, 0], [0, H], [W, H]]);
  const xs = corners.map((p) => p[0]);
  const ys = corners.map((p) => p[1]);
  const minx = Math.min(...xs), maxx = Math.max(...xs), miny = Math.min(...ys), maxy = Math.max(...ys);
  let x0 = Math.max(Math.floor(minx), 0);
  let y0 = Math.max(Math.floor(miny), 0);
  let x1 = Math.max(Math.ceil(maxx), 0);
  let y1 = Math.max(Math.ceil(maxy), 0);
  const bw = x1 - x0;
  const bh = y1 - y0;
  if (x0 > 0) x0 -= 1;
  if (y0 > 0) y0 -= 1;
  x1 += Math.ceil(bw / W);
  y1 += Math.ceil(bh / H);
  const [aw, ah] = assetSize;
  x0 = Math.min(x0, aw); y0 = Math.min(y0, ah);
  return { x0, y0, x1: Math.min(Math.max(x1, x0), aw), y1: Math.min(Math.max(y1, y0), ah) };
}
