/**
 * An asset's record against its file: the one check both imdelay (so
 * predict) and `validate` apply, so what one refuses the other reports.
 * What the record says about the pixels (size, band count, channel names,
 * quantization) must be what the file holds, or bands would be named,
 * placed or dequantized wrongly.
 */
import { DTYPES, type Dtype } from '../array/dtypes.ts';
import { FusedChannelSpec } from './channel-spec.ts';
import type { CocoAssetDict } from './dataset.ts';
import { checkQuantization as checkQuantizationRecord, gdalScaleOffset, type Quantization } from './quantization.ts';

/** What the reader learnt from the file's header. */
export interface AssetFileFacts {
  width: number;
  height: number;
  bands: number;
  dtype: Dtype;
  /** GDAL's per-band scale and offset, null when the file has none */
  bandScales: readonly { scale: number; offset: number }[] | null;
}

/**
 * Every disagreement between `asset` and its file, as phrases that follow the
 * file's name ("is 8x6 but its record says 9x6 (width x height)"); empty when
 * they agree. Record fields that are absent are not compared; a record that
 * names its bands neither by `channels` nor by `num_bands` is a problem,
 * since no channel request can reach them.
 */
export function assetFileProblems(asset: CocoAssetDict, file: AssetFileFacts): string[] {
  const problems: string[] = [];
  const { width: w, height: h } = asset;
  // sizes that are no sizes at all (NaN, strings) are the declared-size checks' to report
  const differs = (v: unknown, real: number) => typeof v === 'number' && Number.isFinite(v) && v !== real;
  if (differs(w, file.width) || differs(h, file.height)) {
    problems.push(`is ${file.width}x${file.height} but its record says ${JSON.stringify(w)}x${JSON.stringify(h)} (width x height)`);
  }
  if (asset.num_bands !== undefined && asset.num_bands !== null && asset.num_bands !== file.bands) {
    problems.push(`has ${file.bands} band(s) but its record says num_bands ${JSON.stringify(asset.num_bands)}`);
  }
  const named = typeof asset.channels === 'string' && asset.channels !== '';
  if (named) {
    try {
      const n = FusedChannelSpec.coerce(asset.channels as string).numel();
      if (n !== file.bands) problems.push(`has ${file.bands} band(s) but its channels ${asset.channels} name ${n}`);
    } catch (err) {
      problems.push(`has channels ${JSON.stringify(asset.channels)}, not a valid channel code: ${(err as Error).message}`);
    }
  } else if (asset.num_bands === undefined || asset.num_bands === null) {
    const u = FusedChannelSpec.coerce(file.bands).spec;
    problems.push(`has ${file.bands} band(s) named by neither channels nor num_bands, so no channel request can read them; `
      + `add "num_bands": ${file.bands} (its bands are then ${u}) or "channels"`);
  }
  if (asset.quantization !== undefined && asset.quantization !== null) {
    let q: Quantization | null = null;
    try {
      q = checkQuantizationRecord(asset.quantization, 'its record');
    } catch (err) {
      problems.push(`has a bad quantization: ${(err as Error).message.replace('its record: ', '')}`);
    }
    if (q) {
      problems.push(...quantizationProblems(asset.quantization as unknown as Record<string, unknown>, file.dtype).map((p) => `has a bad quantization: ${p}`));
      problems.push(...bandScaleProblems(file.bandScales, q));
    }
  }
  return problems;
}

/** Problems with a kwcoco quantization dict for data stored as `dtype`. */
export function quantizationProblems(q: Record<string, unknown>, dtype: Dtype): string[] {
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

/**
 * A file's GDAL scale / offset must say what its quantization says, or GDAL-based
 * tools (which apply them) and kwcoco (which dequantizes from the manifest) read
 * different values. A file without them (the original's files) is fine.
 */
export function bandScaleProblems(bandScales: readonly { scale: number; offset: number }[] | null, q: Quantization): string[] {
  if (!bandScales) return [];
  const want = gdalScaleOffset(q);
  const span = Math.abs(want.scale) * Math.max(Math.abs(q.quant_max), Math.abs(q.quant_min));
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b), span);
  const bad = bandScales.flatMap((b, i) => (close(b.scale, want.scale) && close(b.offset, want.offset) ? [] : [i]));
  if (bad.length === 0) return [];
  const b = bandScales[bad[0]!]!;
  return [`has GDAL scale ${b.scale} / offset ${b.offset} on band(s) ${bad.join(', ')}, which disagree with its quantization `
    + `(scale ${want.scale}, offset ${want.offset}): GDAL-based tools would read other values than kwcoco`];
}
