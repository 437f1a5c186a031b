/**
 * Errors of the stitch layer.
 */
import { CocoStitcherError } from '../array/errors.ts';

/** Data given to a stitcher or manager does not fit (shape, band count, dtype, NaN/Inf policy). */
export class StitchError extends CocoStitcherError {
  override name = 'StitchError';
}

/** A manager operation on an image in the wrong state (finalized twice, no data). */
export class StitchStateError extends CocoStitcherError {
  override name = 'StitchStateError';
}
