/**
 * kwcoco channel specifications (delayed_image's `channel_spec` grammar).
 *
 * A channel code names the bands of an image:
 * - `|` early-fuses channels into one ordered stream: `r|g|b`;
 * - `,` separates late-fused streams: `r|g|b,disparity`;
 * - aliases: `rgb` = `r|g|b`, `rgba` = `r|g|b|a`, `dxdy` = `dx|dy`, `fxfy` = `fx|fy`;
 * - slice codes (Python `range` semantics, stop exclusive):
 *   `name.a:b` and `name.a:b:step`, `name:b` (= `name.0:b`), `name:a:b` and `name:a:b:step`;
 *   so `Y:2:6` is `Y.2|Y.3|Y.4|Y.5` and `B.0:10:3` is `B.0|B.3|B.6|B.9`;
 * - a code with a `.` but no `:` is ONE channel: `X.2`, `pq8.0`.
 *
 * Unlike delayed_image, `.parsed` here is always the expanded (normalized)
 * list of channel names; the atomic codes as written are `.codes`, and
 * `.spec` is the code string as given.
 */
import { ChannelError } from './errors.ts';

/** Aliases expanded by normalization (as delayed_image's `_alias_lut`). */
export const CHANNEL_ALIASES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  rgb: Object.freeze(['r', 'g', 'b']),
  rgba: Object.freeze(['r', 'g', 'b', 'a']),
  dxdy: Object.freeze(['dx', 'dy']),
  fxfy: Object.freeze(['fx', 'fy']),
});

/** Upper bound on the channels one slice code may expand to (guards `x:1e9` typos). */
const MAX_SLICE_CHANNELS = 1 << 16;

/** Anything `FusedChannelSpec.coerce` / `ChannelSpec.coerce` accept. */
export type ChannelCode = string | number | readonly string[] | FusedChannelSpec | ChannelSpec;

/** A parsed slice code `root.start:stop:step`. */
export interface SliceCode { root: string; start: number; stop: number; step: number }

function parseIntArg(text: string, code: string): number {
  if (!/^\s*[+-]?\d+\s*$/.test(text)) {
    throw new ChannelError(`invalid slice code ${JSON.stringify(code)}: ${JSON.stringify(text)} is not an integer`);
  }
  return Number.parseInt(text, 10);
}

/**
 * Parses a slice code (one containing `:`): `B:10` -> B 0..10, `B.2:6`,
 * `B:2:6` (note: `:` then two numbers is start:stop, not stop:step),
 * `B.0:10:3`, `B.:10`. Throws ChannelError for anything else (`B:`,
 * `B:0.10`, `B.::`, `B.0` has no slice).
 */
export function parseSliceCode(code: string): SliceCode {
  let root: string;
  let args: string[];
  const dot = code.indexOf('.');
  if (dot >= 0) {
    root = code.slice(0, dot);
    args = code.slice(dot + 1).split(':');
    if (args.length <= 1) throw new ChannelError(`invalid slice code ${JSON.stringify(code)}: no ':' after '.'`);
  } else {
    const colon = code.indexOf(':');
    if (colon < 0) throw new ChannelError(`invalid slice code ${JSON.stringify(code)}: no ':'`);
    root = code.slice(0, colon);
    args = code.slice(colon + 1).split(':');
  }
  let start = 0;
  let stop: number | null = null;
  let step = 1;
  if (args.length === 1) {
    stop = parseIntArg(args[0], code);
  } else if (args.length === 2 || args.length === 3) {
    if (args[0] !== '') start = parseIntArg(args[0], code);
    if (args[1] !== '') stop = parseIntArg(args[1], code);
    if (args.length === 3 && args[2] !== '') step = parseIntArg(args[2], code);
  } else {
    throw new ChannelError(`invalid slice code ${JSON.stringify(code)}: too many ':'`);
  }
  if (stop === null) throw new ChannelError(`invalid slice code ${JSON.stringify(code)}: the stop must be given explicitly`);
  if (root === '' || root.includes('.') || root.includes(':')) {
    throw new ChannelError(`invalid slice code ${JSON.stringify(code)}: bad channel root ${JSON.stringify(root)}`);
  }
  if (step === 0) throw new ChannelError(`invalid slice code ${JSON.stringify(code)}: step must not be 0`);
  return { root, start, stop, step };
}

