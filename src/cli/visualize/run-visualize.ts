/**
 * The visualize command's work: per image, a PNG with the picture and each
 * requested channel as a heatmap beside it and laid over it; per video, a
 * contact sheet of the overlays in frame order.
 */
import { join } from 'node:path';
import { CocoDataset } from '../../coco/dataset.ts';
import { FusedChannelSpec } from '../../coco/channel-spec.ts';
import { writePng } from '../../io/png.ts';
import type { Raster } from '../../array/raster.ts';
import { colorize, grid, overlay, percentiles, resizeNearest, toDisplayRgb } from './compose.ts';
import { ChannelError } from '../../coco/errors.ts';

export interface VisualizeOptions {
  src: string;
  /** channels to show as heatmaps, e.g. 'pred.1' or 'pred.0|pred.1' */
  channels: string;
  out: string;
  /** channels of the picture underneath; default r|g|b when the image has it */
  base?: string;
  space?: 'video' | 'image';
  /** longest side of a panel; larger images are shrunk */
  maxSize?: number;
}

export interface VisualizeResult {
  images: string[];
  sheets: string[];
}

/** File-name-safe version of a name. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || 'unnamed';
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

/** Renders every image of a manifest that has the requested channels. */
export async function runVisualize(opts: VisualizeOptions): Promise<VisualizeResult> {
  const dset = await CocoDataset.load(opts.src);
  const heat = FusedChannelSpec.coerce(opts.channels);
  const space = opts.space ?? 'video';
  const maxSize = opts.maxSize ?? 512;
  const images: string[] = [];
  const sheets: string[] = [];
  const byVideo = new Map<string, Raster<Uint8Array>[]>();
  let shown = 0;
  for (const gid of dset.imageIds()) {
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
    const sheet = byVideo.get(videoName) ?? [];
    sheet.push(fit(lastOverlay, 256));
    byVideo.set(videoName, sheet);
    shown++;
  }
  if (shown === 0) throw new ChannelError(`no image of ${opts.src} has channels ${heat.spec}`);
  for (const [videoName, thumbs] of byVideo) {
    const path = join(opts.out, `${videoName}_contact.png`);
    await writePng(path, grid(thumbs, Math.ceil(Math.sqrt(thumbs.length))));
    sheets.push(path);
  }
  return { images, sheets };
}
