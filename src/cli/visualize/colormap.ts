/**
 * Colour maps for heatmaps: piecewise-linear through viridis's colours at
 * 0, 1/4, 1/2, 3/4 and 1 (dark purple -> blue -> teal -> green -> yellow),
 * close enough to the original to keep its virtues: brightness rises
 * monotonically and it reads for colour-blind viewers.
 */

import { colorRamp } from '../../array/color-ramp.ts';

const VIRIDIS_ANCHORS: readonly (readonly [number, number, number])[] = [
  [68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37],
];

/** 256 RGB triples of the viridis-like map. */
export const VIRIDIS: Uint8Array = colorRamp(VIRIDIS_ANCHORS);

/** Index into a 256-entry LUT for value v scaled from [lo, hi]; NaN -> -1. */
export function lutIndex(v: number, lo: number, hi: number): number {
  if (!(v === v)) return -1;
  const t = hi > lo ? (v - lo) / (hi - lo) : 0;
  return t <= 0 ? 0 : t >= 1 ? 255 : Math.round(t * 255);
}
