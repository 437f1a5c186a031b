/**
 * Hand-assembled WebAssembly (SIMD) kernels for the Stitcher's hot loops: accumulate rows of a
 * patch into a block (scalar or per-pixel weight, NaN/Inf omission), find the first non-finite
 * value, divide sums by weights, and quantize floats to 8/16-bit integers (quantize.ts). All addresses are byte offsets into one imported memory;
 * strides are in bytes, lengths in elements. One module per element type (f32 / f64).
 *
 * Written as bytes (no toolchain dependency): a tiny emitter with structured loops below.
 */
import { InternalError } from '../array/errors.ts';

type Bytes = number[];

/** The few WebAssembly JS-API members used here (the project's lib has no DOM/WebAssembly typings). */
export interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
interface WasmModule { readonly __wasmModule?: never }
interface WasmApi {
  Memory: new (d: { initial: number; maximum?: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (m: WasmModule, imports: object) => { exports: unknown };
  validate(bytes: Uint8Array): boolean;
}
/** globalThis.WebAssembly, typed. */
export const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const leb = (n: number): Bytes => { const o: Bytes = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; o.push(b); } while (n); return o; };
const sleb = (n: number): Bytes => {
  const o: Bytes = [];
  for (;;) {
    const b = n & 0x7f; n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && (b & 0x40))) { o.push(b); return o; }
    o.push(b | 0x80);
  }
};
const str = (s: string): Bytes => [...leb(s.length), ...Array.from(Buffer.from(s, 'utf8'))];
const vec = (items: Bytes[]): Bytes => [...leb(items.length), ...items.flat()];
const section = (id: number, body: Bytes): Bytes => [id, ...leb(body.length), ...body];

const I32 = 0x7f, F32 = 0x7d, F64 = 0x7c, V128 = 0x7b;
const simd = (op: number, ...imm: number[]): Bytes => [0xfd, ...leb(op), ...imm];
const i32c = (v: number): Bytes => [0x41, ...sleb(v)];
const add32 = 0x6a, sub32 = 0x6b, mul32 = 0x6c, eqz32 = 0x45, eq32 = 0x46, ne32 = 0x47, ltU = 0x49, leU = 0x4d, and32 = 0x71;

/** Element type descriptor. */
interface ElemType {
  vt: number; size: number; align: number;
  load: Bytes; store: Bytes; add: number; sub: number; mul: number; div: number; eq: number; ne: number;
  nan: Bytes; splat: Bytes; vadd: Bytes; vmul: Bytes; vdiv: Bytes; vsub: Bytes; veq: Bytes;
}
const T32: ElemType = {
  vt: F32, size: 4, align: 2, load: [0x2a, 2, 0], store: [0x38, 2, 0], add: 0x92, sub: 0x93, mul: 0x94, div: 0x95, eq: 0x5b, ne: 0x5c,
  nan: [0x43, 0x00, 0x00, 0xc0, 0x7f], splat: simd(0x13), vadd: simd(228), vmul: simd(230), vdiv: simd(231), vsub: simd(229), veq: simd(0x41),
};
const T64: ElemType = {
  vt: F64, size: 8, align: 3, load: [0x2b, 3, 0], store: [0x39, 3, 0], add: 0xa0, sub: 0xa1, mul: 0xa2, div: 0xa3, eq: 0x61, ne: 0x62,
  nan: [0x44, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f], splat: simd(0x14), vadd: simd(240), vmul: simd(242), vdiv: simd(243), vsub: simd(241), veq: simd(0x47),
};
const vload: Bytes = simd(0x00, 4, 0), vstore: Bytes = simd(0x0b, 4, 0);
const allTrue32: Bytes = simd(163);
const vzero: Bytes = simd(0x0c, ...new Array<number>(16).fill(0));
const vand: Bytes = simd(0x4e);

