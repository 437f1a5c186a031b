/**
 * TIFF / GeoTIFF / GDAL constants, in one place for the reader (tiff-read/,
 * tiff-layout.ts) and the writer (cog/): neither uses a bare tag number.
 * Sources: TIFF 6.0 (Adobe, 1992), Adobe TIFF Technote 3 (floating-point
 * predictor), OGC GeoTIFF 1.1 (19-008r4), and GDAL's private tags
 * (gdal.org/drivers/raster/gtiff.html).
 */

/** TIFF field types (TIFF 6.0 section 2; LONG8 from BigTIFF). */
export const enum FieldType {
  /** 8-bit unsigned */
  BYTE = 1,
  /** NUL-terminated 7-bit text */
  ASCII = 2,
  /** 16-bit unsigned */
  SHORT = 3,
  /** 32-bit unsigned */
  LONG = 4,
  /** 64-bit IEEE float */
  DOUBLE = 12,
  /** 64-bit unsigned (BigTIFF only) */
  LONG8 = 16,
}

/** Size in bytes of one value of each field type. */
export const FIELD_TYPE_BYTES: Readonly<Record<FieldType, number>> = {
  [FieldType.BYTE]: 1, [FieldType.ASCII]: 1, [FieldType.SHORT]: 2, [FieldType.LONG]: 4, [FieldType.DOUBLE]: 8, [FieldType.LONG8]: 8,
};

/**
 * The TIFF tags the writer emits and the reader reads. A plain enum (not
 * `const`): `Tag[n]` names a tag in messages.
 */
export enum Tag {
  /** 0 = full resolution, 1 = reduced-resolution (overview) image */
  NewSubfileType = 254,
  ImageWidth = 256,
  ImageLength = 257,
  /** bits of each sample, one value per band */
  BitsPerSample = 258,
  /** see {@link Compression} */
  Compression = 259,
  /** see {@link Photometric} */
  PhotometricInterpretation = 262,
  /** byte offset of each strip (untiled images) */
  StripOffsets = 273,
  SamplesPerPixel = 277,
  RowsPerStrip = 278,
  /** compressed size of each strip */
  StripByteCounts = 279,
  /** 1 = pixel interleaved (chunky) */
  PlanarConfiguration = 284,
  /** see {@link Predictor} */
  Predictor = 317,
  TileWidth = 322,
  TileLength = 323,
  /** byte offset of each tile, row-major; 0 = sparse tile */
  TileOffsets = 324,
  /** compressed size of each tile; 0 = sparse tile */
  TileByteCounts = 325,
  /** meaning of the samples past the first; 0 = unspecified */
  ExtraSamples = 338,
  /** see {@link SampleFormat}, one value per band */
  SampleFormat = 339,
  /** JPEG quantization / Huffman tables shared by the tiles */
  JPEGTables = 347,
  /** GeoTIFF: (scaleX, scaleY, scaleZ) */
  ModelPixelScale = 33550,
  /** GeoTIFF: (i, j, k, x, y, z) tie point */
  ModelTiepoint = 33922,
  /** GeoTIFF: 4x4 row-major raster -> model matrix */
  ModelTransformation = 34264,
  /** GeoTIFF: the GeoKey directory (SHORTs) */
  GeoKeyDirectory = 34735,
  /** GDAL: XML metadata `<GDALMetadata><Item name=..>` */
  GdalMetadata = 42112,
  /** GDAL: the nodata value as ASCII text */
  GdalNodata = 42113,
  /** LERC: version and compression parameters */
  LercParameters = 50674,
}

/** NewSubfileType bits. */
export const enum SubfileType {
  ReducedResolution = 1,
  Page = 2,
  Mask = 4,
}

/** Compression tag values: the codes the reader knows by name (for messages) and the writer writes. */
export const enum Compression {
  None = 1, LZW = 5, OldJPEG = 6, JPEG = 7, Deflate = 8, PackBits = 32773, AdobeDeflate = 32946,
  LERC = 34887, ZSTD = 50000, WebP = 50001,
}

/** Predictor tag values. */
export const enum Predictor {
  None = 1,
  /** horizontal differencing of samples (TIFF 6.0 section 14) */
  Horizontal = 2,
  /** byte-plane differencing of floats (Adobe TIFF Technote 3) */
  FloatingPoint = 3,
}

/** SampleFormat tag values. */
export const enum SampleFormat {
  Uint = 1,
  Int = 2,
  IEEEFP = 3,
}

/** PhotometricInterpretation tag values. */
export const enum Photometric {
  MinIsBlack = 1,
  /** JPEG tiles stored as YCbCr */
  YCbCr = 6,
}

/** GeoKey ids (OGC GeoTIFF 1.1 section 7). */
export const enum GeoKey {
  GTModelType = 1024,
  GTRasterType = 1025,
  GeographicType = 2048,
  ProjectedCSType = 3072,
}

/** GeoKey values (OGC GeoTIFF 1.1 section 7). */
export const enum GeoKeyValue {
  /** GTModelTypeGeoKey: projected CRS */
  ModelProjected = 1,
  /** GTModelTypeGeoKey: geographic 2D CRS */
  ModelGeographic = 2,
  /** GTRasterTypeGeoKey: a pixel is an area (corner convention) */
  RasterPixelIsArea = 1,
  /** GTRasterTypeGeoKey: a pixel is a point (centre convention) */
  RasterPixelIsPoint = 2,
  /** "user-defined" value of a code key */
  UserDefined = 32767,
}