/** Expands one atomic code (alias, slice code or plain name) into channel names. */
export function expandChannelCode(code: string): string[] {
  const alias = CHANNEL_ALIASES[code];
  if (alias && Object.prototype.hasOwnProperty.call(CHANNEL_ALIASES, code)) return [...alias];
  if (!code.includes(':')) return [code];
  const { root, start, stop, step } = parseSliceCode(code);
  const n = step > 0 ? Math.max(0, Math.ceil((stop - start) / step)) : Math.max(0, Math.ceil((start - stop) / -step));
  if (n > MAX_SLICE_CHANNELS) throw new ChannelError(`slice code ${JSON.stringify(code)} expands to ${n} channels (limit ${MAX_SLICE_CHANNELS})`);
  const out = new Array<string>(n);
  for (let i = 0, v = start; i < n; i++, v += step) out[i] = `${root}.${v}`;
  return out;
}

function splitFused(spec: string): string[] {
  if (spec === '') return [];
  if (spec.includes(',')) {
    throw new ChannelError(`fused channel code ${JSON.stringify(spec)} contains ',' (late fusion): use ChannelSpec`);
  }
  const codes = spec.split('|');
  const empty = codes.indexOf('');
  if (empty >= 0) throw new ChannelError(`channel code ${JSON.stringify(spec)} has an empty channel name at position ${empty}`);
  return codes;
}

function otherNames(other: ChannelCode | Iterable<string>): string[] {
  if (other instanceof FusedChannelSpec || other instanceof ChannelSpec) return [...other.parsed];
  if (typeof other === 'string' || typeof other === 'number') return [...ChannelSpec.coerce(other).parsed];
  return [...(other as Iterable<string>)];
}

const FUSED_MEMO = new Map<string, FusedChannelSpec>();
const STREAM_MEMO = new Map<string, ChannelSpec>();
const MEMO_LIMIT = 10_000;

function memoize<T>(memo: Map<string, T>, key: string, make: () => T): T {
  let v = memo.get(key);
  if (v === undefined) {
    v = make();
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(key, v);
  }
  return v;
}

/**
 * One early-fused stream of channels (`a|b|c`), ordered.
 *
 * @example
 * const f = FusedChannelSpec.coerce('rgb|demochan.0:3');
 * f.parsed;   // ['r','g','b','demochan.0','demochan.1','demochan.2']
 * f.numel();  // 6
 * f.concise().spec; // 'r|g|b|demochan:3'
 */
export class FusedChannelSpec {
  /** The code string as given (`rgb|X:2`). */
  readonly spec: string;
  /** The atomic codes as written (`['rgb', 'X:2']`). */
  readonly codes: readonly string[];
  /** The expanded channel names, in order (`['r','g','b','X.0','X.1']`). */
  readonly parsed: readonly string[];
  #set: Set<string> | undefined;

