/**
 * A small seeded pseudo-random generator for demo data: the same seed gives
 * the same numbers on every platform (32-bit integer arithmetic only), so a
 * demo bundle is reproducible byte for byte.
 */

/** A deterministic random source. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Uniform integer in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number;
  /** One element of a non-empty list. */
  choice<T>(items: readonly T[]): T;
}

/** Mixes a 32-bit integer (a bijective avalanche step). */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/**
 * A generator seeded by an integer (a Weyl sequence through a 32-bit mixer).
 *
 * @example
 * const rng = createRng(0); rng.int(1, 6); // the same value on every run
 */
export function createRng(seed: number): Rng {
  let state = mix32((Math.trunc(seed) ^ 0x5bd1e995) >>> 0);
  const next = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    return mix32(state) / 4294967296;
  };
  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    choice: (items) => items[Math.floor(next() * items.length)]!,
  };
}

/**
 * Stateless noise in [0, 1) for integer coordinates (x, y, k) and a salt:
 * the same inputs always give the same value. For per-pixel texture.
 */
export function hashNoise(x: number, y: number, k: number, salt: number): number {
  let h = Math.imul(x, 0x27d4eb2d) ^ Math.imul(y, 0x165667b1) ^ Math.imul(k + 1, 0x61c88647) ^ salt;
  h = mix32(h >>> 0);
  return h / 4294967296;
}
