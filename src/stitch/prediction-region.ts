/**
 * `prediction_region`: the pixels of the asset that received stitch weight, as a
 * GeoJSON MultiPolygon in IMAGE space with pixel-edge boundaries (holes kept).
 * (The original wrote it in asset coordinates through OpenCV contours, which trace
 * pixel centres.) Also the polygons of `writePreds`.
 */
import { Raster } from '../array/raster.ts';
import { slice } from '../array/slices.ts';
import { Affine } from '../array/affine.ts';
import { checkAllocation } from '../array/memory-budget.ts';
import type { Stitcher } from './stitcher.ts';

import { maskToMultiPolygon, multiPolygonBounds, scoredPolygons, warpMultiPolygon, type MultiPolygon } from './polygons.ts';


/** The first and last block row and column any window touched ([by0, by1, bx0, bx1], inclusive), or null when none did. */
export function touchedBlockBox(stitcher: Stitcher): [number, number, number, number] | null {
  let by0 = Infinity, by1 = -1, bx0 = Infinity, bx1 = -1;
  for (const [by, bx] of stitcher.touchedBlocks()) {
    if (by < by0) by0 = by;
    if (by > by1) by1 = by;
    if (bx < bx0) bx0 = bx;
    if (bx > bx1) bx1 = bx;
  }
  return by1 < 0 ? null : [by0, by1, bx0, bx1];
}

/**
 * uint8 mask of the canvas pixels with weight > 0 over the bounding box of the touched blocks
 * (so a huge, mostly empty canvas needs no canvas-sized mask), filled block by block; `y0`, `x0`:
 * the box's corner on the canvas.
 */
export function predictedMask(stitcher: Stitcher): { mask: Raster<Uint8Array>; y0: number; x0: number } {
  const [H, W] = stitcher.shape;
  const bs = stitcher.blocksize;
  const box = touchedBlockBox(stitcher);
  if (!box) return { mask: new Raster(new Uint8Array(0), [0, 0, 1]), y0: 0, x0: 0 };
  const [by0, by1, bx0, bx1] = box;
  const Y0 = by0 * bs, X0 = bx0 * bs, MH = Math.min(H, (by1 + 1) * bs) - Y0, MW = Math.min(W, (bx1 + 1) * bs) - X0;
  checkAllocation(MH * MW, `the prediction_region mask of a ${W}x${H} canvas (touched blocks span ${MW}x${MH} pixels)`);
  const mask = new Uint8Array(MH * MW);
  for (const [by, bx] of stitcher.touchedBlocks()) {
    const y0 = by * bs, x0 = bx * bs;
    const h = Math.min(bs, H - y0), w = Math.min(bs, W - x0);
    const wt = stitcher.weightRaster([slice(y0, y0 + h), slice(x0, x0 + w)]).data;
    for (let y = 0; y < h; y++) {
      const mo = (y0 - Y0 + y) * MW + (x0 - X0), wo = y * w;
      for (let x = 0; x < w; x++) if (wt[wo + x] > 0) mask[mo + x] = 1;
    }
  }
  return { mask: new Raster(mask, [MH, MW, 1]), y0: Y0, x0: X0 };
}

/** The predicted region of `stitcher` warped by `imgFromAsset` (pixel-corner convention). */
export function predictionRegion(stitcher: Stitcher, imgFromAsset: Affine, connectivity: 4 | 8 = 8): MultiPolygon {
  const { mask, y0, x0 } = predictedMask(stitcher);
  // the mask's pixel (0, 0) is the canvas's (y0, x0)
  return regionFromMask(mask, y0 === 0 && x0 === 0 ? imgFromAsset : imgFromAsset.matmul(Affine.translate(x0, y0)), connectivity);
}

/**
 * The MultiPolygon of a 0/1 mask (HxWx1) warped by `imgFromAsset`. A mask that is one
 * filled rectangle (the common case: full coverage) is answered without tracing.
 */
export function regionFromMask(mask: Raster<Uint8Array>, imgFromAsset: Affine, connectivity: 4 | 8 = 8): MultiPolygon {
  const rect = filledRectangle(mask);
  return rect === null ? warpRegion(maskToMultiPolygon(mask, { connectivity }), imgFromAsset) : regionFromRectangle(rect, imgFromAsset);
}

