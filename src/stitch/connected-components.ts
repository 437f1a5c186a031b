/**
 * Connected-component labelling of a binary image (two passes with a
 * union-find over provisional labels; typed arrays only).
 */
import { ValueError } from '../array/errors.ts';

/** Labels of a binary image: 0 = background, 1..count in raster order of each component's first pixel. */
export interface Labels {
  labels: Int32Array;
  count: number;
}

function find(parent: Int32Array, x: number): number {
  while (parent[x] !== x) {
    parent[x] = parent[parent[x]]; // path halving
    x = parent[x];
  }
  return x;
}

function union(parent: Int32Array, a: number, b: number): number {
  const ra = find(parent, a), rb = find(parent, b);
  if (ra === rb) return ra;
  // keep the smaller root: labels then follow raster order of first pixels
  if (ra < rb) { parent[rb] = ra; return ra; }
  parent[ra] = rb;
  return rb;
}

/**
 * Labels the nonzero pixels of `bin` (h x w, row-major) by `connectivity`
 * (4: edge neighbours; 8: edge and corner neighbours).
 */
export function labelComponents(bin: ArrayLike<number>, h: number, w: number, connectivity: 4 | 8 = 8): Labels {
  if (connectivity !== 4 && connectivity !== 8) throw new ValueError(`connectivity must be 4 or 8, got ${String(connectivity)}`);
  if (bin.length !== h * w) throw new ValueError(`mask has ${bin.length} pixels, expected ${h} x ${w}`);
  const labels = new Int32Array(h * w);
  // A new provisional label needs its left neighbour empty, so at most ceil(w / 2) per row.
  const parent = new Int32Array(h * Math.ceil(w / 2) + 2);
  let next = 1;
  const eight = connectivity === 8;
  for (let y = 0; y < h; y++) {
    const row = y * w, up = row - w;
    for (let x = 0; x < w; x++) {
      if (!bin[row + x]) continue;
      let l = 0;
      if (x > 0) l = labels[row + x - 1];
      if (y > 0) {
        const u = labels[up + x];
        if (u) l = l ? union(parent, l, u) : u;
        if (eight) {
          if (x > 0) { const ul = labels[up + x - 1]; if (ul) l = l ? union(parent, l, ul) : ul; }
          if (x + 1 < w) { const ur = labels[up + x + 1]; if (ur) l = l ? union(parent, l, ur) : ur; }
        }
      }
      if (!l) { l = next++; parent[l] = l; }
      labels[row + x] = l;
    }
  }
  // Final labels 1..count in raster order of first pixels.
  const remap = new Int32Array(next);
  let count = 0;
  for (let i = 0, n = h * w; i < n; i++) {
    const l = labels[i];
    if (!l) continue;
    const r = find(parent, l);
    let f = remap[r];
    if (!f) { f = remap[r] = ++count; }
    labels[i] = f;
  }
  return { labels, count };
}
