/**
 * The visualize command's work: per image, a PNG with the picture and each
 * requested channel as a heatmap beside it and laid over it; per video, a
 * contact sheet of the overlays in frame order.
 */
import { join } from 'node:path';
import { ValueError } from '../../array/errors.ts';
import { CocoDataset } from '../../coco/dataset.ts';
import { ChannelError } from '../../coco/errors.ts';
import { sanitizeComponent } from '../../stitch/asset-naming.ts';
import { removeStaleTempFiles } from '../../io/stale-temp.ts';
import { FusedChannelSpec } from '../../coco/channel-spec.ts';
import { writePng } from '../../io/png.ts';
import type { Raster } from '../../array/raster.ts';
import { colorize, grid, overlay, percentiles, resizeNearest, toDisplayRgb } from './compose.ts';

export interface VisualizeOptions {
  src: string;
  /** channels to show as heatmaps, e.g. 'pred.1' or 'pred.0|pred.1' */
  channels: string;
  out: string;
  /** channels of the picture underneath; default r|g|b when the image has it */
  base?: string;
  /** default: 'video' when the manifest has videos, else 'image' */
  space?: 'video' | 'image';
  /** longest side of a panel; larger images are shrunk */
  maxSize?: number;
  /** thumbnails per contact sheet (default 256); a longer video gets several sheets */
  sheetSize?: number;
}

export interface VisualizeResult {
  images: string[];
  sheets: string[];
}

/** File-name-safe version of a name, shortened (with a hash of the whole) as predict names its assets. */
function safeName(name: string): string {
  return sanitizeComponent(name, 'name');
}

/** Thumbnails per contact sheet: at most 256 x (256 + gap)² pixels, about 52 MB, in memory at once. */
const SHEET_SIZE = 256;

function positiveInteger(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ValueError(`${name} must be a positive integer, got ${String(v)}`);
  return v;
}

function fit(r: Raster<Uint8Array>, maxSize: number): Raster<Uint8Array> {
  const s = Math.min(1, maxSize / Math.max(r.height, r.width));
  return s === 1 ? r : resizeNearest(r, Math.max(1, Math.round(r.height * s)), Math.max(1, Math.round(r.width * s)));
}

/** Heat colour range: [0, 1] for probabilities, else the 2-98% percentiles. */
function heatRange(r: Raster, band: number): [number, number] {
  const [lo, hi] = percentiles(r, band, 0, 1);
  return lo >= 0 && hi <= 1 ? [0, 1] : percentiles(r, band);
}

/**
 * The images in contact-sheet order: each video's frames in frame order,
 * then the images without a video, so one sheet is open at a time.
 */
function sheetOrder(dset: CocoDataset): number[] {
  const order: number[] = [];
  for (const gids of dset.index.vidToGids.values()) order.push(...gids);
  const inVideo = new Set(order);
  for (const gid of dset.imageIds()) if (!inVideo.has(gid)) order.push(gid);
  return order;
}

/**
 * Renders every image of a manifest that has the requested channels. Work
 * and memory per image are bounded: a contact sheet is written as soon as it
 * has `sheetSize` thumbnails or its video ends, so only one sheet's
 * thumbnails are ever held.
 */
export async function runVisualize(opts: VisualizeOptions): Promise<VisualizeResult> {
  const maxSize = positiveInteger('--max-size', opts.maxSize ?? 512);
  const sheetSize = positiveInteger('sheetSize', opts.sheetSize ?? SHEET_SIZE);
  const dset = await CocoDataset.load(opts.src);
  const heat = FusedChannelSpec.coerce(opts.channels);
  // as predict: video space when the manifest has videos (an image without one is drawn in image space either way)
  const space = opts.space ?? (dset.index.videos.size > 0 ? 'video' : 'image');
  const images: string[] = [];
  const sheets: string[] = [];
  removeStaleTempFiles(opts.out);
  const sheet: { videoName: string | null; part: number; thumbs: Raster<Uint8Array>[] } = { videoName: null, part: 1, thumbs: [] };
  const writeSheet = async () => {
    if (sheet.thumbs.length === 0) return;
    const path = join(opts.out, `${sheet.videoName}_contact${sheet.part > 1 ? `_${sheet.part}` : ''}.png`);
    await writePng(path, grid(sheet.thumbs, Math.ceil(Math.sqrt(sheet.thumbs.length))));
    sheets.push(path);
    sheet.thumbs = [];
    sheet.part++;
  };
  for (const gid of sheetOrder(dset)) {
    const img = dset.cocoImage(gid);
    const missing = heat.parsed.filter((c) => !img.channels.has(c));
    if (missing.length === heat.numel()) continue;
    if (missing.length) {
      throw new ChannelError(`image ${gid} has ${heat.parsed.filter((c) => img.channels.has(c)).join('|')} but not ${missing.join('|')}`);
    }
    const baseCode = opts.base ?? (['r', 'g', 'b'].every((c) => img.channels.has(c)) ? 'r|g|b' : img.channels.parsed[0]);
    const imgSpace = space === 'video' && img.video ? 'video' : 'image';
    const base = await img.imdelay({ channels: baseCode, space: imgSpace, interpolation: 'linear' }).finalize();
    const values = await img.imdelay({ channels: heat.spec, space: imgSpace, interpolation: 'linear' }).finalize();
    const picture = toDisplayRgb(base);
    const rows: Raster<Uint8Array>[] = [];
    let lastOverlay = picture;
    for (let b = 0; b < heat.numel(); b++) {
      const [lo, hi] = heatRange(values, b);
      lastOverlay = overlay(picture, values, b, lo, hi);
      rows.push(fit(picture, maxSize), fit(colorize(values, b, lo, hi), maxSize), fit(lastOverlay, maxSize));
    }
    const name = safeName(String(img.img.name ?? `image_${gid}`));
    const videoName = img.video ? safeName(String(img.video.name ?? `video_${img.video.id}`)) : 'no-video';
    const path = join(opts.out, videoName, `${name}.png`);
    await writePng(path, grid(rows, 3));
    images.push(path);
    if (sheet.videoName !== videoName) {
      await writeSheet();
      // pictures half-written by a killed run: their temp files carry a pid that no longer runs
      removeStaleTempFiles(join(opts.out, videoName));
      Object.assign(sheet, { videoName, part: 1 });
    }
    sheet.thumbs.push(fit(lastOverlay, 256));
    if (sheet.thumbs.length >= sheetSize) await writeSheet();
  }
  await writeSheet();
  if (images.length === 0) throw new ChannelError(`no image of ${opts.src} has channels ${heat.spec}`);
  return { images, sheets };
}