/** The region of a filled rectangle [x0, y0, x1, y1) of asset pixels (or of none) warped by `imgFromAsset`. */
export function regionFromRectangle(rect: readonly [number, number, number, number] | 'empty', imgFromAsset: Affine): MultiPolygon {
  const mp: MultiPolygon = rect === 'empty'
    ? { type: 'MultiPolygon', coordinates: [] }
    : { type: 'MultiPolygon', coordinates: [[[[rect[0], rect[1]], [rect[2], rect[1]], [rect[2], rect[3]], [rect[0], rect[3]], [rect[0], rect[1]]]]] };
  return warpRegion(mp, imgFromAsset);
}

function warpRegion(mp: MultiPolygon, imgFromAsset: Affine): MultiPolygon {
  return imgFromAsset.isIdentity() ? mp : warpMultiPolygon(mp, imgFromAsset);
}

/** [x0, y0, x1, y1] when the ones of `mask` fill exactly their bounding box; 'empty' when none; else null. */
function filledRectangle(mask: Raster<Uint8Array>): [number, number, number, number] | 'empty' | null {
  const { height: H, width: W } = mask;
  const d = mask.data;
  let x0 = W, x1 = -1, y0 = H, y1 = -1, n = 0;
  for (let y = 0; y < H; y++) {
    const o = y * W;
    let first = -1, last = -1;
    for (let x = 0; x < W; x++) if (d[o + x]) { if (first < 0) first = x; last = x; n++; }
    if (first >= 0) {
      if (y < y0) y0 = y;
      y1 = y;
      if (first < x0) x0 = first;
      if (last > x1) x1 = last;
    }
  }
  if (n === 0) return 'empty';
  return n === (x1 - x0 + 1) * (y1 - y0 + 1) ? [x0, y0, x1 + 1, y1 + 1] : null;
}

/** One annotation proposed by `writePreds` (image space). */
export interface PredictedPolygon {
  band: number;
  score: number;
  /** kwcoco's new-style polygon list: `[{exterior, interiors}]` (rings not closed) */
  segmentation: KwcocoPolygon[];
  bbox: [number, number, number, number];
}

/**
 * Connected regions above `thresh` in each of `bandIdxs`, scored by their mean
 * probability, warped to image space with their COCO bbox `[x, y, w, h]`.
 */
export function predictedPolygons(stitcher: Stitcher, bandIdxs: readonly number[], thresh: number, imgFromAsset: Affine, connectivity: 4 | 8 = 8): PredictedPolygon[] {
  if (bandIdxs.length === 0) return [];
  const full = stitcher.finalize();
  const out: PredictedPolygon[] = [];
  for (const band of bandIdxs) {
    const probs = full.selectBands([band]);
    for (const { score, polygon } of scoredPolygons(probs, thresh, { connectivity })) {
      const seg = imgFromAsset.isIdentity() ? polygon : warpMultiPolygon(polygon, imgFromAsset);
      const [minx, miny, maxx, maxy] = multiPolygonBounds(seg);
      out.push({ band, score, segmentation: toKwcocoSegmentation(seg), bbox: [minx, miny, maxx - minx, maxy - miny] });
    }
  }
  return out;
}

/** A kwcoco new-style polygon (kwimage `Polygon.to_coco('new')`). */
export interface KwcocoPolygon { exterior: [number, number][]; interiors: [number, number][][] }

function openRing(ring: readonly (readonly number[])[]): [number, number][] {
  const pts = ring.map((p) => [p[0], p[1]] as [number, number]);
  const n = pts.length;
  if (n > 1 && pts[0][0] === pts[n - 1][0] && pts[0][1] === pts[n - 1][1]) pts.pop();
  return pts;
}

/** GeoJSON MultiPolygon -> kwcoco segmentation (one `{exterior, interiors}` per polygon). */
export function toKwcocoSegmentation(mp: MultiPolygon): KwcocoPolygon[] {
  return mp.coordinates.map((rings) => ({ exterior: openRing(rings[0]), interiors: rings.slice(1).map(openRing) }));
}
