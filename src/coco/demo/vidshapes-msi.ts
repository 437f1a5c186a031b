/**
 * `vidshapes-msi`: a small multispectral kwcoco demo bundle, in the spirit of
 * kwcoco's `CocoDataset.demo('vidshapes', multispectral=True)`: videos of a
 * few moving shapes (ellipses, rectangles, stars; one category each), one
 * annotation per shape per frame (bbox and polygon in image space), and per
 * image three GeoTIFF assets at different resolutions under general affine
 * `warp_aux_to_img` warps:
 *
 * | channels | dtype  | resolution | warp_aux_to_img |
 * |----------|--------|------------|-----------------|
 * | `r|g|b`  | uint8  | full       | identity |
 * | `B1`     | uint16 | 1/1.25     | scale 1.25, rotation (up to +-0.15 rad) about the centre, sub-pixel offset |
 * | `B8|B11` | uint16 | 1/3        | scale 3 |
 *
 * Odd videos have `warp_img_to_vid` identity; even videos a scale of 1.5
 * (their video canvas is 1.5x the image size). With `geodata`, every image
 * carries `wld_crs_info` (EPSG:32618, UTM 18N) and `wld_to_pxl` (world ->
 * image pixels, 10 m image pixels), and the assets are georeferenced with
 * `wld_from_img @ img_from_asset` (pixel-corner convention).
 *
 * Everything is derived from `seed` through our own PRNG, so a seed always
 * gives the same manifest and the same pixels.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Affine } from '../../array/affine.ts';
import type { Dtype } from '../../array/dtypes.ts';
import { ValueError } from '../../array/errors.ts';
import type { Raster } from '../../array/raster.ts';
import { writeCog as defaultWriteCog, type WriteCogOptions } from '../../io/cog/write-cog.ts';
import { forEachLimit } from '../../io/concurrency.ts';
import { CocoDataset } from '../dataset.ts';
import { createRng } from './prng.ts';
import { polygonArea, polygonBbox, randomShapes, renderAsset, SceneFrame, SHAPE_KINDS, shapePolygon, type BandModel } from './scene.ts';

/** Options of {@link createVidshapesMsi}. */
export interface VidshapesMsiOptions {
  /** Number of videos (default 1). */
  numVideos?: number;
  /** Frames per video (default 2). */
  numFrames?: number;
  /** Image size: one number (square) or [width, height] (default 128, at least 8). */
  imageSize?: number | readonly [number, number];
  /** Georeference the images and assets (EPSG:32618). Default false. */
  geodata?: boolean;
  /** Bundle folder (created if needed); the manifest is `{dpath}/data.kwcoco.json`. Required. */
  dpath: string;
  /** Seed of the generator (default 0). */
  seed?: number;
}

/** EPSG code used for `geodata` (WGS 84 / UTM zone 18N). */
export const DEMO_EPSG = 32618;
/** Ground sample distance of image pixels with `geodata`, metres. */
export const DEMO_GSD = 10;

interface AssetPlan {
  channels: string;
  slug: string;
  dtype: Dtype;
  bands: BandModel[];
  /** asset -> image (as stored in the manifest, re-read through coerce). */
  warp: Affine;
  width: number;
  height: number;
  supersample: number;
}

/** A writer with the signature of `writeCog` as this module calls it. */
export type WriteCogFn = (path: string, source: Raster, options?: WriteCogOptions) => Promise<void>;

/** Injectable dependencies of {@link createVidshapesMsi} (tests, other writers). */
export interface VidshapesMsiDeps {
  /** Writes one asset (default: the package's `writeCog`). */
  writeCog?: WriteCogFn;
}

