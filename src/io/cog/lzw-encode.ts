/**
 * TIFF LZW compression (TIFF 6.0 section 13), as libtiff writes it: codes
 * of 9 to 12 bits packed MSB first, Clear = 256 first, the code width grown
 * one code early (when the next free code passes 2^n - 1), a Clear emitted
 * when the table reaches 4094 entries, EndOfInformation = 257 last.
 * The string table is an open-addressing hash of (prefix code, byte) pairs.
 */

const CLEAR = 256;
const EOI = 257;
const FIRST_FREE = 258;
const BITS_MIN = 9;
const BITS_MAX = 12;
const CODE_MAX = (1 << BITS_MAX) - 1; // 4095
const HASH_BITS = 14;
const HASH_SIZE = 1 << HASH_BITS;
const HASH_MASK = HASH_SIZE - 1;

// the string table, reused by every call (calls are synchronous, so never shared); an
// entry holds (prefix code << 8 | byte) | generation << 20, and entries of an older
// generation count as empty, so a Clear starts a new generation instead of wiping it
const hashKey = new Int32Array(HASH_SIZE);
let generation = 0;
const hashCode = new Uint16Array(HASH_SIZE);

const GEN_SHIFT = 20;
const GEN_MASK = ~((1 << GEN_SHIFT) - 1);
/** A new generation tag (1..2047, shifted), wiping the table only when they run out. */
function nextGeneration(): number {
  if (++generation === 2048) { hashKey.fill(0); generation = 1; }
  return generation << GEN_SHIFT;
}

/**
 * The most bytes an LZW stream of `n` input bytes takes: 12 bits per byte at
 * most, a Clear every 3836 codes, the first Clear, EndOfInformation and a
 * last partial byte.
 */
export function lzwBound(n: number): number {
  return Math.ceil(n * 1.5) + 2 * Math.ceil(n / 3836) + 8;
}

/**
 * Compresses `input` into one TIFF LZW stream: a view on `into` when it has
 * room for the worst case (lzwBound), else on a new buffer.
 */
export function lzwEncode(input: Uint8Array, into?: Uint8Array): Uint8Array {
  const n = input.length;
  const need = lzwBound(n);
  const out = into && into.length >= need ? into : new Uint8Array(need);
  let gen = nextGeneration();
  let outPos = 0;
  let bits = 0; // pending bits, right-aligned; fewer than 8 between codes
  let nBits = 0;
  let width = BITS_MIN;
  let maxcode = (1 << BITS_MIN) - 1;
  let freeEnt = FIRST_FREE;
  // Codes are written inline (no helper closure: the loop state stays in registers).
  bits = CLEAR; nBits = width;
  while (nBits >= 8) { nBits -= 8; out[outPos++] = bits >>> nBits; }
  bits &= (1 << nBits) - 1;
  if (n > 0) {
    let ent = input[0];
    for (let i = 1; i <= n; i++) {
      let code: number;
      if (i < n) {
        const c = input[i];
        const key = (ent << 8) | c;
        const tagged = key | gen;
        let h = Math.imul(key, 0x9e3779b1) >>> (32 - HASH_BITS);
        let k = hashKey[h];
        while (k !== tagged && (k & GEN_MASK) === gen) { h = (h + 1) & HASH_MASK; k = hashKey[h]; }
        if (k === tagged) { ent = hashCode[h]; continue; }
        hashKey[h] = tagged;
        hashCode[h] = freeEnt;
        code = ent;
        ent = c;
      } else {
        code = ent; // the last string: its code, and a table slot counted as libtiff does
      }
      bits = (bits << width) | code; nBits += width;
      while (nBits >= 8) { nBits -= 8; out[outPos++] = bits >>> nBits; }
      bits &= (1 << nBits) - 1;
      freeEnt++;
      if (freeEnt === CODE_MAX - 1) {
        bits = (bits << width) | CLEAR; nBits += width;
        while (nBits >= 8) { nBits -= 8; out[outPos++] = bits >>> nBits; }
        bits &= (1 << nBits) - 1;
        gen = nextGeneration();
        freeEnt = FIRST_FREE;
        width = BITS_MIN;
        maxcode = (1 << BITS_MIN) - 1;
      } else if (freeEnt > maxcode) {
        width++;
        maxcode = (1 << width) - 1;
      }
    }
  }
  bits = (bits << width) | EOI; nBits += width;
  while (nBits >= 8) { nBits -= 8; out[outPos++] = bits >>> nBits; }
  if (nBits > 0) out[outPos++] = bits << (8 - nBits);
  return out.subarray(0, outPos);
}
