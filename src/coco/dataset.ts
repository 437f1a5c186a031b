/**
 * CocoDataset: a kwcoco manifest in memory (the plain JSON, `.dataset`, kept
 * live) plus an index by id, with kwcoco's load / dump / reroot semantics.
 */
import { access } from 'node:fs/promises';
import { dirname, isAbsolute, normalize, relative, resolve, sep } from 'node:path';
import { ValueError } from '../array/errors.ts';
import { IoError } from '../io/errors.ts';
import { isRemotePath } from '../io/remote-path.ts';
import { CocoImage } from './coco-image.ts';
import { declaredSizeProblems } from './declared-sizes.ts';
import { ManifestError, UnknownIdError } from './errors.ts';
import { readManifestFile, writeManifestFile } from './manifest-io.ts';
import type { VidshapesMsiOptions } from './demo/vidshapes-msi.ts';
import type { FromImageFilesOptions } from './from-image-files.ts';

// ------------------------------------------------------------ JSON records
// Shapes of the plain JSON records of a kwcoco manifest. Only the fields this
// package reads are named; every record keeps any other field untouched
// (index signature), so a round trip loses nothing. `width` / `height` are
// typed as present (kwcoco writes them on images, videos and assets); the
// loader does not require them, so code reading an arbitrary manifest should
// still check.

/** Any extra JSON fields a record may carry. */
export interface JsonFields { [key: string]: any }

/**
 * One file holding some channels of an image (kwcoco "asset", formerly
 * "auxiliary"). `warp_aux_to_img` maps asset pixels to image pixels
 * (pixel-corner convention); absent means identity.
 */
export interface CocoAssetDict extends JsonFields {
  file_name: string;
  channels?: string | null;
  width: number;
  height: number;
  num_bands?: number;
  warp_aux_to_img?: unknown;
  quantization?: { orig_min: number; orig_max: number; quant_min: number; quant_max: number; nodata?: number | null };
}

/** An image: its own file (`file_name`) and/or a list of assets. */
export interface CocoImageDict extends JsonFields {
  id: number;
  file_name?: string | null;
  name?: string | null;
  width: number;
  height: number;
  video_id?: number;
  frame_index?: number;
  channels?: string | null;
  warp_img_to_vid?: unknown;
  assets?: CocoAssetDict[];
  auxiliary?: CocoAssetDict[];
}

/** A video: a canvas (`width` x `height`, video space) shared by its frames. */
export interface CocoVideoDict extends JsonFields { id: number; name: string; width: number; height: number }

/** An annotation on one image (bbox in image-space pixels, `[x, y, w, h]`). */
export interface CocoAnnotationDict extends JsonFields { id: number; image_id: number; category_id?: number | null; bbox?: number[] }

/** A category. */
export interface CocoCategoryDict extends JsonFields { id: number; name: string }

/** The whole manifest (kwcoco's `dataset` dict). */
export interface CocoManifest extends JsonFields {
  info?: unknown;
  licenses?: unknown;
  categories?: CocoCategoryDict[];
  keypoint_categories?: JsonFields[];
  videos?: CocoVideoDict[];
  images?: CocoImageDict[];
  annotations?: CocoAnnotationDict[];
}

/** Where relative asset paths of a dataset built from JSON resolve. */
export interface FromJSONOptions {
  /** the bundle folder (default: the folder of `fpath`, else the working directory) */
  bundleDpath?: string;
  /** the manifest path (sets `bundleDpath` to its folder unless that is given) */
  fpath?: string;
  /** refuse impossible declared sizes and warps (default true; `declaredSizeProblems` lists them all) */
  checkSizes?: boolean;
}

/** Options of `CocoDataset.load`. */
export interface LoadOptions {
  /** check right after loading that every local asset file exists (IoError naming the missing paths; URLs are checked when read); default false, in which case a missing file fails when it is read */
  checkAssets?: boolean;
  /** refuse impossible declared sizes and warps (default true; `declaredSizeProblems` lists them all) */
  checkSizes?: boolean;
}

