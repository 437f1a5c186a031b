/**
 * The plan stage: which images to predict, in stitching order (videos frame
 * by frame, then images without a video), and the windows of each. Windows
 * are produced lazily from a WindowGrid per image (window-grid.ts: evenly
 * spread starts), so a plan of millions of windows costs no memory; sizes
 * that the inputs decide (image sizes,
 * --window, --input-scale, --output-scale, --batch-size) are checked against
 * the memory budget here, before anything is read.
 */
import { checkAllocation } from '../array/memory-budget.ts';
import type { CocoDataset } from '../coco/dataset.ts';
import { ChannelError, UnknownIdError } from '../coco/errors.ts';
import { ValueError } from '../array/errors.ts';
import type { Settings } from './options.ts';
import { assetRegionOf, startsTouching, type AssetRegion } from './region.ts';
import { maxStride, WindowGrid } from './window-grid.ts';

export interface ImagePlan {
  gid: number;
  /** the space its windows are read in: the run's space, except 'image' for an image without a video */
  space: 'video' | 'image';
  /** canvas of the (input-scaled) stitching space, [h, w] */
  canvas: [number, number];
  /** [width, height] of the stitched asset */
  assetDsize: [number, number];
  /** the window grid over the canvas (the window clipped to the canvas) */
  grid: WindowGrid;
  /** the part of the asset grid stitched (region predict); null: all of it */
  region: AssetRegion | null;
  /** windows of the grid that are run (all of them, or those touching the region) */
  windows: number;
  /** region predict: the grid's row and column start indexes whose windows touch the region; null: every window */
  regionStarts: { rows: number[]; cols: number[] } | null;
  /** channels of --channels this image lacks (read as NaN bands) */
  missingChannels: string[];
}

/** One window to read: half-open rows and cols of its image's canvas. */
export interface PlannedWindow {
  plan: ImagePlan;
  /** index of the window in its image */
  index: number;
  rows: [number, number];
  cols: [number, number];
}

const F32 = 4;

/** Bytes the stitcher holds for an h x w canvas of `bands` (the sums and one weight plane, float32). */
export function canvasBytes(h: number, w: number, bands: number): number {
  return h * w * (bands + 1) * F32;
}

/** A readable label of an image for messages: `image 3 (name)`. */
export function imageLabel(dset: CocoDataset, gid: number): string {
  const img = dset.index.imgs.get(gid);
  const name = img?.name ?? img?.file_name;
  return `image ${gid}${name ? ` (${String(name).slice(0, 80)})` : ''}`;
}

/** The stitching space when --space is not given: 'video' when the manifest has videos, else 'image'. */
export function defaultSpace(dset: CocoDataset): 'video' | 'image' {
  return dset.index.videos.size > 0 ? 'video' : 'image';
}

/**
 * The channels of --channels that image `gid` lacks. Under
 * `--missing-channels nan` they are read as NaN bands (as kwcoco does for
 * multi-sensor frames), but an image with none of them is refused: the
 * model would see no data at all.
 */
function missingChannelsOf(dset: CocoDataset, gid: number, s: Settings): string[] {
  const img = dset.cocoImage(gid);
  const label = imageLabel(dset, gid);
  const missing = s.inChannels.parsed.filter((c) => !img.channels.has(c));
  if (missing.length === 0) return missing;
  const has = img.channels.spec || 'no channels';
  if (s.missingChannels === 'error') {
    throw new ChannelError(`${label} has no channel(s) ${missing.join('|')} for --channels ${s.inChannels.spec}; it has ${has} (--missing-channels nan reads them as NaN bands)`);
  }
  if (missing.length === s.inChannels.numel()) {
    throw new ChannelError(`${label} has none of the channels of --channels ${s.inChannels.spec}; it has ${has} (a missing channel is read as a NaN band, but an image needs at least one of them)`);
  }
  return missing;
}

/** One warning line for the images that lack some channels, or null. */
export function missingChannelsWarning(plans: readonly ImagePlan[], dset: CocoDataset, s: Settings): string | null {
  const lacking = plans.filter((p) => p.missingChannels.length > 0);
  if (lacking.length === 0) return null;
  const shown = lacking.slice(0, 5).map((p) => `${imageLabel(dset, p.gid)} lacks ${p.missingChannels.join('|')}`).join('; ');
  return `${lacking.length} image(s) lack channel(s) of --channels ${s.inChannels.spec}: ${shown}${lacking.length > 5 ? '; ...' : ''}. `
    + 'Those bands are read as NaN and given to the model as 0 after --mean/--std (the channel\'s mean); --missing-channels error refuses such images';
}

