/**
 * Colour maps for the heatmap overlay, as 256-entry RGB tables built by
 * linear interpolation between published anchor colours (matplotlib's
 * viridis and magma at 0, 1/8, ..., 1), plus grey.
 */

import { colorRamp } from '../../array/color-ramp.ts';

const ANCHORS: Record<string, readonly (readonly [number, number, number])[]> = {
  viridis: [[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141], [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]],
  magma: [[0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122], [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191]],
  gray: [[0, 0, 0], [255, 255, 255]],
};

export const COLORMAPS = Object.keys(ANCHORS);

const LUTS = new Map<string, Uint8Array>();

/** The 256x3 table of a colour map by name; an error naming the known ones otherwise. */
export function colormapLut(name: string): Uint8Array {
  const anchors = ANCHORS[name];
  if (!anchors) throw new Error(`unknown colour map ${JSON.stringify(name)}; expected one of ${COLORMAPS.join(', ')}`);
  let lut = LUTS.get(name);
  if (!lut) { lut = colorRamp(anchors); LUTS.set(name, lut); }
  return lut;
}

/** Table index of value v on the scale [lo, hi] (clamped). */
export function lutIndex(v: number, lo: number, hi: number): number {
  const t = hi > lo ? (v - lo) / (hi - lo) : 0;
  return t <= 0 ? 0 : t >= 1 ? 255 : Math.round(t * 255);
}
