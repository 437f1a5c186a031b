/**
 * What the page shows, worked out from the manifest alone (no DOM, so it
 * is tested under node): groups of frames (a video's images in time order,
 * or one image without a video), where each asset lies in display space,
 * which assets are stitched predictions, and how their values dequantize.
 *
 * Display space is the video's pixel grid (the image's own grid for an
 * image without a video). An asset is placed by `warp_img_to_vid @
 * warp_aux_to_img`; only scale and translation are drawn (rotation, shear
 * and unequal x/y scales get a message instead of a wrong picture).
 */
import { Affine } from '../../array/affine.ts';
import { FusedChannelSpec } from '../../coco/channel-spec.ts';

export interface ViewDescription {
  manifestUrl: string;
  dataset: {
    videos?: { id: number; name?: string; width?: number; height?: number }[];
    images?: Record<string, any>[];
    annotations?: Record<string, any>[];
    categories?: { id: number; name: string }[];
  };
  urlOf: Record<string, string | null>;
}

export interface Quantization { orig_min: number; orig_max: number; quant_min: number; quant_max: number; nodata?: number | null }

/** display = (x * sx + tx, y * sy + ty) */
export interface Placement { sx: number; sy: number; tx: number; ty: number }

export interface AssetInfo {
  index: number;
  fileName: string;
  url: string | null;
  channels: string[];
  stitched: boolean;
  quantization: Quantization | null;
  width: number;
  height: number;
  /** asset pixel -> display, or why it cannot be drawn */
  placement: Placement | { error: string };
}

export interface FrameGroup {
  key: string;
  name: string;
  videoId: number | null;
  width: number;
  height: number;
  imageIds: number[];
}

export interface ImageInfo {
  id: number;
  name: string;
  width: number;
  height: number;
  /** image pixel -> display */
  placement: Placement | { error: string };
  assets: AssetInfo[];
  /** image pixel -> world (the image's CRS), when the manifest georeferences it */
  worldFromImg: Affine | null;
  crs: string | null;
}

/** Scale and translation of an affine; an error text when it rotates, shears or scales x and y differently. */
export function placementOf(a: Affine, what: string): Placement | { error: string } {
  const [m00, m01, m02, m10, m11, m12] = a.matrix;
  const tol = 1e-9 * Math.max(1, Math.abs(m00), Math.abs(m11));
  if (Math.abs(m01) > tol || Math.abs(m10) > tol) {
    return { error: `${what} rotates or shears (${JSON.stringify(a.concise())}); the viewer draws only scale and translation warps` };
  }
  if (!(m00 > 0 && m11 > 0)) return { error: `${what} flips or collapses an axis (${JSON.stringify(a.concise())}); not drawn` };
  if (Math.abs(m00 - m11) > 1e-6 * m00) {
    return { error: `${what} scales x by ${m00} and y by ${m11}; the viewer draws only equal x/y scales` };
  }
  return { sx: m00, sy: m11, tx: m02, ty: m12 };
}

export function compose(outer: Placement, inner: Placement): Placement {
  return { sx: outer.sx * inner.sx, sy: outer.sy * inner.sy, tx: outer.sx * inner.tx + outer.tx, ty: outer.sy * inner.ty + outer.ty };
}

/** Value in the model's units of a stored value q; null for nodata. */
export function dequantize(q: number, quant: Quantization | null, nodata: number | null): number | null {
  if (Number.isNaN(q)) return null;
  if (quant) {
    if (quant.nodata !== undefined && quant.nodata !== null && q === quant.nodata) return null;
    return quant.orig_min + (q - quant.quant_min) * (quant.orig_max - quant.orig_min) / (quant.quant_max - quant.quant_min);
  }
  if (nodata !== null && q === nodata) return null;
  return q;
}

function channelNames(asset: Record<string, any>): string[] {
  if (typeof asset.channels === 'string' && asset.channels !== '') {
    try {
      return [...FusedChannelSpec.coerce(asset.channels).parsed];
    } catch {
      return [asset.channels];
    }
  }
  const n = Number.isInteger(asset.num_bands) ? asset.num_bands : 1;
  return Array.from({ length: n }, (_, i) => `u${i}`);
}

/** The frame groups: each video with its images sorted by frame_index (then id), then every image without a video. */
export function frameGroups(desc: ViewDescription): FrameGroup[] {
  const images = desc.dataset.images ?? [];
  const groups: FrameGroup[] = [];
  for (const v of desc.dataset.videos ?? []) {
    const imgs = images.filter((im) => im.video_id === v.id)
      .sort((a, b) => (a.frame_index ?? 0) - (b.frame_index ?? 0) || a.id - b.id);
    if (!imgs.length) continue;
    groups.push({
      key: `video-${v.id}`, name: v.name ?? `video ${v.id}`, videoId: v.id,
      width: v.width ?? imgs[0].width, height: v.height ?? imgs[0].height,
      imageIds: imgs.map((im) => im.id),
    });
  }
  const videoIds = new Set(groups.map((g) => g.videoId));
  for (const im of images) {
    if (im.video_id !== undefined && im.video_id !== null && videoIds.has(im.video_id)) continue;
    groups.push({ key: `image-${im.id}`, name: im.name ?? im.file_name ?? `image ${im.id}`, videoId: null, width: im.width, height: im.height, imageIds: [im.id] });
  }
  return groups;
}

