/**
 * Errors of the cli layer.
 */
import { CocoStitcherError } from '../array/errors.ts';

/** A command-line argument is refused (the message names the option and its value). */
export class UsageError extends CocoStitcherError {
  override name = 'UsageError';
}