  /** Builds a spec from atomic codes (each may be an alias or a slice code). Prefer `coerce`. */
  constructor(codes: readonly string[], spec?: string) {
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i];
      if (typeof c !== 'string' || c === '' || c.includes('|') || c.includes(',')) {
        throw new ChannelError(`invalid channel code ${JSON.stringify(c)} at position ${i} (expected a non-empty name without '|' or ',')`);
      }
    }
    this.codes = Object.freeze([...codes]);
    this.spec = spec ?? codes.join('|');
    const parsed: string[] = [];
    for (const c of codes) for (const name of expandChannelCode(c)) parsed.push(name);
    this.parsed = Object.freeze(parsed);
  }

  /**
   * Interprets `data` as one fused stream: a code string (`'r|g|b'`), a list of
   * codes, a number n (`u0|...|u{n-1}`, as kwcoco), a FusedChannelSpec, or a
   * ChannelSpec with exactly one stream.
   */
  static coerce(data: ChannelCode): FusedChannelSpec {
    if (data instanceof FusedChannelSpec) return data;
    if (typeof data === 'string') return memoize(FUSED_MEMO, data, () => new FusedChannelSpec(splitFused(data), data));
    if (typeof data === 'number') {
      if (!Number.isInteger(data) || data < 0) throw new ChannelError(`cannot make a channel spec from ${data} channels`);
      return new FusedChannelSpec(Array.from({ length: data }, (_, i) => `u${i}`));
    }
    if (data instanceof ChannelSpec) {
      const streams = data.streams();
      if (streams.length === 1) return streams[0];
      if (streams.length === 0) return new FusedChannelSpec([]);
      throw new ChannelError(`cannot coerce ${JSON.stringify(data.spec)} with ${streams.length} streams to one fused stream (use .fuse())`);
    }
    if (Array.isArray(data)) return new FusedChannelSpec(data);
    throw new ChannelError(`cannot coerce ${JSON.stringify(data) ?? String(data)} to a FusedChannelSpec`);
  }

  /** Number of channels after expansion. */
  numel(): number { return this.parsed.length; }

  /** Channel count of each atomic code (`b1|Z:3|rgb` -> [1, 3, 3]). */
  sizes(): number[] { return this.codes.map((c) => expandChannelCode(c).length); }

  /** The set of expanded names. */
  unique(): Set<string> {
    this.#set ??= new Set(this.parsed);
    return this.#set;
  }

  /** True when every channel that `name` expands to is in this stream (`has('r')`, `has('rgb')`). */
  has(name: string): boolean {
    const set = this.unique();
    return expandChannelCode(name).every((n) => set.has(n));
  }

  /** Index of channel `name` in `.parsed`, or -1. */
  indexOf(name: string): number { return this.parsed.indexOf(name); }

  /** One code per channel (`rgb` -> `r|g|b`, `B:3` -> `B.0|B.1|B.2`). */
  normalize(): FusedChannelSpec {
    if (this.parsed.length === this.codes.length && this.parsed.every((p, i) => p === this.codes[i])) return this;
    return new FusedChannelSpec(this.parsed);
  }

  /**
   * The shortest code: runs of consecutive indices of one root become slice
   * codes (`a.0|a.1|a.2|a.5` -> `a:3|a.5`; `a.8|a.9` -> `a.8:10`); aliases
   * stay expanded.
   */
  concise(): FusedChannelSpec {
    const out: string[] = [];
    let root: string | null = null;
    let start = 0;
    let stop = 0;
    const flush = () => {
      if (root === null) return;
      out.push(start + 1 === stop ? `${root}.${start}` : start === 0 ? `${root}:${stop}` : `${root}.${start}:${stop}`);
      root = null;
    };
    for (const name of this.parsed) {
      const m = /^([^.:]+)\.(\d+)$/.exec(name);
      if (!m) {
        flush();
        out.push(name);
        continue;
      }
      const index = Number(m[2]);
      if (root === m[1] && index === stop && String(index) === m[2]) {
        stop = index + 1;
        continue;
      }
      flush();
      if (String(index) !== m[2]) { out.push(name); continue; } // `a.01` is a name, not an index
      root = m[1];
      start = index;
      stop = index + 1;
    }
    flush();
    return new FusedChannelSpec(out);
  }

  /** Channels of this stream (in this order) that are also in `other`. */
  intersection(other: ChannelCode | Iterable<string>): FusedChannelSpec {
    const keep = new Set(otherNames(other));
    return new FusedChannelSpec(this.parsed.filter((n) => keep.has(n)));
  }

  /** Channels of this stream (in this order, without repeats) that are not in `other`. */
  difference(other: ChannelCode | Iterable<string>): FusedChannelSpec {
    const drop = new Set(otherNames(other));
    return new FusedChannelSpec([...new Set(this.parsed)].filter((n) => !drop.has(n)));
  }

  /** This stream followed by the channels of `other` it lacks (ordered set union). */
  union(other: ChannelCode | Iterable<string>): FusedChannelSpec {
    return new FusedChannelSpec([...new Set([...this.parsed, ...otherNames(other)])]);
  }

  /** True when every channel here is in `other`. */
  issubset(other: ChannelCode | Iterable<string>): boolean {
    const set = new Set(otherNames(other));
    return this.parsed.every((n) => set.has(n));
  }

  /** True when every channel of `other` is here. */
  issuperset(other: ChannelCode | Iterable<string>): boolean {
    const set = this.unique();
    return otherNames(other).every((n) => set.has(n));
  }

  /** Same expanded channels in the same order. */
  equals(other: ChannelCode): boolean {
    const o = FusedChannelSpec.coerce(other);
    return o.parsed.length === this.parsed.length && o.parsed.every((n, i) => n === this.parsed[i]);
  }

  /** `[this]` (same API as ChannelSpec). */
  streams(): FusedChannelSpec[] { return [this]; }

  /** `this` (same API as ChannelSpec). */
  fuse(): FusedChannelSpec { return this; }

  /** One stream per channel (`feat.0:3` -> `feat.0,feat.1,feat.2`). */
  split(): ChannelSpec { return ChannelSpec.coerce(this.parsed.join(',')); }

  toString(): string { return this.spec; }
  toJSON(): string { return this.spec; }
}

/**
 * A set of late-fused streams (`a|b,c`), each a FusedChannelSpec.
 *
 * @example
 * const s = ChannelSpec.coerce('b1|b2|b3,m.0:4|x1|x2,x.3|x.4|x.5');
 * s.streams().map((f) => f.spec); // ['b1|b2|b3', 'm.0:4|x1|x2', 'x.3|x.4|x.5']
 * s.normalize().fuse().concise().spec; // 'b1|b2|b3|m:4|x1|x2|x.3:6'
 */