/** The images to predict, in stitching order. `imageIds` picks some and keeps that order. */
export function imageOrder(dset: CocoDataset, space: 'video' | 'image', imageIds: number[] | null): number[] {
  const order: number[] = [];
  if (space === 'video') {
    for (const gids of dset.index.vidToGids.values()) order.push(...gids);
    const inVideo = new Set(order);
    for (const gid of dset.imageIds()) if (!inVideo.has(gid)) order.push(gid);
  } else {
    order.push(...dset.imageIds());
  }
  if (imageIds === null) return order;
  for (const gid of imageIds) {
    if (!dset.index.imgs.has(gid)) throw new UnknownIdError(`imageIds: image ${gid} is not in ${dset.fpath ?? 'the dataset'}`);
  }
  const wanted = new Set(imageIds);
  return order.filter((gid) => wanted.has(gid));
}

/**
 * A channel no image of the manifest holds is a typo, not a missing sensor:
 * ChannelError. The whole manifest counts, so that a shard of a distributed
 * run (some image ids) decides as the whole run does.
 */
function checkChannelsExist(dset: CocoDataset, s: Settings): void {
  const absent = new Set(s.inChannels.parsed);
  for (const gid of dset.imageIds()) {
    const has = dset.cocoImage(gid).channels;
    for (const c of absent) if (has.has(c)) absent.delete(c);
    if (absent.size === 0) return;
  }
  const seen = new Set<string>();
  for (const gid of dset.imageIds()) {
    for (const c of dset.cocoImage(gid).channels.fuse().parsed) seen.add(c);
    if (seen.size >= 20) break;
  }
  throw new ChannelError(`--channels ${s.inChannels.spec}: no image of --src has ${[...absent].join('|')}; its images have ${[...seen].join('|') || 'no channels'}${seen.size >= 20 ? '|...' : ''}`);
}

/** Plans every image: checks its channels and sizes, and lays its window grid. */
export function planImages(dset: CocoDataset, s: Settings, opts: { memmap: boolean }): ImagePlan[] {
  const nIn = s.inChannels.numel();
  if (s.missingChannels === 'nan') checkChannelsExist(dset, s);
  const plans = imageOrder(dset, s.space, s.imageIds).map((gid): ImagePlan => {
    const img = dset.cocoImage(gid);
    const label = imageLabel(dset, gid);
    const missingChannels = missingChannelsOf(dset, gid, s);
    const space = s.space === 'video' && img.video ? 'video' : 'image';
    const frame = space === 'video' ? img.video! : img.img;
    const [fh, fw] = [Number(frame.height), Number(frame.width)];
    if (!(Number.isFinite(fh) && Number.isFinite(fw) && fh > 0 && fw > 0)) {
      throw new ValueError(`${label}: its ${space === 'video' ? `video ${frame.id}` : 'record'} has size ${String(frame.width)} x ${String(frame.height)}; expected positive numbers`);
    }
    if (s.inputScale !== 1 && (fw < 2 || fh < 2)) {
      // a resampled window needs 2 source pixels per side (the linear sampler's border rule): it would read nodata only
      throw new ValueError(`${label}: its ${space === 'video' ? `video ${frame.id}` : 'canvas'} is ${fw} x ${fh} pixels; at --input-scale ${s.inputScale} a side of one pixel reads as nodata everywhere (resampling needs at least 2 pixels per side); predict it at --input-scale 1`);
    }
    const canvas: [number, number] = [Math.round(fh * s.inputScale), Math.round(fw * s.inputScale)];
    const assetDsize: [number, number] = [Math.round(canvas[1] * s.outputScale), Math.round(canvas[0] * s.outputScale)];
    if (canvas[0] < 1 || canvas[1] < 1 || assetDsize[0] < 1 || assetDsize[1] < 1) {
      throw new ValueError(`${label}: ${fw} x ${fh} at --input-scale ${s.inputScale} and --output-scale ${s.outputScale} leaves no pixel to predict (canvas ${canvas[1]} x ${canvas[0]}, output ${assetDsize[0]} x ${assetDsize[1]})`);
    }
    const region = s.region ? assetRegionOf(s.region, assetDsize, label) : null;
    // the stitched canvas: the region, or the whole asset
    const [cw, ch] = region ? [region.width, region.height] : assetDsize;
    if (!opts.memmap) {
      // at least one band: the exact check, with the model's band count, comes with its first output
      checkAllocation(canvasBytes(ch, cw, 1),
        `${label}: its stitched output at --input-scale ${s.inputScale} and --output-scale ${s.outputScale} (${cw} x ${ch} pixels${region ? ` of region x ${region.x}, y ${region.y}` : ''}; --memmap keeps it on disk instead)`);
    }
    const win: [number, number] = [Math.min(s.windowShape[0], canvas[0]), Math.min(s.windowShape[1], canvas[1])];
    // a window read at --input-scale < 1 covers window / scale pixels of the image (at most the whole frame), as read and as float32
    const readH = Math.min(fh, Math.ceil(win[0] / s.inputScale) + 2 * Math.ceil(2 / s.inputScale) + 2);
    const readW = Math.min(fw, Math.ceil(win[1] / s.inputScale) + 2 * Math.ceil(2 / s.inputScale) + 2);
    checkAllocation(readH * readW * nIn * 8 + win[0] * win[1] * nIn * F32,
      `${label}: one --window ${s.window} window read at --input-scale ${s.inputScale} (${readW} x ${readH} pixels x ${nIn} channels)`);
    // the grid's start positions per axis are kept as numbers
    const step = (n: number, w: number) => Math.ceil((n - w) / maxStride(w, s.overlap)) + 2;
    checkAllocation((step(canvas[0], win[0]) + step(canvas[1], win[1])) * 8, `${label}: the window grid of --window ${s.window} over ${canvas[1]} x ${canvas[0]}`);
    const grid = new WindowGrid(canvas, win, s.overlap);
    const regionStarts = region && {
      rows: startsTouching(grid.rowStarts, grid.window[0], region.y, region.y + region.height, s.outputScale),
      cols: startsTouching(grid.colStarts, grid.window[1], region.x, region.x + region.width, s.outputScale),
    };
    const windows = regionStarts ? regionStarts.rows.length * regionStarts.cols.length : grid.length;
    return { gid, space, canvas, assetDsize, grid, missingChannels, region, windows, regionStarts };
  });
  return plans;
}