function checkOptions(opts: unknown): Required<Omit<VidshapesMsiOptions, 'imageSize'>> & { width: number; height: number } {
  if (opts === null || typeof opts !== 'object') throw new ValueError(`vidshapes-msi options must be an object, got ${JSON.stringify(opts)}`);
  const o = opts as Record<string, unknown>;
  const int = (key: string, dflt: number, min: number): number => {
    const v = o[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      throw new ValueError(`vidshapes-msi option ${key} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const size = o.imageSize ?? 128;
  const [width, height] = typeof size === 'number' ? [size, size] : Array.isArray(size) && size.length === 2 ? size : [NaN, NaN];
  if (![width, height].every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 8)) {
    throw new ValueError(`vidshapes-msi option imageSize must be an integer >= 8 or [width, height] of such, got ${JSON.stringify(size)}`);
  }
  if (typeof o.dpath !== 'string' || o.dpath === '') {
    throw new ValueError(`vidshapes-msi needs dpath (the bundle folder), got ${JSON.stringify(o.dpath)}`);
  }
  const geodata = o.geodata ?? false;
  if (typeof geodata !== 'boolean') throw new ValueError(`vidshapes-msi option geodata must be a boolean, got ${JSON.stringify(geodata)}`);
  const seed = o.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new ValueError(`vidshapes-msi option seed must be an integer, got ${JSON.stringify(seed)}`);
  return {
    numVideos: int('numVideos', 1, 1), numFrames: int('numFrames', 2, 1), width: width as number, height: height as number,
    geodata, dpath: o.dpath, seed,
  };
}

/**
 * Writes a `vidshapes-msi` demo bundle into `opts.dpath` (assets under
 * `_assets/`, manifest `data.kwcoco.json` with bundle-relative paths) and
 * returns it as a CocoDataset whose `fpath` is that manifest.
 *
 * @example
 * const dset = await createVidshapesMsi({ dpath: '/tmp/demo', numVideos: 2, numFrames: 3, geodata: true });
 * dset.cocoImage(1).imdelay('r|g|b').finalize();
 */
export async function createVidshapesMsi(opts: VidshapesMsiOptions, deps: VidshapesMsiDeps = {}): Promise<CocoDataset> {
  const o = checkOptions(opts);
  const { width: W, height: H, numVideos, numFrames } = o;
  const dpath = resolve(o.dpath);
  const writeCog = deps.writeCog ?? defaultWriteCog;
  const rng = createRng(o.seed);

  const categories = SHAPE_KINDS.map((name, i) => ({ id: i + 1, name }));
  const videos: Record<string, unknown>[] = [];
  const images: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  const jobs: { path: string; raster: () => Raster; cog: Record<string, unknown> }[] = [];
  const palette = [[230, 70, 60], [60, 200, 90], [245, 215, 50]];
  let gid = 0;
  let trackId = 0;

  for (let v = 1; v <= numVideos; v++) {
    const vidScale = v % 2 === 0 ? 1.5 : 1;
    const imgToVid = Affine.scale(vidScale);
    videos.push({ id: v, name: `toy_video_${v}`, width: Math.round(W * vidScale), height: Math.round(H * vidScale) });
    const shapes = randomShapes(rng, rng.int(2, 4), W, H, trackId + 1);
    trackId += shapes.length;
    const kindOf = shapes.map((s) => SHAPE_KINDS.indexOf(s.kind));
    const level = shapes.map((s) => s.level);
    // world placement of this video (UTM 18N, 10 m image pixels)
    const east = 300000 + 20000 * (v - 1) + 100 * rng.int(0, 99);
    const north = 4500000 + 100 * rng.int(0, 99);
    const wldToPxl = Affine.fromGdal([east, DEMO_GSD, 0, north, 0, -DEMO_GSD]).inv().concise();
    const wldFromImg = Affine.coerce(wldToPxl).inv();

    for (let f = 0; f < numFrames; f++) {
      gid++;
      const name = `generated-${v}-${f}`;
      const polys = shapes.map((s) => shapePolygon(s, f, numFrames));
      const scene = new SceneFrame(polys);
      const salt = Math.imul(o.seed + 1, 0x9e3779b1) ^ gid;

      const fg = (fn: (k: number) => number): Float64Array => Float64Array.from(shapes, (_, k) => fn(k));
      const rgb: BandModel[] = [0, 1, 2].map((band) => ({
        bgBase: 30 - 5 * band, bgNoise: 30, gradX: 25 / W, gradY: 0,
        fg: fg((k) => palette[kindOf[k]!]![band]! * level[k]! - 12), fgNoise: 24,
      }));
      const b1: BandModel[] = [{
        bgBase: 900, bgNoise: 300, gradX: 0, gradY: 200 / H,
        fg: fg((k) => 2500 + (2000 * level[k]! * (kindOf[k]! + 1)) / 3), fgNoise: 150,
      }];
      const b8b11: BandModel[] = [
        { bgBase: 1400, bgNoise: 300, gradX: 0, gradY: 0, fg: fg((k) => 5000 * level[k]!), fgNoise: 200 },
        { bgBase: 1100, bgNoise: 250, gradX: 0, gradY: 0, fg: fg((k) => 3000 * level[k]! + 400 * kindOf[k]!), fgNoise: 200 },
      ];

      // B1: scale 1.25, rotated about the image centre, sub-pixel offset; large enough to cover the image
      const theta = rng.uniform(-0.15, 0.15);
      const off: [number, number] = [rng.uniform(-1, 1), rng.uniform(-1, 1)];
      const s1 = 1.25;
      const cos = Math.abs(Math.cos(theta));
      const sin = Math.abs(Math.sin(theta));
      const w1 = Math.ceil((W * cos + H * sin) / s1) + 2;
      const h1 = Math.ceil((W * sin + H * cos) / s1) + 2;
      const warpB1 = Affine.translate(W / 2 + off[0], H / 2 + off[1])
        .matmul(Affine.rotate(theta))
        .matmul(Affine.scale(s1))
        .matmul(Affine.translate(-w1 / 2, -h1 / 2));

      const plans: AssetPlan[] = [
        { channels: 'r|g|b', slug: 'r_g_b', dtype: 'uint8', bands: rgb, warp: Affine.eye(), width: W, height: H, supersample: 1 },
        { channels: 'B1', slug: 'B1', dtype: 'uint16', bands: b1, warp: warpB1, width: w1, height: h1, supersample: 2 },
        { channels: 'B8|B11', slug: 'B8_B11', dtype: 'uint16', bands: b8b11, warp: Affine.scale(3), width: Math.ceil(W / 3), height: Math.ceil(H / 3), supersample: 3 },
      ];
      const assets = plans.map((p, ai) => {
        const conciseWarp = p.warp.concise();
        // render through the warp as a reader will resolve it from the manifest
        const warp = Affine.coerce(conciseWarp);
        const fileName = `_assets/${p.slug}/${name}_${p.slug}.tif`;
        const cog: Record<string, unknown> = { compress: 'DEFLATE' };
        if (o.geodata) {
          cog.epsg = DEMO_EPSG;
          cog.transform = wldFromImg.matmul(warp);
        }
        jobs.push({
          path: join(dpath, fileName),
          raster: () => renderAsset(scene, warp, p.width, p.height, p.bands, p.dtype, salt + 7919 * ai, p.supersample),
          cog,
        });
        return { file_name: fileName, channels: p.channels, width: p.width, height: p.height, num_bands: p.bands.length, warp_aux_to_img: conciseWarp };
      });

      const img: Record<string, unknown> = {
        id: gid, name, file_name: null, video_id: v, frame_index: f, width: W, height: H,
        warp_img_to_vid: imgToVid.concise(),
        timestamp: new Date(Date.UTC(2020, 0, 1) + (16 * f + v) * 86400000).toISOString(),
        sensor: 'demo-msi',
      };
      if (o.geodata) {
        img.wld_crs_info = { auth: ['EPSG', String(DEMO_EPSG)], axis_mapping: 'OAMS_TRADITIONAL_GIS_ORDER' };
        img.wld_to_pxl = wldToPxl;
      }
      img.assets = assets;
      images.push(img);

      shapes.forEach((s, k) => {
        const poly = polys[k]!;
        annotations.push({
          id: annotations.length + 1, image_id: gid, category_id: kindOf[k]! + 1, track_id: s.trackId,
          bbox: polygonBbox(poly), area: Math.round(polygonArea(poly) * 1e4) / 1e4,
          segmentation: [{ exterior: poly, interiors: [] }],
        });
      });
    }
  }

  await mkdir(dpath, { recursive: true });
  for (const dir of new Set(jobs.map((j) => join(j.path, '..')))) await mkdir(dir, { recursive: true });
  await forEachLimit(jobs, 4, async (j) => writeCog(j.path, j.raster(), j.cog));

  const manifest = { info: [], licenses: [], categories, videos, images, annotations };
  const dset = CocoDataset.fromJSON(manifest, { fpath: join(dpath, 'data.kwcoco.json') });
  await dset.dump();
  return dset;
}
