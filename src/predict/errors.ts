/**
 * Errors of the predict pipeline. Bad options are the array layer's
 * ValueError (and MemoryBudgetError for sizes over the budget); these are the
 * ones only a run has.
 */
import { CocoStitcherError } from '../array/errors.ts';
import type { PredictSummary } from './options.ts';

/** A model that cannot be loaded, fails on an input, or returns something predict cannot use. */
export class ModelError extends CocoStitcherError {
  override name = 'ModelError';
}

/**
 * A run that failed after some images were finished: those images are
 * registered in the manifest written at `summary.dst` (unless
 * `writeManifest: false`), the rest are not. `cause` is the failure.
 */
export class PartialResultError extends CocoStitcherError {
  override name = 'PartialResultError';
  constructor(message: string, readonly summary: PredictSummary, options: { cause: unknown }) {
    super(message, options);
  }
}

/** A run called off while it waited for its turn at the model (its host stops taking work): nothing was written. */
export class RunCancelledError extends CocoStitcherError {
  override name = 'RunCancelledError';
}
