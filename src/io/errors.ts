/**
 * Errors of the io layer: every one names the file (and tile or offset where
 * it applies) and keeps the underlying error as `cause`.
 */
import { CocoStitcherError } from '../array/errors.ts';

/** A file could not be read or written. */
export class IoError extends CocoStitcherError {
  override name = 'IoError';
  constructor(message: string, readonly path?: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A file is not a valid TIFF / PNG, or is truncated or corrupt. */
export class FormatError extends IoError {
  override name = 'FormatError';
}

/** A valid file uses a feature this package does not support. */
export class UnsupportedError extends IoError {
  override name = 'UnsupportedError';
}

/** A writer option is invalid (unknown compression, bad block size, ...). */
export class WriterOptionError extends CocoStitcherError {
  override name = 'WriterOptionError';
}