/** A function under construction: named params and locals. */
class Fn {
  readonly idx = new Map<string, number>();
  readonly locals: number[] = [];
  constructor(readonly params: [string, number][], readonly result: number | null) {
    params.forEach(([n], i) => this.idx.set(n, i));
  }
  local(name: string, vt: number): void { this.idx.set(name, this.params.length + this.locals.length); this.locals.push(vt); }
  get(n: string): Bytes { return [0x20, ...leb(this.#i(n))]; }
  set(n: string): Bytes { return [0x21, ...leb(this.#i(n))]; }
  #i(n: string): number { const i = this.idx.get(n); if (i === undefined) throw new InternalError(`wasm emitter: unknown local ${n}`); return i; }
  /** n += k (i32). */
  inc(n: string, k: Bytes): Bytes { return [...this.get(n), ...k, add32, ...this.set(n)]; }
  encode(body: Bytes): { type: Bytes; code: Bytes } {
    const type = [0x60, ...vec(this.params.map(([, t]) => [t])), ...(this.result === null ? [0] : [1, this.result])];
    const groups: Bytes[] = this.locals.map((t) => [1, t]);
    const fn = [...vec(groups), ...body, 0x0b];
    return { type, code: [...leb(fn.length), ...fn] };
  }
}

/** while (cond) body — cond leaves an i32. */
const whileLoop = (cond: Bytes, body: Bytes): Bytes => [0x02, 0x40, 0x03, 0x40, ...cond, eqz32, 0x0d, 1, ...body, 0x0c, 0, 0x0b, 0x0b];
const ifElse = (cond: Bytes, then: Bytes, els: Bytes = []): Bytes => [...cond, 0x04, 0x40, ...then, ...(els.length ? [0x05, ...els] : []), 0x0b];

/** for each row: body; then advance the listed (pointer, stride) pairs; rows counts down. */
function rowLoop(f: Fn, advance: [string, string][], body: Bytes): Bytes {
  return whileLoop([...f.get('rows'), ...i32c(0), 0x4a /* gt_s */], [
    ...body,
    ...advance.flatMap(([p, s]) => f.inc(p, f.get(s))),
    ...f.get('rows'), ...i32c(1), sub32, ...f.set('rows'),
  ]);
}

function kernels(T: ElemType): Bytes {
  const E = T.size, lanes = 16 / E;
  const fns: { name: string; f: Fn; body: Bytes }[] = [];

  // acc(dst, ds, src, ss, rows, len, w): dst[r][i] += src[r][i] * w
  {
    const f = new Fn([['dst', I32], ['ds', I32], ['src', I32], ['ss', I32], ['rows', I32], ['len', I32], ['w', T.vt]], null);
    f.local('d', I32); f.local('s', I32); f.local('end', I32); f.local('vend', I32); f.local('vw', V128);
    const body = [
      ...f.get('w'), ...T.splat, ...f.set('vw'),
      ...rowLoop(f, [['dst', 'ds'], ['src', 'ss']], [
        ...f.get('dst'), ...f.set('d'), ...f.get('src'), ...f.set('s'),
        ...f.get('dst'), ...f.get('len'), ...i32c(E), mul32, add32, ...f.set('end'),
        ...f.get('end'), ...i32c(15), sub32, ...f.set('vend'),
        ...whileLoop([...f.get('d'), ...f.get('vend'), 0x48 /* lt_s */], [
          ...f.get('d'), ...f.get('d'), ...vload, ...f.get('s'), ...vload, ...f.get('vw'), ...T.vmul, ...T.vadd, ...vstore,
          ...f.inc('d', i32c(16)), ...f.inc('s', i32c(16)),
        ]),
        ...whileLoop([...f.get('d'), ...f.get('end'), ltU], [
          ...f.get('d'), ...f.get('d'), ...T.load, ...f.get('s'), ...T.load, ...f.get('w'), T.mul, T.add, ...T.store,
          ...f.inc('d', i32c(E)), ...f.inc('s', i32c(E)),
        ]),
      ]),
    ];
    fns.push({ name: 'acc', f, body });
  }

  // addc(dst, ds, rows, len, w): dst[r][i] += w
  {
    const f = new Fn([['dst', I32], ['ds', I32], ['rows', I32], ['len', I32], ['w', T.vt]], null);
    f.local('d', I32); f.local('end', I32); f.local('vend', I32); f.local('vw', V128);
    const body = [
      ...f.get('w'), ...T.splat, ...f.set('vw'),
      ...rowLoop(f, [['dst', 'ds']], [
        ...f.get('dst'), ...f.set('d'),
        ...f.get('dst'), ...f.get('len'), ...i32c(E), mul32, add32, ...f.set('end'),
        ...f.get('end'), ...i32c(15), sub32, ...f.set('vend'),
        ...whileLoop([...f.get('d'), ...f.get('vend'), 0x48], [
          ...f.get('d'), ...f.get('d'), ...vload, ...f.get('vw'), ...T.vadd, ...vstore, ...f.inc('d', i32c(16)),
        ]),
        ...whileLoop([...f.get('d'), ...f.get('end'), ltU], [
          ...f.get('d'), ...f.get('d'), ...T.load, ...f.get('w'), T.add, ...T.store, ...f.inc('d', i32c(E)),
        ]),
      ]),
    ];
    fns.push({ name: 'addc', f, body });
  }

  // accpw(dst, ds, wt, wtS, src, ss, wp, ws, rows, npix, C): dst[r][p*C+c] += src[r][p*C+c] * wp[r][p] and
  // wt[r][p] += wp[r][p] (the weight plane in the same pass, not a second one over the weights)
  {
    const f = new Fn([['dst', I32], ['ds', I32], ['wt', I32], ['wtS', I32], ['src', I32], ['ss', I32], ['wp', I32], ['ws', I32], ['rows', I32], ['npix', I32], ['C', I32]], null);
    f.local('d', I32); f.local('s', I32); f.local('q', I32); f.local('qend', I32); f.local('k', I32); f.local('w', T.vt); f.local('t', I32);
    const addWeight = [...f.get('t'), ...f.get('t'), ...T.load, ...f.get('w'), T.add, ...T.store, ...f.inc('t', i32c(E))];
    const scalarPixel = [
      ...f.get('q'), ...T.load, ...f.set('w'),
      ...f.get('C'), ...f.set('k'),
      ...whileLoop([...f.get('k'), ...i32c(0), 0x4a], [
        ...f.get('d'), ...f.get('d'), ...T.load, ...f.get('s'), ...T.load, ...f.get('w'), T.mul, T.add, ...T.store,
        ...f.inc('d', i32c(E)), ...f.inc('s', i32c(E)), ...f.get('k'), ...i32c(1), sub32, ...f.set('k'),
      ]),
      ...addWeight,
      ...f.inc('q', i32c(E)),
    ];
    f.local('vw', V128); f.local('sv', V128); f.local('m', I32); f.local('j', I32);
    // `lanes` pixels per iteration: their weights are one vector (added to the plane as one), and each
    // vector of their values is multiplied by those weights spread to its lanes by one shuffle
    const groupHead = [...f.get('q'), ...i32c(15), add32, ...f.get('qend'), ltU];
    const groupTail = [
      ...f.get('t'), ...f.get('t'), ...vload, ...f.get('vw'), ...T.vadd, ...vstore,
      ...f.inc('q', i32c(16)), ...f.inc('t', i32c(16)),
    ];
    /** the weight of pixel pix[e] in lane e */
    const spread = (pix: number[]): Bytes => [...f.get('vw'), ...f.get('vw'), ...simd(0x0d, ...pix.flatMap((p) => Array.from({ length: E }, (_, b) => p * E + b)))];
    /** d[off] += s[off] * (weights on the stack) */
    const accAt = (off: number, wv: Bytes): Bytes => [
      ...f.get('d'), ...f.get('d'), ...simd(0x00, 4, ...leb(off)), ...f.get('s'), ...simd(0x00, 4, ...leb(off)), ...wv, ...T.vmul, ...T.vadd, ...simd(0x0b, 4, ...leb(off)),
    ];
    /** C dividing `lanes`: the group's values are C vectors, unrolled */
    const divisorGroups = (C: number): Bytes => whileLoop(groupHead, [
      ...f.get('q'), ...vload, ...f.set('vw'),
      ...Array.from({ length: C }, (_, v) => accAt(16 * v, spread(Array.from({ length: lanes }, (_, e) => Math.floor((v * lanes + e) / C))))).flat(),
      ...f.inc('d', i32c(16 * C)), ...f.inc('s', i32c(16 * C)),
      ...groupTail,
    ]);
    /** C a multiple of `lanes`: m = C / lanes vectors per pixel */
    const multipleGroups = whileLoop(groupHead, [
      ...f.get('q'), ...vload, ...f.set('vw'),
      ...Array.from({ length: lanes }, (_, l) => [
        ...spread(new Array<number>(lanes).fill(l)), ...f.set('sv'),
        ...f.get('m'), ...f.set('j'),
        ...whileLoop([...f.get('j'), ...i32c(0), 0x4a], [
          ...accAt(0, f.get('sv')), ...f.inc('d', i32c(16)), ...f.inc('s', i32c(16)),
          ...f.get('j'), ...i32c(1), sub32, ...f.set('j'),
        ]),
      ]).flat(),
      ...groupTail,
    ]);
    const divisors = Array.from({ length: lanes }, (_, i) => i + 1).filter((c) => lanes % c === 0);
    const groups = divisors.reduceRight<Bytes>((els, c) => ifElse([...f.get('C'), ...i32c(c), eq32], divisorGroups(c), els),
      ifElse([...f.get('C'), ...i32c(lanes - 1), and32, eqz32], multipleGroups));
    const body = [
      ...f.get('C'), ...i32c(Math.log2(lanes)), 0x76 /* shr_u */, ...f.set('m'),
      ...rowLoop(f, [['dst', 'ds'], ['wt', 'wtS'], ['src', 'ss'], ['wp', 'ws']], [
        ...f.get('dst'), ...f.set('d'), ...f.get('src'), ...f.set('s'), ...f.get('wp'), ...f.set('q'), ...f.get('wt'), ...f.set('t'),
        ...f.get('wp'), ...f.get('npix'), ...i32c(E), mul32, add32, ...f.set('qend'),
        ...groups,
        // the pixels left (and every pixel of other band counts)
        ...whileLoop([...f.get('q'), ...f.get('qend'), ltU], scalarPixel),
      ]),
    ];
    fns.push({ name: 'accpw', f, body });
  }

  // accomit(sums, sS, wt, wtS, src, ss, wp, ws, rows, npix, C, usewp, wsc): pixels with any
  // non-finite band are skipped; others: sums += src * w, wt += w (w = wp[p] if usewp else wsc).
  {
    const f = new Fn([['sums', I32], ['sS', I32], ['wt', I32], ['wtS', I32], ['src', I32], ['ss', I32], ['wp', I32], ['ws', I32],
      ['rows', I32], ['npix', I32], ['C', I32], ['usewp', I32], ['wsc', T.vt]], null);
    f.local('d', I32); f.local('t', I32); f.local('s', I32); f.local('q', I32); f.local('p', I32); f.local('k', I32);
    f.local('e', I32); f.local('ok', I32); f.local('w', T.vt); f.local('x', T.vt); f.local('step', I32);
    f.local('v', V128); f.local('m', V128); f.local('vw', V128);
    const body = [
      ...f.get('C'), ...i32c(E), mul32, ...f.set('step'),
      ...rowLoop(f, [['sums', 'sS'], ['wt', 'wtS'], ['src', 'ss'], ['wp', 'ws']], [
        ...f.get('sums'), ...f.set('d'), ...f.get('wt'), ...f.set('t'), ...f.get('src'), ...f.set('s'), ...f.get('wp'), ...f.set('q'),
        ...f.get('npix'), ...f.set('p'),
        ...ifElse([...f.get('C'), ...i32c(lanes), eq32], [
          // one pixel per vector: add it when every lane is finite
          ...whileLoop([...f.get('p'), ...i32c(0), 0x4a], [
            ...ifElse(f.get('usewp'), [...f.get('q'), ...T.load, ...f.set('w')], [...f.get('wsc'), ...f.set('w')]),
            ...f.get('s'), ...vload, ...f.set('v'),
            ...ifElse([...f.get('v'), ...f.get('v'), ...T.vsub, ...vzero, ...T.veq, ...allTrue32], [
              ...f.get('d'), ...f.get('d'), ...vload, ...f.get('v'), ...f.get('w'), ...T.splat, ...T.vmul, ...T.vadd, ...vstore,
              ...f.get('t'), ...f.get('t'), ...T.load, ...f.get('w'), T.add, ...T.store,
            ]),
            ...f.inc('d', i32c(16)), ...f.inc('s', i32c(16)), ...f.inc('t', i32c(E)), ...f.inc('q', i32c(E)),
            ...f.get('p'), ...i32c(1), sub32, ...f.set('p'),
          ]),
        ], ifElse([...f.get('C'), ...i32c(1), eq32], [
          // one band: `lanes` pixels per vector, non-finite lanes masked to value 0 and weight 0
          ...whileLoop([...f.get('p'), ...i32c(lanes - 1), 0x4a], [
            ...f.get('s'), ...vload, ...f.set('v'),
            ...f.get('v'), ...f.get('v'), ...T.vsub, ...vzero, ...T.veq, ...f.set('m'),
            ...ifElseValueV(f.get('usewp'), [...f.get('q'), ...vload], [...f.get('wsc'), ...T.splat]), ...f.get('m'), ...vand, ...f.set('vw'),
            ...f.get('d'), ...f.get('d'), ...vload, ...f.get('v'), ...f.get('m'), ...vand, ...f.get('vw'), ...T.vmul, ...T.vadd, ...vstore,
            ...f.get('t'), ...f.get('t'), ...vload, ...f.get('vw'), ...T.vadd, ...vstore,
            ...f.inc('d', i32c(16)), ...f.inc('s', i32c(16)), ...f.inc('t', i32c(16)), ...f.inc('q', i32c(16)),
            ...f.get('p'), ...i32c(lanes), sub32, ...f.set('p'),
          ]),
        ])),
        ...whileLoop([...f.get('p'), ...i32c(0), 0x4a], [
          ...ifElse(f.get('usewp'), [...f.get('q'), ...T.load, ...f.set('w')], [...f.get('wsc'), ...f.set('w')]),
          // ok = all bands finite (x - x == 0 fails for NaN and +-Inf)
          ...i32c(1), ...f.set('ok'), ...f.get('s'), ...f.set('e'), ...f.get('C'), ...f.set('k'),
          ...whileLoop([...f.get('k'), ...i32c(0), 0x4a], [
            ...f.get('e'), ...T.load, ...f.set('x'),
            ...f.get('ok'), ...f.get('x'), ...f.get('x'), T.sub, ...(T.vt === F32 ? [0x43, 0, 0, 0, 0] : [0x44, 0, 0, 0, 0, 0, 0, 0, 0]), T.eq, and32, ...f.set('ok'),
            ...f.inc('e', i32c(E)), ...f.get('k'), ...i32c(1), sub32, ...f.set('k'),
          ]),
          ...ifElse(f.get('ok'), [
            ...f.get('s'), ...f.set('e'), ...f.get('d'), ...f.set('k'), // k = write pointer
            ...whileLoop([...f.get('e'), ...f.get('s'), ...f.get('step'), add32, ltU], [
              ...f.get('k'), ...f.get('k'), ...T.load, ...f.get('e'), ...T.load, ...f.get('w'), T.mul, T.add, ...T.store,
              ...f.inc('k', i32c(E)), ...f.inc('e', i32c(E)),
            ]),
            ...f.get('t'), ...f.get('t'), ...T.load, ...f.get('w'), T.add, ...T.store,
          ]),
          ...f.inc('d', f.get('step')), ...f.inc('s', f.get('step')), ...f.inc('t', i32c(E)), ...f.inc('q', i32c(E)),
          ...f.get('p'), ...i32c(1), sub32, ...f.set('p'),
        ]),
      ]),
    ];
    fns.push({ name: 'accomit', f, body });
  }

  // firstbad(src, ss, rows, len) -> element index (r * len + i) of the first non-finite value, or -1
  {
    const f = new Fn([['src', I32], ['ss', I32], ['rows', I32], ['len', I32]], I32);
    f.local('s', I32); f.local('end', I32); f.local('r', I32); f.local('x', T.vt);
    const zero = T.vt === F32 ? [0x43, 0, 0, 0, 0] : [0x44, 0, 0, 0, 0, 0, 0, 0, 0];
    const body = [
      ...i32c(0), ...f.set('r'),
      ...whileLoop([...f.get('r'), ...f.get('rows'), 0x48], [
        ...f.get('src'), ...f.get('ss'), ...f.get('r'), mul32, add32, ...f.set('s'),
        ...f.get('s'), ...f.get('len'), ...i32c(E), mul32, add32, ...f.set('end'),
        // vector pre-scan: skip four vectors at a time while all are finite (x - x is 0, or NaN for NaN and
        // ±Inf, and a NaN survives the adds), then single vectors
        // (the loads only when the vectors are inside the row: nothing is read past its end)
        ...whileLoop([...f.get('s'), ...i32c(63), add32, ...f.get('end'), ltU, 0x04, I32,
          ...[0, 16, 32, 48].map((o) => [...f.get('s'), ...simd(0x00, 4, ...leb(o)), ...f.get('s'), ...simd(0x00, 4, ...leb(o)), ...T.vsub]).reduce((a, b) => [...a, ...b, ...T.vadd]),
          ...vzero, ...T.veq, ...allTrue32, 0x05, ...i32c(0), 0x0b], [
          ...f.inc('s', i32c(64)),
        ]),
        ...whileLoop([...f.get('s'), ...i32c(15), add32, ...f.get('end'), ltU, 0x04, I32,
          ...f.get('s'), ...vload, ...f.get('s'), ...vload, ...T.vsub, ...vzero, ...T.veq, ...allTrue32, 0x05, ...i32c(0), 0x0b], [
          ...f.inc('s', i32c(16)),
        ]),
        ...whileLoop([...f.get('s'), ...f.get('end'), ltU], [
          ...f.get('s'), ...T.load, ...f.set('x'),
          ...ifElse([...f.get('x'), ...f.get('x'), T.sub, ...zero, T.ne], [
            ...f.get('r'), ...f.get('len'), mul32, ...f.get('s'), ...f.get('src'), ...f.get('ss'), ...f.get('r'), mul32, add32, sub32,
            ...i32c(E), 0x6d /* div_s */, add32, 0x0f /* return */,
          ]),
          ...f.inc('s', i32c(E)),
        ]),
        ...f.inc('r', i32c(1)),
      ]),
      ...i32c(-1),
    ];
    fns.push({ name: 'firstbad', f, body });
  }

  // fin(out, os, sums, sS, wt, wtS, rows, npix, C): out = wt == 0 ? NaN : sums / wt
  {
    const f = new Fn([['out', I32], ['os', I32], ['sums', I32], ['sS', I32], ['wt', I32], ['wtS', I32], ['rows', I32], ['npix', I32], ['C', I32]], null);
    f.local('o', I32); f.local('s', I32); f.local('t', I32); f.local('tend', I32); f.local('k', I32); f.local('w', T.vt);
    const zero = T.vt === F32 ? [0x43, 0, 0, 0, 0] : [0x44, 0, 0, 0, 0, 0, 0, 0, 0];
    const body = rowLoop(f, [['out', 'os'], ['sums', 'sS'], ['wt', 'wtS']], [
      ...f.get('out'), ...f.set('o'), ...f.get('sums'), ...f.set('s'), ...f.get('wt'), ...f.set('t'),
      ...f.get('wt'), ...f.get('npix'), ...i32c(E), mul32, add32, ...f.set('tend'),
      ...ifElse([...f.get('C'), ...i32c(lanes), eq32], [
        ...whileLoop([...f.get('t'), ...f.get('tend'), ltU], [
          ...f.get('t'), ...T.load, ...f.set('w'),
          ...f.get('o'),
          ...ifElseValueV([...f.get('w'), ...zero, T.eq], [...T.nan, ...T.splat], [...f.get('s'), ...vload, ...f.get('w'), ...T.splat, ...T.vdiv]),
          ...vstore,
          ...f.inc('o', i32c(16)), ...f.inc('s', i32c(16)), ...f.inc('t', i32c(E)),
        ]),
      ], whileLoop([...f.get('t'), ...f.get('tend'), ltU], [
        ...f.get('t'), ...T.load, ...f.set('w'),
        ...f.get('C'), ...f.set('k'),
        ...whileLoop([...f.get('k'), ...i32c(0), 0x4a], [
          ...f.get('o'),
          ...ifElseValue(T, [...f.get('w'), ...zero, T.eq], T.nan, [...f.get('s'), ...T.load, ...f.get('w'), T.div]),
          ...T.store,
          ...f.inc('o', i32c(E)), ...f.inc('s', i32c(E)), ...f.get('k'), ...i32c(1), sub32, ...f.set('k'),
        ]),
        ...f.inc('t', i32c(E)),
      ])),
    ]);
    fns.push({ name: 'fin', f, body });
  }

  // finstats(sums, sS, wt, wtS, rows, npix, C, out): over the finished values sums / wt (in the element
  // type, as fin) that are not NaN: out (4 f64) = [min, max, sum, count]
  {
    const f = new Fn([['sums', I32], ['sS', I32], ['wt', I32], ['wtS', I32], ['rows', I32], ['npix', I32], ['C', I32], ['out', I32]], null);
    f.local('s', I32); f.local('t', I32); f.local('tend', I32); f.local('k', I32); f.local('w', T.vt);
    f.local('v', F64); f.local('mn', F64); f.local('mx', F64); f.local('sm', F64); f.local('cnt', F64);
    const zero = T.vt === F32 ? [0x43, 0, 0, 0, 0] : [0x44, 0, 0, 0, 0, 0, 0, 0, 0];
    const f64c = (v: number): Bytes => [0x44, ...Array.from(new Uint8Array(new Float64Array([v]).buffer))];
    const promote: Bytes = T.vt === F32 ? [0xbb] : [];
    // vector accumulators: lane-wise min / max (invalid lanes replaced by +-Inf), f64 sums, lane counts
    f.local('vv', V128); f.local('vm', V128); f.local('vwv', V128); f.local('vmin', V128); f.local('vmax', V128);
    f.local('vsa', V128); f.local('vsb', V128); f.local('vcnt', V128);
    const is32 = T.vt === F32;
    // pmin / pmax (one instruction each): the lanes never hold NaN (invalid ones are +-Inf)
    const vmin = simd(is32 ? 234 : 246), vmax = simd(is32 ? 235 : 247), f64x2add = simd(240);
    const vne = simd(is32 ? 0x42 : 0x48), bitselect = simd(0x52);
    const cntSub = simd(is32 ? 177 : 209);
    const promoteLow = simd(95);
    const hiToLo = simd(0x0d, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
    /** accumulate vector vv with validity mask vm */
    const accVec: Bytes = [
      ...f.get('vmin'), ...f.get('vv'), ...f64c(Infinity), ...(is32 ? [0xb6 /* f32.demote_f64 */] : []), ...T.splat, ...f.get('vm'), ...bitselect, ...vmin, ...f.set('vmin'),
      ...f.get('vmax'), ...f.get('vv'), ...f64c(-Infinity), ...(is32 ? [0xb6] : []), ...T.splat, ...f.get('vm'), ...bitselect, ...vmax, ...f.set('vmax'),
      ...f.get('vv'), ...f.get('vm'), ...vand, ...f.set('vv'),
      ...(is32
        ? [...f.get('vsa'), ...f.get('vv'), ...promoteLow, ...f64x2add, ...f.set('vsa'),
          ...f.get('vsb'), ...f.get('vv'), ...f.get('vv'), ...hiToLo, ...promoteLow, ...f64x2add, ...f.set('vsb')]
        : [...f.get('vsa'), ...f.get('vv'), ...f64x2add, ...f.set('vsa')]),
      ...f.get('vcnt'), ...f.get('vm'), ...cntSub, ...f.set('vcnt'),
    ];
    const lanesOf = (v: string, op: number, conv: Bytes, combine: (x: Bytes) => Bytes): Bytes =>
      Array.from({ length: lanes }, (_, l) => combine([...f.get(v), ...simd(op, l), ...conv])).flat();
    const reduce: Bytes = [
      ...lanesOf('vmin', is32 ? 0x1f : 0x21, promote, (x) => ifElse([...x, ...f.get('mn'), 0x63], [...x, ...f.set('mn')])),
      ...lanesOf('vmax', is32 ? 0x1f : 0x21, promote, (x) => ifElse([...x, ...f.get('mx'), 0x64], [...x, ...f.set('mx')])),
      ...[0, 1].flatMap((l) => [...f.get('sm'), ...f.get('vsa'), ...simd(0x21, l), 0xa0, ...f.set('sm')]),
      ...(is32 ? [0, 1].flatMap((l) => [...f.get('sm'), ...f.get('vsb'), ...simd(0x21, l), 0xa0, ...f.set('sm')]) : []),
      ...lanesOf('vcnt', is32 ? 0x1b : 0x1d, is32 ? [0xb7] : [0xb9], (x) => [...f.get('cnt'), ...x, 0xa0, ...f.set('cnt')]),
    ];
    const body = [
      ...f64c(Infinity), ...f.set('mn'), ...f64c(-Infinity), ...f.set('mx'), ...f64c(0), ...f.set('sm'), ...f64c(0), ...f.set('cnt'),
      ...f64c(Infinity), ...(is32 ? [0xb6] : []), ...T.splat, ...f.set('vmin'),
      ...f64c(-Infinity), ...(is32 ? [0xb6] : []), ...T.splat, ...f.set('vmax'),
      ...vzero, ...f.set('vsa'), ...vzero, ...f.set('vsb'), ...vzero, ...f.set('vcnt'),
      ...rowLoop(f, [['sums', 'sS'], ['wt', 'wtS']], [
        ...f.get('sums'), ...f.set('s'), ...f.get('wt'), ...f.set('t'),
        ...f.get('wt'), ...f.get('npix'), ...i32c(E), mul32, add32, ...f.set('tend'),
        ...ifElse([...f.get('C'), ...i32c(lanes), eq32], [
          // one pixel per vector
          ...whileLoop([...f.get('t'), ...f.get('tend'), ltU], [
            ...f.get('t'), ...T.load, ...f.set('w'),
            ...ifElse([...f.get('w'), ...zero, T.ne], [
              ...f.get('s'), ...vload, ...f.get('w'), ...T.splat, ...T.vdiv, ...f.set('vv'),
              ...f.get('vv'), ...f.get('vv'), ...T.veq, ...f.set('vm'),
              ...accVec,
            ]),
            ...f.inc('s', i32c(16)), ...f.inc('t', i32c(E)),
          ]),
        ], ifElse([...f.get('C'), ...i32c(1), eq32], [
          // one band: `lanes` pixels per vector (weight 0 -> invalid)
          ...whileLoop([...f.get('t'), ...i32c(16), add32, ...f.get('tend'), leU], [
            ...f.get('t'), ...vload, ...f.set('vwv'),
            ...f.get('s'), ...vload, ...f.get('vwv'), ...T.vdiv, ...f.set('vv'),
            ...f.get('vv'), ...f.get('vv'), ...T.veq, ...f.get('vwv'), ...vzero, ...vne, ...vand, ...f.set('vm'),
            ...accVec,
            ...f.inc('s', i32c(16)), ...f.inc('t', i32c(16)),
          ]),
        ])),
        // generic / tail
        ...whileLoop([...f.get('t'), ...f.get('tend'), ltU], [
          ...f.get('t'), ...T.load, ...f.set('w'),
          ...ifElse([...f.get('w'), ...zero, T.ne], [
            ...f.get('C'), ...f.set('k'),
            ...whileLoop([...f.get('k'), ...i32c(0), 0x4a], [
              ...f.get('s'), ...T.load, ...f.get('w'), T.div, ...promote, ...f.set('v'),
              ...ifElse([...f.get('v'), ...f.get('v'), 0x61 /* f64.eq */], [
                ...ifElse([...f.get('v'), ...f.get('mn'), 0x63 /* f64.lt */], [...f.get('v'), ...f.set('mn')]),
                ...ifElse([...f.get('v'), ...f.get('mx'), 0x64 /* f64.gt */], [...f.get('v'), ...f.set('mx')]),
                ...f.get('sm'), ...f.get('v'), 0xa0, ...f.set('sm'),
                ...f.get('cnt'), ...f64c(1), 0xa0, ...f.set('cnt'),
              ]),
              ...f.inc('s', i32c(E)), ...f.get('k'), ...i32c(1), sub32, ...f.set('k'),
            ]),
          ], [...f.inc('s', [...f.get('C'), ...i32c(E), mul32])]),
          ...f.inc('t', i32c(E)),
        ]),
      ]),
      ...reduce,
      ...f.get('out'), ...f.get('mn'), 0x39, 3, 0,
      ...f.get('out'), ...f.get('mx'), 0x39, 3, 8,
      ...f.get('out'), ...f.get('sm'), 0x39, 3, 16,
      ...f.get('out'), ...f.get('cnt'), 0x39, 3, 24,
    ];
    fns.push({ name: 'finstats', f, body });
  }

  // quant(src, dst, n, lo, hi, f, bias, nodata, ob): dst[i] = v != v ? nodata : trunc((min(max(v, lo), hi) - lo) * f + bias),
  // in f64 as quantize.ts's JS loop does (so the results are identical), stored as ob = 1 or 2 bytes
  {
    const F64T = 0x7c;
    const f = new Fn([['src', I32], ['dst', I32], ['n', I32], ['lo', F64T], ['hi', F64T], ['f', F64T], ['bias', F64T], ['nodata', I32], ['ob', I32]], null);
    f.local('end', I32); f.local('v', F64T);
    const load = T.vt === F32 ? [...T.load, 0xbb /* f64.promote_f32 */] : T.load;
    const value = [
      ...f.get('src'), ...load, ...f.set('v'),
      ...f.get('v'), ...f.get('v'), 0x62 /* f64.ne */, 0x04, I32,
      ...f.get('nodata'),
      0x05,
      ...f.get('v'), ...f.get('lo'), 0xa5 /* f64.max */, ...f.get('hi'), 0xa4 /* f64.min */, ...f.get('lo'), 0xa1 /* sub */,
      ...f.get('f'), 0xa2 /* mul */, ...f.get('bias'), 0xa0 /* add */, 0xfc, 0x02 /* i32.trunc_sat_f64_s */,
      0x0b,
    ];
    const loop = (store: Bytes, ob: number): Bytes => whileLoop([...f.get('src'), ...f.get('end'), ltU], [
      ...f.get('dst'), ...value, ...store,
      ...f.inc('src', i32c(E)), ...f.inc('dst', i32c(ob)),
    ]);
    const body = [
      ...f.get('src'), ...f.get('n'), ...i32c(E), mul32, add32, ...f.set('end'),
      ...ifElse([...f.get('ob'), ...i32c(2), eq32], loop([0x3b, 1, 0] /* i32.store16 */, 2), loop([0x3a, 0, 0] /* i32.store8 */, 1)),
    ];
    fns.push({ name: 'quant', f, body });
  }

  // quant16v(src, dst, n, lo, hi, f, bias, nodata, signed): quant's float32 -> 16-bit case, four values
  // at a time in f64x2 arithmetic (so the same results as quant); n a multiple of 4; signed: int16 out, else uint16
  if (T.vt === F32) {
    const F64T = 0x7c;
    const f = new Fn([['src', I32], ['dst', I32], ['n', I32], ['lo', F64T], ['hi', F64T], ['f', F64T], ['bias', F64T], ['nodata', I32], ['signed', I32]], null);
    for (const v of ['LO', 'HI', 'F', 'B', 'ND', 'a', 'x', 'y']) f.local(v, V128);
    f.local('end', I32);
    const shuffle = (...lanes: number[]): Bytes => simd(0x0d, ...lanes);
    const range = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i);
    // clamp, shift, scale and round (trunc of + bias) the two f64 lanes on the stack -> i32x4 [r0, r1, 0, 0]
    const scale: Bytes = [
      // pmax / pmin: one instruction each; they differ from max / min only for NaN (masked below) and signed zeros (equal after the shift)
      ...f.get('LO'), ...simd(247) /* f64x2.pmax */, ...f.get('HI'), ...simd(246) /* f64x2.pmin */,
      ...f.get('LO'), ...simd(241) /* f64x2.sub */, ...f.get('F'), ...simd(242) /* f64x2.mul */, ...f.get('B'), ...simd(240) /* f64x2.add */,
      ...simd(252) /* i32x4.trunc_sat_f64x2_s_zero */,
    ];
    const loop = (narrow: number): Bytes => whileLoop([...f.get('src'), ...f.get('end'), ltU], [
      ...f.get('src'), ...vload, ...f.set('a'),
      ...f.get('a'), ...simd(95) /* f64x2.promote_low_f32x4 */, ...scale, ...f.set('x'),
      ...f.get('a'), ...f.get('a'), ...shuffle(...range(8, 8), ...range(8, 8)), ...simd(95), ...scale, ...f.set('y'),
      // NaN lanes -> nodata (v128.bitselect takes the first operand where the mask is set)
      ...f.get('ND'), ...f.get('x'), ...f.get('y'), ...shuffle(...range(0, 8), ...range(16, 8)),
      ...f.get('a'), ...f.get('a'), ...simd(0x42) /* f32x4.ne */, ...simd(82) /* v128.bitselect */, ...f.set('x'),
      // values and nodata fit the output type, so the saturating narrow is exact; store the low four lanes
      ...f.get('dst'), ...f.get('x'), ...f.get('x'), ...simd(narrow), ...simd(0x5b, 3, 0, 0) /* v128.store64_lane */,
      ...f.inc('src', i32c(16)), ...f.inc('dst', i32c(8)),
    ]);
    const body = [
      ...f.get('src'), ...f.get('n'), ...i32c(4), mul32, add32, ...f.set('end'),
      ...f.get('lo'), ...simd(0x14), ...f.set('LO'), ...f.get('hi'), ...simd(0x14), ...f.set('HI'),
      ...f.get('f'), ...simd(0x14), ...f.set('F'), ...f.get('bias'), ...simd(0x14), ...f.set('B'),
      ...f.get('nodata'), ...simd(0x11) /* i32x4.splat */, ...f.set('ND'),
      ...ifElse(f.get('signed'), loop(133 /* i16x8.narrow_i32x4_s */), loop(134 /* i16x8.narrow_i32x4_u */)),
    ];
    fns.push({ name: 'quant16v', f, body });
  }

  // triad(a, b, c, n, s): a[i] = b[i] + s * c[i] (STREAM's triad; n a multiple of the lanes): the
  // memory-bandwidth reference of the Stitcher's benchmarks, in the same SIMD as the kernels
  {
    const f = new Fn([['a', I32], ['b', I32], ['c', I32], ['n', I32], ['s', T.vt]], null);
    f.local('end', I32); f.local('vs', V128);
    const body = [
      ...f.get('s'), ...T.splat, ...f.set('vs'),
      ...f.get('a'), ...f.get('n'), ...i32c(E), mul32, add32, ...f.set('end'),
      ...whileLoop([...f.get('a'), ...f.get('end'), ltU], [
        ...f.get('a'), ...f.get('b'), ...vload, ...f.get('c'), ...vload, ...f.get('vs'), ...T.vmul, ...T.vadd, ...vstore,
        ...f.inc('a', i32c(16)), ...f.inc('b', i32c(16)), ...f.inc('c', i32c(16)),
      ]),
    ];
    fns.push({ name: 'triad', f, body });
  }

  const enc = fns.map(({ f, body }) => f.encode(body));
  return [0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec(enc.map((e) => e.type))),
    ...section(2, vec([[...str('e'), ...str('m'), 0x02, 0x00, ...leb(1)]])),
    ...section(3, vec(fns.map((_, i) => leb(i)))),
    ...section(7, vec(fns.map(({ name }, i) => [...str(name), 0x00, ...leb(i)]))),
    ...section(10, vec(enc.map((e) => e.code))),
  ];
}

/** if cond then a else b, leaving one value of type T. */
function ifElseValue(T: ElemType, cond: Bytes, a: Bytes, b: Bytes): Bytes {
  return [...cond, 0x04, T.vt, ...a, 0x05, ...b, 0x0b];
}
function ifElseValueV(cond: Bytes, a: Bytes, b: Bytes): Bytes {
  return [...cond, 0x04, V128, ...a, 0x05, ...b, 0x0b];
}

/** Exported kernels of one element type. */
export interface Kernels {
  acc(dst: number, ds: number, src: number, ss: number, rows: number, len: number, w: number): void;
  addc(dst: number, ds: number, rows: number, len: number, w: number): void;
  accpw(dst: number, ds: number, wt: number, wtS: number, src: number, ss: number, wp: number, ws: number, rows: number, npix: number, C: number): void;
  accomit(sums: number, sS: number, wt: number, wtS: number, src: number, ss: number, wp: number, ws: number,
    rows: number, npix: number, C: number, usewp: number, wsc: number): void;
  firstbad(src: number, ss: number, rows: number, len: number): number;
  fin(out: number, os: number, sums: number, sS: number, wt: number, wtS: number, rows: number, npix: number, C: number): void;
  finstats(sums: number, sS: number, wt: number, wtS: number, rows: number, npix: number, C: number, out: number): void;
  quant(src: number, dst: number, n: number, lo: number, hi: number, f: number, bias: number, nodata: number, ob: number): void;
  triad(a: number, b: number, c: number, n: number, s: number): void;
  /** float32 module only */
  quant16v?: (src: number, dst: number, n: number, lo: number, hi: number, f: number, bias: number, nodata: number, signed: number) => void;
}

const modules: Partial<Record<'float32' | 'float64', WasmModule | null>> = {};

/** Compiled module for `dtype`, or null when this runtime has no WebAssembly SIMD. */
export function kernelModule(dtype: 'float32' | 'float64'): WasmModule | null {
  if (!(dtype in modules)) {
    // a runtime without SIMD rejects the probe; anything else failing is a bug and throws
    const probe = [0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...section(1, vec([[0x60, 0, 1, V128]])), ...section(3, vec([[0]])),
      ...section(10, vec([[...leb(20), 0, ...simd(0x0c, ...new Array(16).fill(0)), 0x0b]]))];
    modules[dtype] = Wasm.validate(new Uint8Array(probe))
      ? new Wasm.Module(new Uint8Array(kernels(dtype === 'float64' ? T64 : T32))) : null;
  }
  return modules[dtype]!;
}

/** Instantiate the kernels of `dtype` over `memory` (null without WebAssembly SIMD). */
export function instantiateKernels(memory: WasmMemory, dtype: 'float32' | 'float64'): Kernels | null {
  const m = kernelModule(dtype);
  if (!m) return null;
  return new Wasm.Instance(m, { e: { m: memory } }).exports as unknown as Kernels;
}