function assetList(img: Record<string, any>): Record<string, any>[] {
  const out: Record<string, any>[] = [];
  if (typeof img.file_name === 'string' && img.file_name !== '') out.push(img);
  if (Array.isArray(img.auxiliary)) out.push(...img.auxiliary);
  if (Array.isArray(img.assets)) out.push(...img.assets);
  return out;
}

function coerceAffine(spec: unknown, what: string): Affine | { error: string } {
  try {
    return Affine.coerce((spec ?? null) as never);
  } catch (err) {
    return { error: `${what} ${JSON.stringify(spec)} is not a transform: ${(err as Error).message}` };
  }
}

function worldOf(img: Record<string, any>): { worldFromImg: Affine | null; crs: string | null } {
  if (!img.wld_to_pxl) return { worldFromImg: null, crs: null };
  const pxlFromWld = coerceAffine(img.wld_to_pxl, 'wld_to_pxl');
  if (!(pxlFromWld instanceof Affine)) return { worldFromImg: null, crs: null };
  const auth = img.wld_crs_info?.auth;
  const crs = Array.isArray(auth) && auth.length === 2 ? `${auth[0]}:${auth[1]}` : null;
  return { worldFromImg: pxlFromWld.inv(), crs };
}

export function imageInfo(desc: ViewDescription, gid: number): ImageInfo {
  const img = (desc.dataset.images ?? []).find((im) => im.id === gid);
  if (!img) throw new Error(`image ${gid} is not in the manifest`);
  const predicted = new Set<string>();
  for (const [code, on] of Object.entries(img.has_predictions ?? {})) {
    if (on) for (const name of channelNames({ channels: code })) predicted.add(name);
  }
  let placement: Placement | { error: string };
  if (img.video_id !== undefined && img.video_id !== null) {
    const a = coerceAffine(img.warp_img_to_vid, `image ${gid}'s warp_img_to_vid`);
    placement = a instanceof Affine ? placementOf(a, `image ${gid}'s warp_img_to_vid`) : a;
  } else {
    placement = { sx: 1, sy: 1, tx: 0, ty: 0 };
  }
  const assets = assetList(img).map((a, index): AssetInfo => {
    const fileName = String(a.file_name ?? '');
    const channels = channelNames(a);
    const quantization = a.quantization && typeof a.quantization === 'object' ? a.quantization as Quantization : null;
    const stitched = quantization !== null || channels.some((c) => predicted.has(c));
    const isImageRecord = a === img;
    const warp = coerceAffine(isImageRecord ? null : a.warp_aux_to_img, `asset ${fileName}'s warp_aux_to_img`);
    let assetPlacement: Placement | { error: string };
    if (!(warp instanceof Affine)) assetPlacement = warp;
    else if ('error' in placement) assetPlacement = placement;
    else {
      const inner = placementOf(warp, `asset ${fileName}'s warp_aux_to_img`);
      assetPlacement = 'error' in inner ? inner : compose(placement, inner);
    }
    return {
      index, fileName, url: desc.urlOf[fileName] ?? null, channels, stitched, quantization,
      width: a.width ?? img.width, height: a.height ?? img.height, placement: assetPlacement,
    };
  });
  return { id: gid, name: img.name ?? img.file_name ?? `image ${gid}`, width: img.width, height: img.height, placement, assets, ...worldOf(img) };
}

/** Polygon rings (image pixels) of a kwcoco segmentation: COCO flat lists, kwimage {exterior, interiors}, GeoJSON Polygon/MultiPolygon, or lists of these. */
export function segmentationRings(seg: unknown): [number, number][][] {
  const rings: [number, number][][] = [];
  const pairs = (pts: unknown): [number, number][] | null =>
    Array.isArray(pts) && pts.every((p) => Array.isArray(p) && p.length >= 2 && p.every((v) => typeof v === 'number'))
      ? (pts as number[][]).map((p) => [p[0], p[1]]) : null;
  const visit = (s: unknown): void => {
    if (!s) return;
    if (Array.isArray(s)) {
      if (s.length >= 6 && s.every((v) => typeof v === 'number')) {
        const ring: [number, number][] = [];
        for (let i = 0; i + 1 < s.length; i += 2) ring.push([s[i], s[i + 1]]);
        rings.push(ring);
        return;
      }
      const ring = pairs(s);
      if (ring && ring.length >= 3) { rings.push(ring); return; }
      for (const part of s) visit(part);
      return;
    }
    if (typeof s !== 'object') return;
    const o = s as Record<string, any>;
    if (o.exterior) {
      visit(o.exterior);
      for (const hole of o.interiors ?? []) visit(hole);
      return;
    }
    if (o.type === 'Polygon') { for (const r of o.coordinates ?? []) visit(r); return; }
    if (o.type === 'MultiPolygon') { for (const p of o.coordinates ?? []) for (const r of p) visit(r); }
  };
  visit(seg);
  return rings;
}
