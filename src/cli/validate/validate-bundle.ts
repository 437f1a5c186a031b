/**
 * Checks a kwcoco bundle the way a user needs it checked before trusting it:
 * the manifest against kwcoco's schema, and every asset: the file exists and
 * decodes, its size and band count agree with the manifest, TIFFs have the
 * COG layout, and quantization specs make sense.
 */
import { access } from 'node:fs/promises';
import { CocoDataset } from '../../coco/dataset.ts';
import { FusedChannelSpec } from '../../coco/channel-spec.ts';
import { validateManifest } from '../../coco/schema.ts';
import { openRaster } from '../../io/read-raster.ts';
import { isRemotePath } from '../../io/remote-path.ts';
import { readTiffLayout, checkCogLayout } from '../../io/tiff-layout.ts';
import { DTYPES } from '../../array/dtypes.ts';

export interface Problem {
  /** what the problem is about: the manifest, or "image <id> asset <file>" */
  where: string;
  message: string;
}

interface AssetRecord {
  file_name?: string;
  channels?: string;
  width?: number;
  height?: number;
  num_bands?: number;
  quantization?: Record<string, unknown>;
}

/** Everything wrong with the bundle at `path` (an empty list when it is fine). */
export async function validateBundle(path: string): Promise<Problem[]> {
  const problems: Problem[] = [];
  let dset: CocoDataset;
  try {
    dset = await CocoDataset.load(path);
  } catch (err) {
    return [{ where: path, message: (err as Error).message }];
  }
  const schema = validateManifest(dset.dataset);
  for (const e of schema.errors) problems.push({ where: `${path} (schema)`, message: e });

  for (const gid of dset.imageIds()) {
    const image = dset.cocoImage(gid);
    for (const asset of image.assets as AssetRecord[]) {
      const where = `image ${gid} asset ${asset.file_name ?? '<no file_name>'}`;
      for (const message of await checkAsset(image.resolvePath.bind(image), asset)) problems.push({ where, message });
    }
  }
  return problems;
}

async function checkAsset(resolvePath: (f: string) => string, asset: AssetRecord): Promise<string[]> {
  if (!asset.file_name) return ['asset has no file_name'];
  const file = resolvePath(asset.file_name);
  try {
    if (!isRemotePath(file)) await access(file); // a URL is checked by opening it below
  } catch {
    return [`file ${file} does not exist`];
  }
  const problems: string[] = [];
  let info;
  try {
    const raster = await openRaster(file);
    info = { width: raster.width, height: raster.height, bands: raster.bands, dtype: raster.dtype };
    await raster.close();
  } catch (err) {
    return [`cannot read ${file}: ${(err as Error).message}`];
  }
  if (asset.width !== undefined && asset.width !== info.width) problems.push(`manifest width ${asset.width} but the file is ${info.width} wide`);
  if (asset.height !== undefined && asset.height !== info.height) problems.push(`manifest height ${asset.height} but the file is ${info.height} high`);
  if (asset.num_bands !== undefined && asset.num_bands !== info.bands) problems.push(`manifest num_bands ${asset.num_bands} but the file has ${info.bands} band(s)`);
  if (asset.channels) {
    try {
      const n = FusedChannelSpec.coerce(asset.channels).numel();
      if (n !== info.bands) problems.push(`channels ${asset.channels} name ${n} band(s) but the file has ${info.bands}`);
    } catch (err) {
      problems.push(`channels ${JSON.stringify(asset.channels)} is not a valid channel code: ${(err as Error).message}`);
    }
  }
  if (/\.tiff?$/i.test(file)) {
    try {
      for (const p of checkCogLayout(await readTiffLayout(file))) problems.push(`not a valid COG: ${p}`);
    } catch (err) {
      problems.push(`cannot inspect TIFF structure: ${(err as Error).message}`);
    }
  }
  if (asset.quantization !== undefined) problems.push(...checkQuantization(asset.quantization, info.dtype));
  return problems;
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
