/**
 * Errors of the array layer. Each names the offending value and what was
 * expected, and keeps the original error as `cause` when there is one.
 */

/** Base class of every error this package throws on purpose. */
export class CocoStitcherError extends Error {
  override name = 'CocoStitcherError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A shape, length or dimension does not agree with what it must match. */
export class ShapeError extends CocoStitcherError {
  override name = 'ShapeError';
  constructor(message: string, readonly shape?: readonly number[], options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A dtype name is unknown or not allowed where it was given. */
export class DtypeError extends CocoStitcherError {
  override name = 'DtypeError';
}

/** An argument has a value outside what the function accepts. */
export class ValueError extends CocoStitcherError {
  override name = 'ValueError';
}

/** An input asks for more memory than the memory budget allows (see memory-budget.ts). */
export class MemoryBudgetError extends CocoStitcherError {
  override name = 'MemoryBudgetError';
  constructor(message: string, readonly bytes: number, readonly budget: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * An invariant of this package's own code failed: a bug, not bad input.
 * Deliberately not a CocoStitcherError, so callers (and the CLI's exit code)
 * tell it apart from errors about what they passed in.
 */
export class InternalError extends Error {
  override name = 'InternalError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
