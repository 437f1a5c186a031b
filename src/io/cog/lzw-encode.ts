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
const HASH_BITS = 13;
const HASH_SIZE = 1 << HASH_BITS;
const HASH_MASK = HASH_SIZE - 1;

// the string table, reused by every call (calls are synchronous, so never shared)
const hashKey = new Int32Array(HASH_SIZE);
const hashCode = new Uint16Array(HASH_SIZE);

/**
 * Compresses `input` into one TIFF LZW stream: a view on `into` when the
 * stream fits there (it always does in 1.5x the input plus 16 bytes), else
 * on a new buffer.
 */
export function lzwEncode(input: Uint8Array, into?: Uint8Array): Uint8Array {
  hashKey.fill(-1);
  let out = into && into.length >= 64 ? into : new Uint8Array(Math.max(64, Math.ceil(input.length * 1.5) + 16));
  let outPos = 0;
  let bitBuf = 0; // pending bits, right-aligned
  let bitCount = 0;
  let nbits = BITS_MIN;
  let maxcode = (1 << BITS_MIN) - 1;
  let freeEnt = FIRST_FREE;

  const put = (code: number): void => {
    if (outPos + 4 > out.length) {
      const bigger = new Uint8Array(out.length * 2);
      bigger.set(out);
      out = bigger;
    }
    bitBuf = (bitBuf << nbits) | code;
    bitCount += nbits;
    while (bitCount >= 8) {
      bitCount -= 8;
      out[outPos++] = (bitBuf >>> bitCount) & 0xff;
    }
    bitBuf &= (1 << bitCount) - 1;
  };
  /** After a code was emitted (and its entry added): grow the width or clear the table. */
  const afterAdd = (): void => {
    if (freeEnt === CODE_MAX - 1) {
      put(CLEAR);
      hashKey.fill(-1);
      freeEnt = FIRST_FREE;
      nbits = BITS_MIN;
      maxcode = (1 << BITS_MIN) - 1;
    } else if (freeEnt > maxcode) {
      nbits++;
      maxcode = (1 << nbits) - 1;
    }
  };

  put(CLEAR);
  if (input.length === 0) {
    put(EOI);
  } else {
    let ent = input[0];
    for (let i = 1; i < input.length; i++) {
      const c = input[i];
      const key = (ent << 8) | c;
      let h = Math.imul(key, 0x9e3779b1) >>> (32 - HASH_BITS);
      let found = -1;
      while (hashKey[h] !== -1) {
        if (hashKey[h] === key) { found = hashCode[h]; break; }
        h = (h + 1) & HASH_MASK;
      }
      if (found >= 0) {
        ent = found;
        continue;
      }
      put(ent);
      hashKey[h] = key;
      hashCode[h] = freeEnt++;
      afterAdd();
      ent = c;
    }
    put(ent);
    freeEnt++;
    afterAdd();
    put(EOI);
  }
  if (bitCount > 0) {
    if (outPos + 1 > out.length) {
      const bigger = new Uint8Array(out.length + 8);
      bigger.set(out);
      out = bigger;
    }
    out[outPos++] = (bitBuf << (8 - bitCount)) & 0xff;
  }
  return out.subarray(0, outPos);
}
