/**
 * When is an image done being stitched?
 *
 * The original's heuristic (sequential iteration): in video space, when a window
 * of a new video arrives, every managed image of the previous video is ready; in
 * image space, when a window of a new image arrives, the previous image is ready.
 * `isReady: true` forces that step, `false` skips it.
 *
 * Beyond it, `expect(gid, n)`: once n windows of that image have been counted it
 * is ready, whatever the iteration order (the original's open TODO about
 * non-contiguous iteration). An image with an expectation is made ready by its
 * count only, never by the heuristic.
 */
import { StitchError } from './errors.ts';

/** Tracks window counts and the set of images ready to finalize. */
export class Readiness {
  readonly space: 'video' | 'image';
  #vidToGids: (vidid: number) => readonly number[];
  #lastVidid: number | null = null;
  #lastGid: number | null = null;
  #hasLast = false;
  #ready = new Set<number>();
  #counts = new Map<number, number>();
  #expected = new Map<number, number>();

  /** `vidToGids` lists the images of a video (the dataset index). */
  constructor(space: 'video' | 'image', vidToGids: (vidid: number) => readonly number[]) {
    this.space = space;
    this.#vidToGids = vidToGids;
  }

  /** Windows counted for `gid` so far. */
  count(gid: number): number { return this.#counts.get(gid) ?? 0; }

  /** The expected window count of `gid`, or undefined. */
  expected(gid: number): number | undefined { return this.#expected.get(gid); }

  /** Declare that `gid` will receive `n` windows; it is ready once they have all arrived. */
  expect(gid: number, n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new StitchError(`expectWindows(${gid}, ${JSON.stringify(n)}): the window count must be an integer >= 0`);
    this.#expected.set(gid, n);
    this.#checkCount(gid);
  }

  /**
   * Record one window of `gid` (of video `vidid`, null when the image has none).
   * `managed` are the images currently being stitched (the heuristic only marks those).
   */
  note(gid: number, vidid: number | null, isReady: 'auto' | boolean, managed: ReadonlySet<number>): void {
    this.#counts.set(gid, this.count(gid) + 1);
    let ready: boolean;
    if (this.space === 'video') {
      ready = isReady === 'auto' ? this.#hasLast && vidid !== this.#lastVidid : isReady;
      if (ready && this.#hasLast) {
        const prev = this.#lastVidid === null ? [this.#lastGid!] : this.#vidToGids(this.#lastVidid);
        for (const g of prev) if (managed.has(g)) this.#heuristic(g);
      }
    } else {
      ready = isReady === 'auto' ? this.#hasLast && gid !== this.#lastGid : isReady;
      if (ready && this.#hasLast && managed.has(this.#lastGid!)) this.#heuristic(this.#lastGid!);
    }
    this.#lastGid = gid;
    this.#lastVidid = vidid;
    this.#hasLast = true;
    this.#checkCount(gid);
  }

  #heuristic(gid: number): void {
    if (!this.#expected.has(gid)) this.#ready.add(gid);
  }

  #checkCount(gid: number): void {
    const n = this.#expected.get(gid);
    if (n !== undefined && this.count(gid) >= n && this.count(gid) > 0) this.#ready.add(gid);
  }

  /** Ready images, in the order they became ready. */
  ready(): number[] { return [...this.#ready]; }

  /** True when `gid` is in the ready set. */
  isReady(gid: number): boolean { return this.#ready.has(gid); }

  /** Forget `gid` (it is being finalized). */
  discard(gid: number): void {
    this.#ready.delete(gid);
    this.#expected.delete(gid);
  }
}
