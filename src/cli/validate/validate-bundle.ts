/**
 * Checks a kwcoco bundle the way predict will read it, with the same code:
 * the manifest is loaded by CocoDataset.load (zip members inflated with a
 * cap and their CRC checked, nesting limited), checked against kwcoco's
 * schema and for impossible declared sizes and warps (declared-sizes.ts,
 * which load applies too: here every problem is listed, not just the first);
 * then every asset is opened by the reader imdelay uses and, unless `quick`,
 * every block of every level is decoded (RasterFile.verify), so truncated
 * files, garbage tiles, offsets past the end, unsupported codecs and blocks
 * over the memory budget are found before predict meets them. The asset's
 * record is compared with its file (size, bands, channels, quantization)
 * and TIFFs with the COG layout.
 */
import { access } from 'node:fs/promises';
import { CocoDataset, type CocoAssetDict } from '../../coco/dataset.ts';
import { FusedChannelSpec } from '../../coco/channel-spec.ts';
import { declaredSizeProblems } from '../../coco/declared-sizes.ts';
import { checkQuantization as checkQuantizationRecord, gdalScaleOffset, type Quantization } from '../../coco/quantization.ts';
import { validateManifest } from '../../coco/schema.ts';
import { openRaster, type RasterFile } from '../../io/read-raster.ts';
import { isRemotePath } from '../../io/remote-path.ts';
import { readTiffLayout, checkCogLayout } from '../../io/tiff-layout.ts';
import { DTYPES } from '../../array/dtypes.ts';

export interface Problem {
  /** what the problem is about: the manifest, or "image <id> asset <file>" */
  where: string;
  message: string;
}

/** Options of `validateBundle`. */
export interface ValidateOptions {
  /** check headers only (block offsets and counts, codecs), decode no block */
  quick?: boolean;
}

/** Everything wrong with the bundle at `path` (an empty list when it is fine). */
export async function validateBundle(path: string, options: ValidateOptions = {}): Promise<Problem[]> {
  const problems: Problem[] = [];
  let dset: CocoDataset;
  try {
    dset = await CocoDataset.load(path, { checkSizes: false });
  } catch (err) {
    return [{ where: path, message: (err as Error).message }];
  }
  const schema = validateManifest(dset.dataset);
  for (const e of schema.errors) problems.push({ where: `${path} (schema)`, message: e });
  problems.push(...declaredSizeProblems(dset));

  for (const gid of dset.imageIds()) {
    const image = dset.cocoImage(gid);
    const assets = image.assets;
    if (assets.length && (image.img.width === undefined || image.img.width === null || image.img.height === undefined || image.img.height === null)) {
      problems.push({ where: `image ${gid}`, message: 'has no width / height; reading it in image or video space needs them' });
    }
    for (const asset of assets) {
      const where = `image ${gid} asset ${typeof asset.file_name === 'string' ? asset.file_name : '<no file_name>'}`;
      for (const message of await checkAsset(image.resolvePath.bind(image), asset, where, options)) problems.push({ where, message });
    }
  }
  return problems;
}

/** `what: message`, naming `file` unless the message already starts with it. */
function said(what: string, file: string, err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  return message.startsWith(file) ? `${what}: ${message}` : `${what} ${file}: ${message}`;
}

