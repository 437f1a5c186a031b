/**
 * Errors of the coco layer: bad manifests, unknown ids, missing channels.
 */
import { CocoStitcherError } from '../array/errors.ts';

/** A manifest is malformed or violates kwcoco's rules (duplicate ids, dangling references). */
export class ManifestError extends CocoStitcherError {
  override name = 'ManifestError';
  constructor(message: string, readonly path?: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** An id (image, video, annotation, category) that the dataset does not hold. */
export class UnknownIdError extends CocoStitcherError {
  override name = 'UnknownIdError';
}

/** Requested channels that the image's assets do not provide, or an invalid channel code. */
export class ChannelError extends CocoStitcherError {
  override name = 'ChannelError';
}

/** Channels from several assets requested in 'asset' space (kwcoco's CoordinateCompatibilityError). */
export class CoordinateCompatibilityError extends CocoStitcherError {
  override name = 'CoordinateCompatibilityError';
}
