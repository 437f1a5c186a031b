/**
 * Phase 2 of an image stitched by regions and quantized to its own range
 * (no `expectedMinmax`): the whole image's range is the union of the
 * regions' ranges (`imageQuantization`, the coordinator's), and each region's
 * kept floats are quantized with it into the region's part
 * (`quantizeRegionPart`, a worker's), so the part holds what a single
 * process would have written for those pixels.
 */
import { openRaster } from '../io/read-raster.ts';
import { writeCogPart } from '../io/cog/region-part.ts';
import type { BlockSource } from '../io/cog/options.ts';
import type { Raster } from '../array/raster.ts';
import { slice } from '../array/slices.ts';
import type { Quantization } from '../coco/quantization.ts';
import { StitchError } from './errors.ts';
import { quantizationOf, withQuantization } from './finalize-image.ts';
import { quantizeBlock } from './quantize.ts';
import { cogOptionsFromJson, cogOptionsToJson, type RegionReport } from './region-parts.ts';

/** The quantization of the whole image from its regions' phase-1 ranges, as a single process finds it from the whole canvas. */
export function imageQuantization(reports: readonly RegionReport[], label: string): Quantization {
  let min = Infinity, max = -Infinity, valid = 0;
  for (const r of reports) {
    if (!r.floats) throw new StitchError(`${label}: region x ${r.x}, y ${r.y} reported no range (it was not run as phase 1 of a two-phase region)`);
    if (r.floats.valid === 0) continue;
    if (r.floats.min < min) min = r.floats.min;
    if (r.floats.max > max) max = r.floats.max;
    valid += r.floats.valid;
  }
  return quantizationOf('cog', { min, max, valid });
}

/** The region's report once its part is written with `quantization`: the COG options complete. */
export function quantizedReport(report: RegionReport, quantization: Quantization): RegionReport {
  const options = withQuantization(cogOptionsFromJson(report.cog.options), quantization);
  const { floats: _, ...rest } = report;
  return { ...rest, cog: { ...report.cog, options: cogOptionsToJson(options) } };
}

/** Quantizes a region's kept floats with the whole image's `quantization` into its part file (atomically); returns the report of the part. */
export async function quantizeRegionPart(report: RegionReport, quantization: Quantization): Promise<RegionReport> {
  if (!report.floats) throw new StitchError(`region x ${report.x}, y ${report.y}: no kept floats to quantize`);
  const done = quantizedReport(report, quantization);
  const file = await openRaster(report.floats.path);
  try {
    if (file.width !== report.width || file.height !== report.height || file.bands !== report.cog.bands) {
      throw new StitchError(`${report.floats.path}: ${file.width} x ${file.height} x ${file.bands}, expected the region's ${report.width} x ${report.height} x ${report.cog.bands}`);
    }
    let out: Raster | undefined;
    const source: BlockSource = {
      height: report.height, width: report.width, bands: report.cog.bands, dtype: report.cog.dtype,
      readBlock: async (y0, x0, h, w) => {
        const blk = await file.read({ window: [slice(y0, y0 + h), slice(x0, x0 + w)] });
        out = quantizeBlock(blk, quantization, undefined, out);
        return out;
      },
    };
    await writeCogPart(report.part, source, {
      fullWidth: report.fullWidth, fullHeight: report.fullHeight, regionSize: report.size, x: report.x, y: report.y,
    }, cogOptionsFromJson(done.cog.options));
  } finally {
    await file.close();
  }
  return done;
}
