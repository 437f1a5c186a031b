/**
 * The package root: the public API of design.md, one named export per name,
 * and every type its signatures use. package.json exports only this entry
 * point: modules under it are not importable from outside the package.
 */
export { Raster, type Shape3 } from './array/raster.ts';
export { type Dtype, type DtypeInfo, type TypedArray, DTYPES } from './array/dtypes.ts';
export { CocoStitcherError, ShapeError, DtypeError, ValueError, MemoryBudgetError, InternalError } from './array/errors.ts';
export { setMemoryBudget, memoryBudgetBytes } from './array/memory-budget.ts';
export { slice, fixSlice, type Slice, type SpaceSlice } from './array/slices.ts';
export { SlidingWindow, type SlidingWindowOptions } from './array/sliding-window.ts';
export {
  Affine, type TransformSpec, type AffineParams, type AffineDecomposition, type ConciseAffine, type Pair,
} from './array/affine.ts';
export { warpAffine, type WarpAffineOptions, type Interpolation } from './array/resample/warp-affine.ts';
export type { DestWindow } from './array/resample/geometry.ts';

export { writeCog } from './io/cog/write-cog.ts';
export type { WriteCogOptions, BlockSource } from './io/cog/options.ts';
export type { CompressName, DeflateEngine } from './io/cog/compress.ts';
export type { BandScaleOffset } from './io/cog/gdal-metadata-write.ts';
export type { OverviewResample } from './io/cog/overviews.ts';
export { readRaster, openRaster, type ReadRasterResult } from './io/read-raster.ts';
export type { RasterFile, RasterReadOptions } from './io/raster-file.ts';
export type { OpenTiffOptions } from './io/tiff-read/tiff-raster.ts';
export { setTileCacheBytes } from './io/tiff-read/tile-cache.ts';
export { setHttpOptions, httpOptions, type HttpOptions } from './io/http-request.ts';
export { RemoteFileChangedError } from './io/tiff-read/http-source.ts';
export { readPng, writePng } from './io/png.ts';
export { IoError, FormatError, UnsupportedError, WriterOptionError } from './io/errors.ts';

export {
  CocoDataset, type CocoManifest, type CocoImageDict, type CocoAssetDict, type CocoVideoDict, type CocoAnnotationDict,
  type CocoCategoryDict, type CocoIndex, type JsonFields, type LoadOptions, type FromJSONOptions,
} from './coco/dataset.ts';
export type { FromImageFilesOptions } from './coco/from-image-files.ts';
export { CocoImage } from './coco/coco-image.ts';
export type { DelayedImage, ImdelayOptions, ImdelaySpace } from './coco/delayed/imdelay.ts';
export type { VidshapesMsiOptions } from './coco/demo/vidshapes-msi.ts';
export { FusedChannelSpec, ChannelSpec, type ChannelCode } from './coco/channel-spec.ts';
export type { Quantization } from './coco/quantization.ts';
export { validateManifest, type ManifestValidation } from './coco/schema.ts';
export { ManifestError, UnknownIdError, ChannelError, CoordinateCompatibilityError } from './coco/errors.ts';

export {
  Stitcher, type StitcherOptions, type AddOptions, type AddResult, type FinishedBlock,
} from './stitch/stitcher.ts';
export { quantizeImage, quantizeBlock, dequantize, type QuantizeOptions, type QuantizeDtype } from './stitch/quantize.ts';
export { upweightCenterMask } from './stitch/weights.ts';
export {
  maskToMultiPolygon, scoredPolygons, warpMultiPolygon, type MultiPolygon, type Position, type MaskLike, type PolygonOptions,
  type ScoredPolygon,
} from './stitch/polygons.ts';
export { CocoStitchingManager, type AccumulateOptions, type FinalizeInfo } from './stitch/manager.ts';
export type { CocoStitchingManagerOptions, ProbCompress } from './stitch/manager-options.ts';
export type { AssetWriters } from './stitch/finalize-image.ts';
export type { AssetRegion, RegionReport, RegionCoverage, JsonCogOptions } from './stitch/region-parts.ts';
export type { CogRegion, CogRegionGrid } from './io/cog/region-part.ts';
export type { PredictRegion } from './predict/region.ts';
export { WriterQueue, type WriterQueueOptions, type QueuedJob } from './stitch/writer-queue.ts';
export { demoCocoStitchingManager, type DemoStitchingOptions } from './stitch/demo-manager.ts';
export { StitchError, StitchStateError } from './stitch/errors.ts';

export {
  predictDistributed, startWorker, type PredictDistributedOptions, type DistributedSummary, type FailedShard,
  type StartWorkerOptions, type WorkerHandle, type RedisConnection, type RedisConnectionOptions,
} from './distributed/index.ts';
