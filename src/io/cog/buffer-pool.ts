/**
 * Reusable byte buffers of one size. The writer cuts and compresses every
 * tile into a fresh buffer otherwise; V8 frees those only at its next GC,
 * which it starts late for memory outside its heap, so tens of MB of dead
 * tiles used to sit in RSS while a COG was streamed.
 */
export class BufferPool {
  readonly #free: ArrayBuffer[] = [];
  readonly #issued = new WeakSet<ArrayBuffer>();

  /** `size`: bytes of every buffer; `keep`: how many free buffers are kept at most. */
  constructor(readonly size: number, readonly keep = 1024) {}

  /** A buffer of `size` bytes with unspecified contents. */
  acquire(): Uint8Array {
    const buf = this.#free.pop() ?? new ArrayBuffer(this.size);
    this.#issued.add(buf);
    return new Uint8Array(buf);
  }

  /** Returns the buffer under `view` (from acquire(); anything else is ignored), which must no longer be in use. */
  release(view: Uint8Array): void {
    const buf = view.buffer as ArrayBuffer;
    if (!this.#issued.delete(buf)) return;
    if (this.#free.length < this.keep) this.#free.push(buf);
  }
}