/** The windows of every plan, one image after the other, made as they are asked for. */
export function* plannedWindows(plans: readonly ImagePlan[]): Generator<PlannedWindow> {
  for (const plan of plans) {
    if (!plan.regionStarts) {
      let index = 0;
      for (const [rows, cols] of plan.grid) yield { plan, index: index++, rows, cols };
      continue;
    }
    const { rowStarts, colStarts, window: [h, w] } = plan.grid;
    for (const ri of plan.regionStarts.rows) {
      for (const ci of plan.regionStarts.cols) {
        const r = rowStarts[ri], c = colStarts[ci];
        yield { plan, index: ri * colStarts.length + ci, rows: [r, r + h], cols: [c, c + w] };
      }
    }
  }
}

/** Total windows of the plans. */
export function windowCount(plans: readonly ImagePlan[]): number {
  return plans.reduce((n, p) => n + p.windows, 0);
}

/**
 * Pixels per model call the default batch size aims at: one 128 x 128
 * window. On CPU (BENCHMARKS.md, "issue 15: batch size") batches of windows
 * of 128 px and more were slower per window than one window per call, and
 * took up to several times the memory; at 32-64 px batching amortises the
 * call's own cost. So only windows smaller than 128 px are batched, up to
 * MAX_DEFAULT_BATCH.
 */
export const BATCH_PIXELS = 128 * 128;
export const MAX_DEFAULT_BATCH = 8;

/** The default batch size for windows given to the model as h x w. */
export function defaultBatchSize(h: number, w: number): number {
  return Math.max(1, Math.min(MAX_DEFAULT_BATCH, Math.floor(BATCH_PIXELS / (h * w))));
}

/**
 * The batch size actually used (never more than the windows there are,
 * unless the model takes a fixed batch), after checking what one batch
 * holds: the windows read ahead (2 batches), the model's input and its
 * output for at least one band. `inputSize` gives the size a window is
 * given to the model as (padded, see model-input.ts).
 */
export function batchPlan(plans: readonly ImagePlan[], s: Settings, inputSize: (h: number, w: number) => [number, number] = (h, w) => [h, w]): { batchSize: number; prefetch: number } {
  const total = windowCount(plans);
  let maxWin = 0;
  let maxInput = 0;
  for (const p of plans) {
    const [h, w] = p.grid.window;
    const [ph, pw] = inputSize(h, w);
    maxWin = Math.max(maxWin, h * w);
    maxInput = Math.max(maxInput, ph * pw);
  }
  const asked = s.batchSize ?? (maxInput > 0 ? defaultBatchSize(maxInput, 1) : 1);
  const batchSize = s.fixedBatch ? asked : Math.max(1, Math.min(asked, total));
  const nIn = s.inChannels.numel();
  const perWindow = (maxWin * 2 * nIn + maxInput * (nIn + s.outputScale * s.outputScale)) * F32;
  const what = s.batchSize === null ? `the default batch of ${batchSize}` : `--batch-size ${s.batchSize}`;
  checkAllocation(batchSize * perWindow, `${what} windows of --window ${s.window} (${nIn} input channels, 2 batches read ahead, the model's input and output)`);
  return { batchSize, prefetch: Math.max(2, 2 * batchSize) };
}
