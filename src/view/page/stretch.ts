/**
 * Percentile stretch of the input imagery: the low and high percentiles of
 * a band's valid values (NaN and nodata left out), computed on an overview.
 */

/** [lo, hi] at percentiles p and 100 - p of the valid values of `data`; null when none is valid. */
export function percentileRange(data: ArrayLike<number>, p: number, nodata: number | null): [number, number] | null {
  if (!(p >= 0 && p < 50)) throw new Error(`stretch percentile ${p} is not in [0, 50)`);
  const valid = new Float64Array(data.length);
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v === v && v !== nodata) valid[n++] = v;
  }
  if (n === 0) return null;
  const sorted = valid.subarray(0, n).sort();
  const at = (q: number) => sorted[Math.min(n - 1, Math.max(0, Math.round((q / 100) * (n - 1))))];
  let lo = at(p);
  let hi = at(100 - p);
  if (!(hi > lo)) { lo = sorted[0]; hi = sorted[n - 1] > lo ? sorted[n - 1] : lo + 1; }
  return [lo, hi];
}
