/**
 * A minimal protocol-buffers encoder: just what building an ONNX model needs
 * (varints, length-delimited fields, fixed32 floats). Messages are built
 * inside-out: encode children first, embed their bytes as fields.
 */

/** Wire types of the protobuf encoding. */
const enum Wire { Varint = 0, Fixed64 = 1, Bytes = 2, Fixed32 = 5 }

/** Accumulates the bytes of one protobuf message. */
export class ProtoWriter {
  #chunks: Uint8Array[] = [];
  #length = 0;

  #push(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#length += bytes.length;
  }

  #varint(value: number | bigint): void {
    // int64 fields encode negatives as 10-byte two's complement
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      out.push(byte);
    } while (v !== 0n);
    this.#push(Uint8Array.from(out));
  }

  #tag(field: number, wire: Wire): void {
    this.#varint((field << 3) | wire);
  }

  /** An int32/int64/enum/bool field. */
  int(field: number, value: number | bigint): this {
    this.#tag(field, Wire.Varint);
    this.#varint(value);
    return this;
  }

  /** A float (fixed32) field. */
  float(field: number, value: number): this {
    this.#tag(field, Wire.Fixed32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.#push(b);
    return this;
  }

  /** A bytes / embedded message field. */
  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, Wire.Bytes);
    this.#varint(value.length);
    this.#push(value);
    return this;
  }

  /** A string field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** An embedded message field. */
  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  /** A packed repeated int64 field. */
  packedInts(field: number, values: readonly number[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.#varint(v);
    return this.bytes(field, inner.finish());
  }

  /** The encoded message. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let off = 0;
    for (const c of this.#chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}
