/**
 * CocoImage: one image of a CocoDataset, seen through its live JSON record.
 * Mutating `.img` (or an asset of it) mutates the dataset.
 */
import { isAbsolute, normalize, resolve } from 'node:path';
import { ChannelSpec, FusedChannelSpec } from './channel-spec.ts';
import { isRemotePath } from '../io/remote-path.ts';
import { ManifestError } from './errors.ts';
import type { CocoAssetDict, CocoDataset, CocoImageDict, CocoVideoDict } from './dataset.ts';

import { imdelay, type DelayedImage, type ImdelayOptions } from './delayed/imdelay.ts';
import { sharedRasterFiles } from '../io/raster-file-cache.ts';

/**
 * An image of a dataset.
 *
 * @example
 * const dset = await CocoDataset.load('bundle/data.kwcoco.json');
 * const image = dset.cocoImage(1);
 * image.channels.spec;                  // 'r|g|b,disparity,gauss,B8|B11'
 * image.resolvePath(image.assets[0].file_name); // absolute path
 * const raster = await image.imdelay({ channels: 'r|g|b', space: 'video' }).finalize();
 */
export class CocoImage {
  /** The dataset this image belongs to. */
  readonly dataset: CocoDataset;
  /** The image's live JSON record. */
  readonly img: CocoImageDict;

  constructor(dataset: CocoDataset, img: CocoImageDict) {
    this.dataset = dataset;
    this.img = img;
  }

  /** The image id. */
  get id(): number { return this.img.id; }

  /** The image name, or null. */
  get name(): string | null { return typeof this.img.name === 'string' ? this.img.name : null; }

  /** The video record this image is a frame of, or null. */
  get video(): CocoVideoDict | null {
    const vid = this.img.video_id;
    return vid === undefined || vid === null ? null : this.dataset.index.videos.get(vid) ?? null;
  }

  /** The folder relative asset paths resolve against. */
  get bundleDpath(): string { return this.dataset.bundleDpath; }

  /** `[width, height]` of the image canvas (image space), or null when the record lacks them. */
  get dsize(): [number, number] | null {
    const { width, height } = this.img;
    return Number.isFinite(width) && Number.isFinite(height) ? [width as number, height as number] : null;
  }

  /** Which list holds this image's assets now: 'assets' or 'auxiliary' (null when neither has items). */
  get assetsKey(): 'assets' | 'auxiliary' | null {
    if (Array.isArray(this.img.assets) && this.img.assets.length) return 'assets';
    if (Array.isArray(this.img.auxiliary) && this.img.auxiliary.length) return 'auxiliary';
    return null;
  }

  /**
   * Every file of the image, in kwcoco's order (`CocoImage.iter_asset_objs`):
   * the image record itself first when it has a `file_name` (its warp to
   * image space is the identity), then the items of `img.auxiliary`, then
   * those of `img.assets` (an image normally has only one of the two). The
   * records are the live JSON objects; the list is new each call.
   */
  get assets(): CocoAssetDict[] {
    const out: CocoAssetDict[] = [];
    if (typeof this.img.file_name === 'string' && this.img.file_name !== '') out.push(this.img as unknown as CocoAssetDict);
    if (Array.isArray(this.img.auxiliary)) out.push(...this.img.auxiliary);
    if (Array.isArray(this.img.assets)) out.push(...this.img.assets);
    return out;
  }

  /**
   * The channels of all assets, one late-fused stream per asset
   * (`r|g|b,disparity,gauss,B8|B11`). An asset without `channels` but with
   * `num_bands` n counts as `u0|...|u{n-1}`; one with neither is skipped.
   */
  get channels(): ChannelSpec {
    const parts: (string | number)[] = [];
    for (const a of this.assets) {
      if (typeof a.channels === 'string' && a.channels !== '') parts.push(a.channels);
      else if (Number.isInteger(a.num_bands) && (a.num_bands as number) > 0) parts.push(a.num_bands as number);
    }
    return ChannelSpec.concat(parts);
  }

  /** Absolute path of `fileName` (relative names resolve against the bundle folder; URLs stay as they are). */
  resolvePath(fileName: string): string {
    if (typeof fileName !== 'string' || fileName === '') {
      throw new ManifestError(`image ${this.img.id}: asset file name ${JSON.stringify(fileName)} is not a non-empty string`);
    }
    if (isRemotePath(fileName)) return fileName; // a URL or /vsicurl/ path: kept as written
    return isAbsolute(fileName) ? normalize(fileName) : resolve(this.bundleDpath, fileName);
  }

  /**
   * Appends `asset` (kept live, not copied) to the image's asset list:
   * `img.assets` if the image uses that key, else `img.auxiliary` if it uses
   * that one, else a new `img.assets`. Never writes both keys.
   * Throws ManifestError without a string `file_name`, ChannelError for a
   * bad channel code.
   */
  addAsset(asset: Partial<CocoAssetDict> & { file_name: string }): void {
    if (asset === null || typeof asset !== 'object' || Array.isArray(asset)) {
      throw new ManifestError(`image ${this.img.id}: an asset must be an object, got ${JSON.stringify(asset)}`);
    }
    if (typeof asset.file_name !== 'string' || asset.file_name === '') {
      throw new ManifestError(`image ${this.img.id}: asset file_name ${JSON.stringify(asset.file_name)} is not a non-empty string`);
    }
    if (asset.channels !== undefined && asset.channels !== null) FusedChannelSpec.coerce(asset.channels);
    let key = this.assetsKey;
    if (!key) key = Array.isArray(this.img.assets) ? 'assets' : Array.isArray(this.img.auxiliary) ? 'auxiliary' : 'assets';
    const list = (this.img[key] ??= []) as CocoAssetDict[];
    list.push(asset as CocoAssetDict);
  }

  /**
   * Opens every file of this image (headers only; files stay in the shared
   * open-file cache for the reads that follow) and throws ManifestError when
   * a record declares another width / height than its file has. Load checks
   * an image against its assets' records; this checks the records against
   * the files, e.g. before planning windows over an image that is its own
   * asset and declares 1e9 x 1e9 pixels.
   */
  async checkFileSizes(): Promise<void> {
    for (const a of this.assets) {
      const path = this.resolvePath(a.file_name);
      await sharedRasterFiles.use(path, async (file) => {
        const { width, height } = a;
        if ((width !== undefined && width !== null && width !== file.width) || (height !== undefined && height !== null && height !== file.height)) {
          throw new ManifestError(`image ${this.img.id}: ${path} is ${file.width}x${file.height} but its record says ${JSON.stringify(width)}x${JSON.stringify(height)} (width x height)`, path);
        }
      });
    }
  }

  /**
   * A delayed load of some channels of this image in image, video or asset
   * space (see `imdelay` in ./delayed/imdelay.ts); a string is the channels.
   * A channel no asset holds is an all-NaN band, as in Python kwcoco
   * (`missing: 'error'` throws a ChannelError instead).
   */
  imdelay(options?: ImdelayOptions | string): DelayedImage {
    return imdelay(this, options);
  }
}