/** The index of a dataset; Maps by id of the live JSON records. */
export interface CocoIndex {
  readonly imgs: Map<number, CocoImageDict>;
  readonly videos: Map<number, CocoVideoDict>;
  readonly anns: Map<number, CocoAnnotationDict>;
  readonly cats: Map<number, CocoCategoryDict>;
  /** video id -> its image ids, sorted by `frame_index` (images without one last, in manifest order) */
  readonly vidToGids: Map<number, number[]>;
  /** image id -> its annotation ids, in manifest order (every image has an entry) */
  readonly gidToAids: Map<number, number[]>;
}

type TableKey = 'images' | 'videos' | 'annotations' | 'categories';

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

function isRecord(v: unknown): v is JsonFields {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A deep copy with JSON semantics (`toJSON` honoured, typed arrays as lists, undefined members dropped), keeping NaN. */
function cloneJson(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return cloneJson((v as { toJSON(): unknown }).toJSON());
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map((x) => (x === undefined || typeof x === 'function' ? null : cloneJson(x)));
  const out: JsonFields = {};
  for (const k of Object.keys(v)) {
    const x = (v as JsonFields)[k];
    if (x !== undefined && typeof x !== 'function' && typeof x !== 'symbol') out[k] = cloneJson(x);
  }
  return out;
}

function toPosix(p: string): string { return sep === '/' ? p : p.split(sep).join('/'); }

function isOutside(rel: string): boolean {
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}

/**
 * A kwcoco dataset.
 *
 * @example
 * const dset = await CocoDataset.load('bundle/data.kwcoco.json');
 * for (const gid of dset.imageIds()) console.log(dset.cocoImage(gid).channels.spec);
 * const cid = dset.ensureCategory('change');
 * dset.addAnnotation({ image_id: 1, category_id: cid, bbox: [0, 0, 10, 10] });
 * dset.fpath = 'out/pred.kwcoco.json';   // moves the bundle; relative paths are rewritten
 * await dset.dump();                      // atomic; 'x.kwcoco.zip' writes a zip
 */
export class CocoDataset {
  /** The manifest, a plain JSON object (the live object: editing it edits the dataset; call `rebuildIndex()` after structural edits). */
  readonly dataset: CocoManifest;
  /** Records by id, kept up to date by the add* methods. */
  readonly index: CocoIndex = {
    imgs: new Map(), videos: new Map(), anns: new Map(), cats: new Map(), vidToGids: new Map(), gidToAids: new Map(),
  };
  #fpath: string | null = null;
  #bundleDpath: string;
  #bundleKnown: boolean;
  #maxId: Record<TableKey, number> = { images: 0, videos: 0, annotations: 0, categories: 0 };
  #names: Partial<Record<'images' | 'videos' | 'categories', Map<string, number>>> = {};

  private constructor(dataset: CocoManifest, options: FromJSONOptions, source: string) {
    this.dataset = dataset;
    if (options.fpath !== undefined) this.#fpath = resolve(options.fpath);
    const bundle = options.bundleDpath ?? (this.#fpath ? dirname(this.#fpath) : undefined);
    this.#bundleKnown = bundle !== undefined;
    this.#bundleDpath = resolve(bundle ?? '.');
    this.#buildIndex(source);
  }

  /**
   * Wraps a parsed manifest (kept live, not copied). Throws ManifestError
   * for a non-object, a table that is not a list, an item without an integer
   * id, a duplicate id, a reference to a missing video / image / category,
   * or a declared size or warp that cannot be right (./declared-sizes.ts:
   * a width that is not a positive integer, a degenerate warp, an image
   * larger than its assets cover).
   */
  static fromJSON(obj: unknown, options: FromJSONOptions = {}): CocoDataset {
    const source = options.fpath ?? '<manifest>';
    if (!isRecord(obj)) {
      throw new ManifestError(`${source}: a kwcoco manifest must be a JSON object, got ${typeName(obj).slice(0, 80)}`, options.fpath);
    }
    const dset = new CocoDataset(obj as CocoManifest, options, source);
    const problems = options.checkSizes === false ? [] : declaredSizeProblems(dset);
    if (problems.length) {
      const [p] = problems;
      const more = problems.length > 1 ? ` (and ${problems.length - 1} more such problem(s); \`coco-stitcher validate\` lists them all)` : '';
      throw new ManifestError(`${source}: ${p!.where}: ${p!.message}${more}`, options.fpath);
    }
    return dset;
  }

  /**
   * Loads `.kwcoco.json` / `.json` / `.kwcoco.zip` (recognised by content).
   * `fpath` becomes the absolute path, `bundleDpath` its folder. Errors name
   * the file (and line / column for malformed JSON).
   */
  static async load(path: string, options: LoadOptions = {}): Promise<CocoDataset> {
    const fpath = resolve(path);
    const data = await readManifestFile(fpath);
    const dset = CocoDataset.fromJSON(data, { fpath, checkSizes: options.checkSizes });
    if (options.checkAssets) {
      const missing = await dset.missingAssets();
      if (missing.length) {
        const list = missing.slice(0, 5).map((m) => `image ${m.gid}: ${m.path}`).join('; ');
        throw new IoError(`${fpath}: ${missing.length} asset file(s) do not exist: ${list}${missing.length > 5 ? '; ...' : ''}`, missing[0].path);
      }
    }
    return dset;
  }

  /**
   * A demo dataset. `'vidshapes-msi'` delegates to `createVidshapesMsi(opts)`
   * (src/coco/demo/vidshapes-msi.ts: a multispectral bundle written under
   * `opts.dpath`); any other name is a ValueError.
   *
   * @example
   * const dset = await CocoDataset.demo('vidshapes-msi', { dpath: '/tmp/demo', numVideos: 2, geodata: true });
   */
  static async demo(name: string, opts: VidshapesMsiOptions): Promise<CocoDataset> {
    if (name !== 'vidshapes-msi') throw new ValueError(`unknown demo dataset ${JSON.stringify(name)}; available: "vidshapes-msi"`);
    // Loaded on demand: the demo module imports this one, and only demo users need it.
    const { createVidshapesMsi } = await import('./demo/vidshapes-msi.ts');
    return await createVidshapesMsi(opts);
  }

  /**
   * A dataset of plain image files (GeoTIFF, PNG, JPEG; paths, globs such
   * as `scenes/*.tif`, or URLs), one image per file; see
   * `datasetFromImageFiles` in ./from-image-files.ts.
   *
   * @example
   * const dset = await CocoDataset.fromImageFiles('scenes/*.tif', { channels: 'r|g|b' });
   */
  static async fromImageFiles(paths: string | readonly string[], options: FromImageFilesOptions = {}): Promise<CocoDataset> {
    // loaded on demand, like the demo: that module imports this one
    const { datasetFromImageFiles } = await import('./from-image-files.ts');
    return datasetFromImageFiles(paths, options);
  }

  /** Absolute path of the manifest file, or null. */
  get fpath(): string | null { return this.#fpath; }

  /**
   * Sets the manifest path. As in kwcoco, the bundle folder moves to its
   * folder and, when it changes, relative asset paths are rewritten so they
   * still point at the same files: `./x` inside the new bundle (as
   * `reroot`), `../old-bundle/_assets/x.tif` outside it. Absolute paths are
   * left alone. `null` forgets the path and keeps the bundle.
   */
  set fpath(value: string | null) {
    if (value === null) { this.#fpath = null; return; }
    const fpath = resolve(value);
    const root = dirname(fpath);
    if (this.#bundleKnown && root !== this.#bundleDpath) this.#rebase(root);
    this.#fpath = fpath;
    this.#bundleDpath = root;
    this.#bundleKnown = true;
  }

  /** The folder relative file names resolve against (absolute). Setting it rewrites nothing. */
  get bundleDpath(): string { return this.#bundleDpath; }
  set bundleDpath(value: string) {
    this.#bundleDpath = resolve(value);
    this.#bundleKnown = true;
  }

  /** Image ids, ascending (as kwcoco's `images()`). */
  imageIds(): number[] { return [...this.index.imgs.keys()].sort((a, b) => a - b); }

  /** The image `gid`; UnknownIdError when the dataset has no such image. */
  cocoImage(gid: number): CocoImage {
    const img = this.index.imgs.get(gid);
    if (!img) {
      throw new UnknownIdError(`image id ${JSON.stringify(gid)} is not in ${this.#fpath ?? 'the dataset'} (${this.index.imgs.size} images${this.index.imgs.size ? `, ids ${this.imageIds().slice(0, 10).join(', ')}${this.index.imgs.size > 10 ? ', ...' : ''}` : ''})`);
    }
    return new CocoImage(this, img);
  }

  /**
   * Writes the manifest to `path` (default: `fpath`) atomically, as kwcoco
   * writes it (one item per line); a path ending in `.zip` writes a zip.
   * When `path` is in another folder than the bundle, the file gets relative
   * asset paths rewritten for that folder (the dataset itself is unchanged).
   */
  async dump(path?: string): Promise<void> {
    const target = path !== undefined ? resolve(path) : this.#fpath;
    if (!target) throw new ManifestError('dump() needs a path: this dataset has no fpath (pass one, or set dset.fpath)');
    let data: CocoManifest = this.dataset;
    if (this.#bundleKnown && dirname(target) !== this.#bundleDpath && this.#hasRelativePaths()) {
      const moved = this.copy();
      moved.fpath = target;
      data = moved.dataset;
    }
    await writeManifestFile(target, data);
  }

  /** A deep copy (same fpath and bundle; `toJSON` of non-plain values applied). */
  copy(): CocoDataset {
    const c = new CocoDataset(cloneJson(this.dataset) as CocoManifest, {}, this.#fpath ?? '<copy>');
    c.#fpath = this.#fpath;
    c.#bundleDpath = this.#bundleDpath;
    c.#bundleKnown = this.#bundleKnown;
    return c;
  }

  /**
   * Rewrites every image and asset `file_name`: `absolute: true` makes them
   * absolute; `absolute: false` (default) makes them bundle-relative, written
   * `./rel/path` as kwcoco's `reroot(absolute=False)` does (relative names
   * that already climb out, `../x`, stay relative). An absolute path outside
   * the bundle cannot be made bundle-relative: ManifestError naming it, and
   * nothing is changed.
   */
  reroot(options: { absolute?: boolean } = {}): this {
    const absolute = options.absolute ?? false;
    const root = this.#bundleDpath;
    const updates: [JsonFields, string][] = [];
    this.#forEachFile((rec, name, gid) => {
      const abs = isAbsolute(name) ? normalize(name) : resolve(root, name);
      if (absolute) { updates.push([rec, abs]); return; }
      const rel = relative(root, abs);
      if (isOutside(rel)) {
        if (isAbsolute(name)) {
          throw new ManifestError(`cannot make ${name} (image ${gid}) relative to the bundle ${root}: it lies outside the bundle (use reroot({absolute: true}) or move the file)`, this.#fpath ?? undefined);
        }
        updates.push([rec, toPosix(rel)]);
        return;
      }
      updates.push([rec, `./${toPosix(rel)}`]);
    });
    for (const [rec, name] of updates) rec.file_name = name;
    return this;
  }

  /** Every asset file (with its image id) that does not exist on disk. */
  async missingAssets(): Promise<{ gid: number; path: string }[]> {
    const files: { gid: number; path: string }[] = [];
    this.#forEachFile((_rec, name, gid) => files.push({ gid, path: isAbsolute(name) ? normalize(name) : resolve(this.#bundleDpath, name) }));
    const missing: { gid: number; path: string }[] = [];
    const CHUNK = 64;
    for (let i = 0; i < files.length; i += CHUNK) {
      const chunk = files.slice(i, i + CHUNK);
      const ok = await Promise.all(chunk.map((f) => access(f.path).then(() => true, () => false)));
      chunk.forEach((f, j) => { if (!ok[j]) missing.push(f); });
    }
    return missing;
  }

  /** Adds an image (a shallow copy of `img`, id assigned as max + 1 unless given); returns its id. */
  addImage(img: Partial<CocoImageDict> = {}): number {
    if (img.video_id !== undefined && img.video_id !== null && !this.index.videos.has(img.video_id)) {
      throw new UnknownIdError(`cannot add image: video_id ${JSON.stringify(img.video_id)} is not in "videos"`);
    }
    this.#checkName('images', img.name);
    const rec = this.#insert('images', this.index.imgs, img) as CocoImageDict;
    this.index.gidToAids.set(rec.id, []);
    if (rec.video_id !== undefined && rec.video_id !== null) {
      const gids = this.index.vidToGids.get(rec.video_id)!;
      gids.push(rec.id);
      this.#sortFrames(gids);
    }
    return rec.id;
  }

  /** Adds a video (`name` required and unique); returns its id. */
  addVideo(video: Partial<CocoVideoDict> & { name: string }): number {
    if (typeof video?.name !== 'string' || video.name === '') throw new ManifestError(`a video needs a non-empty string name, got ${JSON.stringify(video?.name)}`);
    this.#checkName('videos', video.name);
    const rec = this.#insert('videos', this.index.videos, video) as CocoVideoDict;
    this.index.vidToGids.set(rec.id, []);
    return rec.id;
  }

  /** Adds an annotation of an existing image (and existing category, if `category_id` is given); returns its id. */
  addAnnotation(ann: Partial<CocoAnnotationDict> & { image_id: number }): number {
    if (!this.index.imgs.has(ann?.image_id)) {
      throw new UnknownIdError(`cannot add annotation: image_id ${JSON.stringify(ann?.image_id)} is not in "images"`);
    }
    if (ann.category_id !== undefined && ann.category_id !== null && !this.index.cats.has(ann.category_id)) {
      throw new UnknownIdError(`cannot add annotation: category_id ${JSON.stringify(ann.category_id)} is not in "categories"`);
    }
    const rec = this.#insert('annotations', this.index.anns, ann) as CocoAnnotationDict;
    this.index.gidToAids.get(rec.image_id)!.push(rec.id);
    return rec.id;
  }

  /** Adds a category (`name` required and unique); returns its id. */
  addCategory(cat: Partial<CocoCategoryDict> & { name: string }): number {
    if (typeof cat?.name !== 'string' || cat.name === '') throw new ManifestError(`a category needs a non-empty string name, got ${JSON.stringify(cat?.name)}`);
    this.#checkName('categories', cat.name);
    return this.#insert('categories', this.index.cats, cat).id as number;
  }

  /** The id of the category named `name`, added if missing. */
  ensureCategory(name: string): number {
    const id = this.#nameMap('categories').get(name);
    return id !== undefined ? id : this.addCategory({ name });
  }

  /** Re-reads `.dataset` into the index (after editing the JSON by hand); same checks as loading. */
  rebuildIndex(): void { this.#buildIndex(this.#fpath ?? '<manifest>'); }

  // ---------------------------------------------------------------- private

  #table<T>(key: TableKey): T[] {
    const t = this.dataset[key];
    if (t === undefined || t === null) return ((this.dataset as JsonFields)[key] = []) as T[];
    return t as T[];
  }

  #insert(key: TableKey, map: Map<number, JsonFields>, obj: JsonFields): JsonFields {
    if (!isRecord(obj)) throw new ManifestError(`cannot add to "${key}": expected an object, got ${typeName(obj)}`);
    let id = obj.id;
    if (id === undefined || id === null) {
      id = this.#maxId[key] + 1;
    } else {
      if (!Number.isSafeInteger(id)) throw new ManifestError(`cannot add to "${key}": id ${JSON.stringify(id)} is not an integer`);
      if (map.has(id)) throw new ManifestError(`cannot add to "${key}": duplicate id ${id}`);
    }
    const { id: _drop, ...rest } = obj;
    const rec: JsonFields = { id, ...rest };
    this.#table<JsonFields>(key).push(rec);
    map.set(id, rec);
    if (id > this.#maxId[key]) this.#maxId[key] = id;
    if (key !== 'annotations' && typeof rec.name === 'string') this.#names[key]?.set(rec.name, id);
    return rec;
  }

  #nameMap(key: 'images' | 'videos' | 'categories'): Map<string, number> {
    let m = this.#names[key];
    if (!m) {
      m = new Map();
      for (const rec of (this.dataset[key] ?? []) as JsonFields[]) {
        if (typeof rec.name === 'string' && !m.has(rec.name)) m.set(rec.name, rec.id);
      }
      this.#names[key] = m;
    }
    return m;
  }

  #checkName(key: 'images' | 'videos' | 'categories', name: unknown): void {
    if (typeof name !== 'string') return;
    const other = this.#nameMap(key).get(name);
    if (other !== undefined) throw new ManifestError(`cannot add to "${key}": the name ${JSON.stringify(name)} is taken by id ${other}`);
  }

  #sortFrames(gids: number[]): void {
    const imgs = this.index.imgs;
    const fi = (g: number) => {
      const f = imgs.get(g)!.frame_index;
      return typeof f === 'number' && Number.isFinite(f) ? f : Infinity;
    };
    gids.sort((a, b) => fi(a) - fi(b) || 0);
  }

  #buildIndex(source: string): void {
    const { imgs, videos, anns, cats, vidToGids, gidToAids } = this.index;
    for (const m of [imgs, videos, anns, cats, vidToGids, gidToAids]) m.clear();
    this.#names = {};
    const fail = (msg: string) => { throw new ManifestError(`${source}: ${msg}`, this.#fpath ?? undefined); };
    const fill = (key: TableKey, map: Map<number, JsonFields>) => {
      const list = (this.dataset as JsonFields)[key];
      let max = 0;
      if (list !== undefined && list !== null) {
        if (!Array.isArray(list)) fail(`"${key}" must be a list, got ${typeName(list).slice(0, 60)}`);
        for (let i = 0; i < list.length; i++) {
          const item = list[i];
          if (!isRecord(item)) fail(`${key}[${i}] must be an object, got ${typeName(item).slice(0, 60)}`);
          const id = item.id;
          if (!Number.isSafeInteger(id)) fail(`${key}[${i}] has id ${JSON.stringify(id)}; expected an integer`);
          if (map.has(id)) fail(`duplicate id ${id} in "${key}" (items ${list.findIndex((x: JsonFields) => x?.id === id)} and ${i})`);
          map.set(id, item);
          if (id > max) max = id;
        }
      }
      this.#maxId[key] = max;
    };
    fill('videos', videos);
    fill('categories', cats);
    fill('images', imgs);
    fill('annotations', anns);
    for (const vid of videos.keys()) vidToGids.set(vid, []);
    for (const [gid, img] of imgs) {
      gidToAids.set(gid, []);
      const vid = img.video_id;
      if (vid === undefined || vid === null) continue;
      const list = vidToGids.get(vid);
      if (!list) fail(`image ${gid} has video_id ${JSON.stringify(vid)}, which is not in "videos"`);
      list!.push(gid);
    }
    for (const gids of vidToGids.values()) this.#sortFrames(gids);
    for (const [aid, ann] of anns) {
      const list = gidToAids.get(ann.image_id);
      if (!list) fail(`annotation ${aid} references image_id ${JSON.stringify(ann.image_id)}, which is not in "images"`);
      const cid = ann.category_id;
      if (cid !== undefined && cid !== null && !cats.has(cid)) fail(`annotation ${aid} references category_id ${JSON.stringify(cid)}, which is not in "categories"`);
      list!.push(aid);
    }
  }

  /** Calls `fn` for every record with a local file: images with a `file_name`, and every asset of `assets` / `auxiliary` (URLs and /vsicurl/ paths are left alone: not bundle paths). */
  #forEachFile(fn: (rec: JsonFields, name: string, gid: number) => void): void {
    for (const img of this.index.imgs.values()) {
      if (typeof img.file_name === 'string' && img.file_name !== '' && !isRemotePath(img.file_name)) fn(img, img.file_name, img.id);
      for (const key of ['assets', 'auxiliary'] as const) {
        const list = img[key];
        if (!Array.isArray(list)) continue;
        for (const a of list as CocoAssetDict[]) {
          if (isRecord(a) && typeof a.file_name === 'string' && a.file_name !== '' && !isRemotePath(a.file_name)) fn(a, a.file_name, img.id);
        }
      }
    }
  }

  #hasRelativePaths(): boolean {
    let found = false;
    this.#forEachFile((_r, name) => { if (!isAbsolute(name)) found = true; });
    return found;
  }

  /** Rewrites relative file names so they resolve to the same files from `newRoot`. */
  #rebase(newRoot: string): void {
    const oldRoot = this.#bundleDpath;
    const updates: [JsonFields, string][] = [];
    this.#forEachFile((rec, name) => {
      if (isAbsolute(name)) return;
      const rel = relative(newRoot, resolve(oldRoot, name));
      updates.push([rec, isOutside(rel) ? toPosix(rel) : `./${toPosix(rel)}`]);
    });
    for (const [rec, name] of updates) rec.file_name = name;
  }
}
