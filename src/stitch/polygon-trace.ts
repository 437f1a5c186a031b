/**
 * Pixel-edge boundary tracing of a binary mask in one pass over the pixels
 * plus one walk per boundary loop (cost: pixels + boundary edges).
 *
 * Geometry: pixel (row r, col c) is the square x in [c, c+1], y in [r, r+1];
 * vertices are the integer points (x, y), 0 <= x <= W, 0 <= y <= H.
 * Every boundary edge is directed with the mask on its LEFT in (x, y)
 * coordinates, so outer boundaries have positive shoelace area
 * ("counter-clockwise" as RFC 7946 and shapely's `orient` count it; on screen,
 * with y down, they look clockwise) and hole boundaries negative area.
 *
 * At a vertex where two mask pixels touch only diagonally (a "pinch") the walk
 * turns left, i.e. it keeps the two pixels apart: loops follow 4-connected
 * pieces of the mask. A loop that passes a pinch vertex twice is then split
 * there into simple rings. The result is the OGC-valid ring set of the union
 * of the pixel squares (what GEOS gives for that union): rings are simple,
 * touch each other only at pinch vertices, every piece of mask that is
 * 4-connected is one shell with its holes.
 */
import { InternalError } from '../array/errors.ts';

/** Directions: 0 = +x (E), 1 = +y (S), 2 = -x (W), 3 = -y (N). Left turn in (x, y) math orientation is d + 1. */
const NEXT = (() => {
  // Index d * 16 + code, code = TL | TR << 1 | BL << 2 | BR << 3 (the four pixels around a vertex).
  const t = new Int8Array(64).fill(-1);
  for (let code = 0; code < 16; code++) {
    const TL = code & 1, TR = (code >> 1) & 1, BL = (code >> 2) & 1, BR = (code >> 3) & 1;
    const out = [
      BR && !TR, // E: top side of BR
      BL && !BR, // S: right side of BL
      TL && !BL, // W: bottom side of TL
      TR && !TL, // N: left side of TR
    ];
    for (let d = 0; d < 4; d++) {
      for (const nd of [(d + 1) & 3, d, (d + 3) & 3]) if (out[nd]) { t[d * 16 + code] = nd; break; }
    }
  }
  return t;
})();

/** One traced ring: corner vertices (not closed), flat [x0, y0, x1, y1, ...]. */
export interface TracedRing {
  /** corner coordinates, flat x, y pairs; consecutive corners differ in one coordinate */
  xy: Int32Array;
  /** twice the signed shoelace area (> 0 shell, < 0 hole); exact */
  area2: number;
  /** row-major index of a mask pixel that lies on the ring's left (identifies its 4-connected piece) */
  pixel: number;
}

/**
 * Traces all boundary rings of `bin` (h x w, nonzero = in). Rings come in the
 * raster order of their first (top, then left) horizontal edge.
 */
export function traceRings(bin: ArrayLike<number>, h: number, w: number): TracedRing[] {
  const pw = w + 2;
  // Padded 0/1 copy so the four pixels around any vertex can be read without bounds checks.
  const m = new Uint8Array(pw * (h + 2));
  for (let y = 0; y < h; y++) {
    const s = y * w, o = (y + 1) * pw + 1;
    for (let x = 0; x < w; x++) m[o + x] = bin[s + x] ? 1 : 0;
  }
  // Vertex (x, y) is addressed by base = y * pw + x: its TL pixel in the padded mask.
  const seen = new Uint8Array(m.length); // E edges already walked, by base
  const step = [1, pw, -1, -pw];
  const rings: TracedRing[] = [];
  let corners = new Int32Array(1024);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const b0 = y * pw + x;
      // E edge at vertex (x, y): pixel (y, x) in, pixel (y - 1, x) out.
      if (!m[b0 + pw + 1] || m[b0 + 1] || seen[b0]) continue;
      let b = b0, d = 0, n = 0, pinch = false;
      for (;;) {
        if (d === 0) seen[b] = 1;
        b += step[d];
        const code = m[b] | (m[b + 1] << 1) | (m[b + pw] << 2) | (m[b + pw + 1] << 3);
        const nd = NEXT[d * 16 + code];
        if (nd < 0) throw new InternalError(`polygon trace lost the boundary at vertex ${b % pw}, ${Math.floor(b / pw)}`);
        if (code === 9 || code === 6) pinch = true;
        if (nd !== d) {
          if (n + 2 > corners.length) { const c = new Int32Array(corners.length * 2); c.set(corners); corners = c; }
          const vx = b % pw;
          corners[n++] = vx;
          corners[n++] = (b - vx) / pw;
        }
        if (b === b0 && nd === 0) break;
        d = nd;
      }
      // The start vertex is a corner (the walk arrives at it going N), recorded last: move it first
      // so rings start at their top-left corner.
      if (n >= 2 && corners[n - 2] === x && corners[n - 1] === y) {
        corners.copyWithin(2, 0, n - 2);
        corners[0] = x; corners[1] = y;
      }
      const pixel = y * w + x;
      if (!pinch) rings.push(makeRing(corners.slice(0, n), pixel));
      else for (const r of splitAtRepeats(corners.subarray(0, n), w + 1)) rings.push(makeRing(r, pixel));
    }
  }
  return rings;
}

function makeRing(xy: Int32Array, pixel: number): TracedRing {
  let a = 0;
  const n = xy.length;
  for (let i = 0; i < n; i += 2) {
    const j = i + 2 === n ? 0 : i + 2;
    a += xy[i] * xy[j + 1] - xy[j] * xy[i + 1];
  }
  return { xy, area2: a, pixel };
}

/**
 * Splits a closed corner sequence that visits some vertices twice into simple
 * rings: whenever a vertex repeats, the stretch since its first visit is cut
 * out as a ring of its own (the touching points of a boundary are well nested,
 * so a stack suffices).
 */
export function splitAtRepeats(xy: Int32Array, vertsPerRow: number): Int32Array[] {
  const out: Int32Array[] = [];
  const stack: number[] = [];
  const pos = new Map<number, number>();
  for (let i = 0; i < xy.length; i += 2) {
    const x = xy[i], y = xy[i + 1], key = y * vertsPerRow + x;
    const at = pos.get(key);
    if (at === undefined) {
      pos.set(key, stack.length);
      stack.push(x, y);
      continue;
    }
    out.push(Int32Array.from(stack.slice(at)));
    for (let j = at + 2; j < stack.length; j += 2) pos.delete(stack[j + 1] * vertsPerRow + stack[j]);
    stack.length = at + 2;
  }
  out.push(Int32Array.from(stack));
  return out;
}
