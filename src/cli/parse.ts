/**
 * Option parsers for commander that reject bad values with a message naming
 * the option and the value.
 */
import { InvalidArgumentError } from 'commander';

/** A finite number. */
export function parseNumber(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`--${name} expects a number, got "${v}"`);
    return n;
  };
}

/** A whole number >= 1 (sizes, counts). */
export function parsePositiveInteger(name: string): (v: string) => number {
  return (v) => {
    const n = parseNumber(name)(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--${name} expects a positive integer, got "${v}"`);
    return n;
  };
}

/** Comma-separated finite numbers. */
export function parseNumberList(name: string): (v: string) => number[] {
  return (v) => v.split(',').map((part) => parseNumber(name)(part));
}

/** "min,max" with min < max. */
export function parseMinmax(v: string): [number, number] {
  const parts = parseNumberList('expected-minmax')(v);
  if (parts.length !== 2 || !(parts[0] < parts[1])) {
    throw new InvalidArgumentError(`--expected-minmax expects "min,max" with min < max, got "${v}"`);
  }
  return [parts[0], parts[1]];
}

/** A finite number or a fraction of two, e.g. "0.5" or "1/255" (as model cards write scales). */
export function parseFraction(name: string): (v: string) => number {
  return (v) => {
    const parts = v.split('/');
    if (parts.length === 2) {
      const [a, b] = parts.map((p) => parseNumber(name)(p));
      if (b === 0) throw new InvalidArgumentError(`--${name} expects a number or a fraction like 1/255, got "${v}" (division by zero)`);
      return a / b;
    }
    if (parts.length > 2) throw new InvalidArgumentError(`--${name} expects a number or a fraction like 1/255, got "${v}"`);
    return parseNumber(name)(v);
  };
}