export class ChannelSpec {
  /** The code string as given. */
  readonly spec: string;
  #streams: readonly FusedChannelSpec[];
  /** All expanded channel names of all streams, in order (repeats kept). */
  readonly parsed: readonly string[];
  #set: Set<string> | undefined;

  /** Parses `spec`; empty streams (`a,,b`) are skipped as kwcoco does. Prefer `coerce`. */
  constructor(spec: string, streams?: readonly FusedChannelSpec[]) {
    if (typeof spec !== 'string') throw new ChannelError(`channel spec must be a string, got ${typeof spec}`);
    this.spec = spec;
    this.#streams = Object.freeze(streams ? [...streams] : spec.split(',').filter((s) => s !== '').map((s) => FusedChannelSpec.coerce(s)));
    this.parsed = Object.freeze(this.#streams.flatMap((s) => s.parsed));
  }

  /** Interprets a code string, a number n (`u0|...`), a list of codes, a FusedChannelSpec or a ChannelSpec. */
  static coerce(data: ChannelCode): ChannelSpec {
    if (data instanceof ChannelSpec) return data;
    if (data instanceof FusedChannelSpec) return new ChannelSpec(data.spec, data.numel() || data.codes.length ? [data] : []);
    if (typeof data === 'string') return memoize(STREAM_MEMO, data, () => new ChannelSpec(data));
    if (typeof data === 'number' || Array.isArray(data)) return ChannelSpec.coerce(FusedChannelSpec.coerce(data));
    throw new ChannelError(`cannot coerce ${JSON.stringify(data) ?? String(data)} to a ChannelSpec`);
  }

  /** Late-fuses several specs (`'r|g|b'`, `'disparity'` -> `'r|g|b,disparity'`), skipping empty ones. */
  static concat(specs: Iterable<ChannelCode>): ChannelSpec {
    const streams: FusedChannelSpec[] = [];
    for (const s of specs) streams.push(...ChannelSpec.coerce(s).streams());
    return new ChannelSpec(streams.map((s) => s.spec).join(','), streams);
  }

  /** The early-fused streams. */
  streams(): FusedChannelSpec[] { return [...this.#streams]; }

  /** Total number of channels over all streams. */
  numel(): number { return this.parsed.length; }

  /** Channel count per stream, keyed by the stream's code. */
  sizes(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.#streams) out[s.spec] = s.numel();
    return out;
  }

  /** The set of expanded names over all streams. */
  unique(): Set<string> {
    this.#set ??= new Set(this.parsed);
    return this.#set;
  }

  /** True when every channel `name` expands to is in some stream. */
  has(name: string): boolean {
    const set = this.unique();
    return expandChannelCode(name).every((n) => set.has(n));
  }

  /** All streams early-fused into one (codes kept as written). */
  fuse(): FusedChannelSpec {
    if (this.#streams.length === 1) return this.#streams[0];
    return new FusedChannelSpec(this.#streams.flatMap((s) => s.codes));
  }

  /** Every stream normalized (`b1|b2,b3|rgb,B:3` -> `b1|b2,b3|r|g|b,B.0|B.1|B.2`). */
  normalize(): ChannelSpec {
    const streams = this.#streams.map((s) => s.normalize());
    return new ChannelSpec(streams.map((s) => s.spec).join(','), streams);
  }

  /** Every stream made concise (`b1|b2,b3|rgb|B.0,B.1|B.2` -> `b1|b2,b3|r|g|b|B.0,B.1:3`). */
  concise(): ChannelSpec {
    const streams = this.#streams.map((s) => s.concise());
    return new ChannelSpec(streams.map((s) => s.spec).join(','), streams);
  }

  /** Each stream intersected with all channels of `other`; streams left empty are dropped. */
  intersection(other: ChannelCode | Iterable<string>): ChannelSpec {
    const names = otherNames(other);
    return ChannelSpec.concat(this.#streams.map((s) => s.intersection(names)).filter((s) => s.numel() > 0));
  }

  /** Each stream minus all channels of `other`; streams left empty are dropped. */
  difference(other: ChannelCode | Iterable<string>): ChannelSpec {
    const names = otherNames(other);
    return ChannelSpec.concat(this.#streams.map((s) => s.difference(names)).filter((s) => s.numel() > 0));
  }

  /** Late fusion of the normalized streams of both (repeats kept, as kwcoco). */
  union(other: ChannelCode): ChannelSpec {
    return ChannelSpec.concat([this.normalize(), ChannelSpec.coerce(other).normalize()]);
  }

  /** One stream per channel. */
  split(): ChannelSpec { return ChannelSpec.concat(this.#streams.map((s) => s.split())); }

  toString(): string { return this.spec; }
  toJSON(): string { return this.spec; }
}
