/**
 * The package root: the public API of design.md, one named export per name.
 * Layers below stay importable by path for code that needs more.
 */
export { Raster, type Shape3 } from './array/raster.ts';
export { type Dtype, DTYPES } from './array/dtypes.ts';
export { CocoStitcherError, ShapeError, DtypeError, ValueError, MemoryBudgetError } from './array/errors.ts';
export { setMemoryBudget, memoryBudgetBytes } from './array/memory-budget.ts';
export { slice, fixSlice, type Slice, type SpaceSlice } from './array/slices.ts';
export { SlidingWindow, type SlidingWindowOptions } from './array/sliding-window.ts';
export { Affine, type TransformSpec } from './array/affine.ts';
export { warpAffine, type WarpAffineOptions, type Interpolation } from './array/resample/warp-affine.ts';

export { writeCog, type WriteCogOptions, type BlockSource } from './io/cog/write-cog.ts';
export { readRaster, openRaster, type ReadRasterResult, type RasterFile } from './io/read-raster.ts';
export { setTileCacheBytes } from './io/tiff-read/tile-cache.ts';
export { readPng, writePng } from './io/png.ts';
export { IoError, FormatError, UnsupportedError, WriterOptionError } from './io/errors.ts';

export { CocoDataset } from './coco/dataset.ts';
export { CocoImage } from './coco/coco-image.ts';
export { FusedChannelSpec, ChannelSpec } from './coco/channel-spec.ts';
export { validateManifest } from './coco/schema.ts';
export { ManifestError, UnknownIdError, ChannelError, CoordinateCompatibilityError } from './coco/errors.ts';

export { Stitcher, type StitcherOptions } from './stitch/stitcher.ts';
export { quantizeImage, quantizeBlock, dequantize, type Quantization } from './stitch/quantize.ts';
export { upweightCenterMask } from './stitch/weights.ts';
export { maskToMultiPolygon, scoredPolygons, warpMultiPolygon, type MultiPolygon } from './stitch/polygons.ts';
export { CocoStitchingManager, type CocoStitchingManagerOptions, type AccumulateOptions } from './stitch/manager.ts';
export { WriterQueue } from './stitch/writer-queue.ts';
export { demoCocoStitchingManager } from './stitch/demo-manager.ts';
export { StitchError, StitchStateError } from './stitch/errors.ts';

export { predictDistributed, startWorker } from './distributed/index.ts';