async function checkAsset(resolvePath: (f: string) => string, asset: CocoAssetDict, where: string, options: ValidateOptions): Promise<string[]> {
  if (typeof asset.file_name !== 'string' || asset.file_name === '') return [`asset file_name is ${JSON.stringify(asset.file_name)}; expected a non-empty string`];
  const file = resolvePath(asset.file_name);
  try {
    if (!isRemotePath(file)) await access(file); // a URL is checked by opening it below
  } catch {
    return [`file ${file} does not exist`];
  }
  const problems: string[] = [];
  let raster: RasterFile;
  try {
    raster = await openRaster(file);
  } catch (err) {
    return [said('cannot read', file, err)];
  }
  try {
    await raster.verify({ headersOnly: options.quick === true });
  } catch (err) {
    problems.push(said('cannot decode', file, err));
  } finally {
    await raster.close();
  }
  const info = { width: raster.width, height: raster.height, bands: raster.bands, dtype: raster.dtype };
  // non-numbers are reported by the declared-size checks
  if (typeof asset.width === 'number' && asset.width !== info.width) problems.push(`manifest width ${asset.width} but the file is ${info.width} wide`);
  if (typeof asset.height === 'number' && asset.height !== info.height) problems.push(`manifest height ${asset.height} but the file is ${info.height} high`);
  if (asset.num_bands !== undefined && asset.num_bands !== info.bands) problems.push(`manifest num_bands ${JSON.stringify(asset.num_bands)} but the file has ${info.bands} band(s)`);
  if (typeof asset.channels === 'string' && asset.channels !== '') {
    try {
      const n = FusedChannelSpec.coerce(asset.channels).numel();
      if (n !== info.bands) problems.push(`channels ${asset.channels} name ${n} band(s) but the file has ${info.bands}`);
    } catch (err) {
      problems.push(`channels ${JSON.stringify(asset.channels)} is not a valid channel code: ${(err as Error).message}`);
    }
  }
  if (raster.format === 'tiff') {
    try {
      for (const p of checkCogLayout(await readTiffLayout(file))) problems.push(`not a valid COG: ${p}`);
    } catch (err) {
      problems.push(`cannot inspect TIFF structure: ${(err as Error).message}`);
    }
  }
  if (asset.quantization !== undefined && asset.quantization !== null) {
    try {
      // what imdelay checks before it dequantizes
      const q = checkQuantizationRecord(asset.quantization, where);
      problems.push(...checkQuantization(asset.quantization as unknown as Record<string, unknown>, info.dtype));
      problems.push(...checkBandScales(raster.bandScales, q));
    } catch (err) {
      problems.push((err as Error).message.replace(`${where}: `, ''));
    }
  }
  return problems;
}

/**
 * A file's GDAL scale / offset must say what its quantization says, or GDAL-based
 * tools (which apply them) and kwcoco (which dequantizes from the manifest) read
 * different values. A file without them (the original's files) is fine.
 */
export function checkBandScales(bandScales: readonly { scale: number; offset: number }[] | null, q: Quantization): string[] {
  if (!bandScales) return [];
  const want = gdalScaleOffset(q);
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b), Math.abs(want.scale) * Math.abs(q.quant_max));
  const bad = bandScales.flatMap((b, i) => (close(b.scale, want.scale) && close(b.offset, want.offset) ? [] : [i]));
  if (bad.length === 0) return [];
  const b = bandScales[bad[0]!]!;
  return [`GDAL scale ${b.scale} / offset ${b.offset} of band(s) ${bad.join(', ')} disagree with the quantization (scale ${want.scale}, offset ${want.offset}): `
    + 'GDAL-based tools would read other values than kwcoco'];
}

/** Problems with a kwcoco quantization dict for data stored as `dtype`. */
export function checkQuantization(q: Record<string, unknown>, dtype: keyof typeof DTYPES): string[] {
  const keys = ['orig_min', 'orig_max', 'quant_min', 'quant_max', 'nodata'];
  const bad = keys.filter((k) => k !== 'nodata' && typeof q[k] !== 'number');
  if (bad.length) return [`quantization lacks numeric ${bad.join(', ')}: ${JSON.stringify(q)}`];
  const problems: string[] = [];
  const { orig_min, orig_max, quant_min, quant_max, nodata } = q as Record<string, number>;
  if (!(orig_min <= orig_max)) problems.push(`quantization orig_min ${orig_min} > orig_max ${orig_max}`);
  if (!(quant_min < quant_max)) problems.push(`quantization quant_min ${quant_min} >= quant_max ${quant_max}`);
  const info = DTYPES[dtype];
  if (info.isFloat) problems.push(`quantization given for a ${dtype} file (quantized data must be integer)`);
  else if (quant_min < info.min || quant_max > info.max) problems.push(`quantization range ${quant_min}..${quant_max} does not fit ${dtype}`);
  if (nodata !== undefined && nodata !== null && nodata >= quant_min && nodata <= quant_max) {
    problems.push(`quantization nodata ${nodata} lies inside the valid range ${quant_min}..${quant_max}`);
  }
  return problems;
}
