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
 * record is compared with its file by imdelay's own check
 * (coco/asset-file-check.ts), and TIFFs with the COG layout, whose faults are
 * notes: predict reads any TIFF.
 */
import { access } from 'node:fs/promises';
import { CocoDataset, type CocoAssetDict } from '../../coco/dataset.ts';
import { assetFileProblems } from '../../coco/asset-file-check.ts';
import { declaredSizeProblems } from '../../coco/declared-sizes.ts';
import { validateManifest } from '../../coco/schema.ts';
import { openRaster, type RasterFile } from '../../io/read-raster.ts';
import { isRemotePath } from '../../io/remote-path.ts';
import { readTiffLayout, checkCogLayout } from '../../io/tiff-layout.ts';

export interface Problem {
  /** what the problem is about: the manifest, or "image <id> asset <file>" */
  where: string;
  message: string;
  /**
   * true for what predict reads anyway and so is no problem (a TIFF that is not
   * a COG: read, just with more requests); the command prints it apart and it
   * does not fail the bundle
   */
  note?: boolean;
}

/** Options of `validateBundle`. */
export interface ValidateOptions {
  /** check headers only (block offsets and counts, codecs), decode no block */
  quick?: boolean;
}

/** Everything wrong with the bundle at `path`, and notes (`note: true`) that are not (no problem without a note: it is fine). */
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
      for (const p of await checkAsset(image.resolvePath.bind(image), asset, where, options)) {
        problems.push(typeof p === 'string' ? { where, message: p } : { where, ...p });
      }
    }
  }
  return problems;
}

/** `what: message`, naming `file` unless the message already starts with it. */
function said(what: string, file: string, err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  return message.startsWith(file) ? `${what}: ${message}` : `${what} ${file}: ${message}`;
}

async function checkAsset(resolvePath: (f: string) => string, asset: CocoAssetDict, where: string, options: ValidateOptions): Promise<(string | { message: string; note: true })[]> {
  if (typeof asset.file_name !== 'string' || asset.file_name === '') return [`asset file_name is ${JSON.stringify(asset.file_name)}; expected a non-empty string`];
  const file = resolvePath(asset.file_name);
  try {
    if (!isRemotePath(file)) await access(file); // a URL is checked by opening it below
  } catch {
    return [`file ${file} does not exist`];
  }
  const problems: (string | { message: string; note: true })[] = [];
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
  // the record against the file: imdelay's own check (asset-file-check.ts), so predict refuses what is reported here
  for (const p of assetFileProblems(asset, raster)) problems.push(`file ${p}`);
  if (raster.format === 'tiff') {
    try {
      // predict reads any tiled or striped TIFF: the COG layout only makes reads cheaper
      for (const p of checkCogLayout(await readTiffLayout(file))) problems.push({ message: `not a COG (predict reads it, with more requests): ${p}`, note: true });
    } catch (err) {
      problems.push(`cannot inspect TIFF structure: ${(err as Error).message}`);
    }
  }
  return problems;
}

/** Problems with a kwcoco quantization dict for data stored as `dtype` (shared with imdelay). */
export { quantizationProblems as checkQuantization } from '../../coco/asset-file-check.ts';
