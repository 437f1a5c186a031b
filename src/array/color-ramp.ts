/**
 * 256-entry RGB colour tables made by linear interpolation between anchor
 * colours spaced evenly on [0, 1]: the one builder behind the colour maps of
 * `visualize`'s pictures and of the viewer's page.
 */

/** An RGB colour, 0..255 per channel. */
export type Rgb = readonly [number, number, number];

/** 256 RGB triples (768 bytes) through `anchors` (at least 2), evenly spaced. */
export function colorRamp(anchors: readonly Rgb[]): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  const segments = anchors.length - 1;
  for (let i = 0; i < 256; i++) {
    const pos = (i / 255) * segments;
    const k = Math.min(Math.floor(pos), segments - 1);
    const f = pos - k;
    for (let ch = 0; ch < 3; ch++) lut[i * 3 + ch] = Math.round(anchors[k][ch] * (1 - f) + anchors[k + 1][ch] * f);
  }
  return lut;
}
