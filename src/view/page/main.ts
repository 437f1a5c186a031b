/// <reference lib="dom" />
/**
 * The viewer page: reads the bundle's description from the server, opens on
 * the first video's first frame, and draws the imagery, the stitched
 * channel and the outlines with OpenLayers in display space (video pixels).
 * `window.__viewer` gives tests and benchmarks a handle on the map.
 */
import OlMap from 'ol/Map.js';
import View from 'ol/View.js';
import { defaults as defaultInteractions } from 'ol/interaction/defaults.js';
import Projection from 'ol/proj/Projection.js';
import VectorLayer from 'ol/layer/Vector.js';
import VectorSource from 'ol/source/Vector.js';
import Feature from 'ol/Feature.js';
import Polygon from 'ol/geom/Polygon.js';
import { Stroke, Style } from 'ol/style.js';
import type TileLayer from 'ol/layer/Tile.js';
import type DataTileSource from 'ol/source/DataTile.js';
import {
  frameGroups, imageInfo, dequantize, segmentationRings,
  type AssetInfo, type FrameGroup, type ImageInfo, type Placement, type ViewDescription,
} from './bundle-model.ts';
import { openRasterFile, type RasterFile } from './raster-file.ts';
import { COLORMAPS, colormapLut } from './colormap.ts';
import { percentileRange } from './stretch.ts';
import { heatmapLayer, imageryLayer, type RgbChannel } from './tile-layers.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

interface Channel { name: string; asset: AssetInfo; band: number }

const settings = {
  rgb: [] as string[],
  stretch: 2,
  heat: '',
  colormap: 'viridis',
  opacity: 0.7,
  showImagery: true,
  showHeatmap: true,
};

let desc: ViewDescription;
let groups: FrameGroup[] = [];
let group: FrameGroup;
let frame = 0;
let info: ImageInfo;
let generation = 0;
let legendRange: [number, number] | null = null;
const problems = new Map<string, string>();
let firstPaintMs: number | null = null;
let markFirstPaint = true;

// arrow keys step frames here, so OpenLayers' keyboard panning is off
const map = new OlMap({ target: 'map', layers: [], interactions: defaultInteractions({ keyboard: false }) });
let imagery: TileLayer<DataTileSource> | null = null;
let heatmap: TileLayer<DataTileSource> | null = null;
const outlines = new VectorLayer({ source: new VectorSource(), zIndex: 10 });
map.addLayer(outlines);
const views = new Map<string, View>();

function problem(key: string, message: string): void {
  problems.set(key, message);
  const ul = $('problems');
  ul.replaceChildren(...[...problems.values()].map((m) => Object.assign(document.createElement('li'), { textContent: m })));
  $('problems-panel').hidden = problems.size === 0;
}

function clearProblems(): void {
  problems.clear();
  $('problems').replaceChildren();
  $('problems-panel').hidden = true;
}

function channelsOf(stitched: boolean): Channel[] {
  const out: Channel[] = [];
  for (const a of info.assets) {
    if (a.stitched !== stitched) continue;
    a.channels.forEach((name, band) => out.push({ name, asset: a, band }));
  }
  return out;
}

function fillSelect(sel: HTMLSelectElement, names: string[], value: string): void {
  sel.replaceChildren(...names.map((n) => Object.assign(document.createElement('option'), { value: n, textContent: n })));
  sel.value = value;
}

function viewFor(g: FrameGroup): View {
  let view = views.get(g.key);
  if (!view) {
    const projection = new Projection({ code: `pixels:${g.key}`, units: 'pixels', extent: [0, -g.height, g.width, 0] });
    view = new View({ projection, minResolution: 1 / 64, maxResolution: 4 * Math.max(g.width, g.height), constrainResolution: false });
    views.set(g.key, view);
    map.setView(view);
    view.fit([0, -g.height, g.width, 0], { size: map.getSize() });
  } else {
    map.setView(view);
  }
  return view;
}

async function cogOf(asset: AssetInfo): Promise<RasterFile> {
  if (asset.url === null) throw new Error(`asset ${asset.fileName} is not served: it lies outside the bundle folder`);
  const cog = await openRasterFile(encodeURI(asset.url));
  if (cog.bands < asset.channels.length) {
    throw new Error(`asset ${asset.fileName} has ${cog.bands} band(s) but the manifest names ${asset.channels.length} channels (${asset.channels.join('|')})`);
  }
  return cog;
}

function placementOrThrow(asset: AssetInfo): Placement {
  if ('error' in asset.placement) throw new Error(asset.placement.error);
  return asset.placement;
}

const stretchCache = new Map<string, Promise<[number, number] | null>>();
function stretchOf(cog: RasterFile, band: number, p: number): Promise<[number, number] | null> {
  const key = `${cog.url}|${band}|${p}`;
  let r = stretchCache.get(key);
  if (!r) {
    r = cog.smallest().then((s) => percentileRange(s.bands[band], p, cog.nodata));
    stretchCache.set(key, r);
  }
  return r;
}

async function buildImagery(gen: number, projection: Projection): Promise<TileLayer<DataTileSource> | null> {
  const all = channelsOf(false);
  const chosen = settings.rgb.map((n) => all.find((c) => c.name === n)).filter((c): c is Channel => !!c);
  if (!chosen.length || !settings.showImagery) return null;
  try {
    const place = placementOrThrow(chosen[0].asset);
    const rgb: RgbChannel[] = [];
    for (const c of chosen) {
      const cog = await cogOf(c.asset);
      const p = placementOrThrow(c.asset);
      const ref = rgb[0]?.cog ?? cog;
      const sameGrid = p.sx === place.sx && p.tx === place.tx && p.ty === place.ty && cog.levels.length === ref.levels.length
        && cog.levels.every((L, i) => L.width === ref.levels[i].width && L.height === ref.levels[i].height
          && L.tileWidth === ref.levels[i].tileWidth && L.tileHeight === ref.levels[i].tileHeight);
      if (!sameGrid) throw new Error(`channels ${chosen.map((x) => x.name).join(', ')} come from assets on different grids; pick R, G and B from assets of one size and placement`);
      const range = (await stretchOf(cog, c.band, settings.stretch)) ?? [0, 1];
      rgb.push({ cog, band: c.band, lo: range[0], hi: range[1], nodata: cog.nodata });
    }
    if (gen !== generation) return null;
    return imageryLayer(rgb, place, projection, (m) => problem(`imagery-tile`, `imagery: ${m}`));
  } catch (err) {
    problem('imagery', `imagery (${settings.rgb.join(', ')}): ${(err as Error).message}`);
    return null;
  }
}

async function buildHeatmap(gen: number, projection: Projection): Promise<TileLayer<DataTileSource> | null> {
  const c = channelsOf(true).find((x) => x.name === settings.heat);
  legendRange = null;
  drawLegend();
  if (!c) return null;
  try {
    const cog = await cogOf(c.asset);
    const place = placementOrThrow(c.asset);
    const q = c.asset.quantization;
    let range: [number, number];
    if (q) range = [q.orig_min, q.orig_max];
    else {
      const s = await cog.smallest();
      range = percentileRange(s.bands[c.band], 0, cog.nodata) ?? [0, 1];
    }
    if (gen !== generation) return null;
    legendRange = range;
    drawLegend();
    if (!settings.showHeatmap) return null;
    const style = { band: c.band, quantization: q, nodata: cog.nodata, lut: colormapLut(settings.colormap), lo: range[0], hi: range[1] };
    const layer = heatmapLayer(cog, place, style, projection, (m) => problem('heatmap-tile', `${c.name}: ${m}`));
    layer.setOpacity(settings.opacity);
    return layer;
  } catch (err) {
    problem('heatmap', `stitched channel ${c.name} (${c.asset.fileName}): ${(err as Error).message}`);
    return null;
  }
}

function drawOutlines(): void {
  const source = outlines.getSource()!;
  source.clear();
  if ('error' in info.placement) return;
  const p = info.placement;
  const toMap = (ring: [number, number][]) => ring.map(([x, y]) => [x * p.sx + p.tx, -(y * p.sy + p.ty)]);
  const img = (desc.dataset.images ?? []).find((im) => im.id === info.id)!;
  const region = segmentationRings(img.prediction_region);
  const regionStyle = [
    new Style({ stroke: new Stroke({ color: 'rgba(0,0,0,0.8)', width: 3 }) }),
    new Style({ stroke: new Stroke({ color: '#fff', width: 1.5, lineDash: [6, 4] }) }),
  ];
  for (const ring of region) {
    const f = new Feature(new Polygon([toMap(ring)]));
    f.setStyle(regionStyle);
    source.addFeature(f);
  }
  const annStyle = new Style({ stroke: new Stroke({ color: '#ff3df5', width: 1.5 }) });
  for (const ann of desc.dataset.annotations ?? []) {
    if (ann.image_id !== info.id) continue;
    let rings = segmentationRings(ann.segmentation);
    if (!rings.length && Array.isArray(ann.bbox) && ann.bbox.length === 4) {
      const [x, y, w, h] = ann.bbox;
      rings = [[[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]];
    }
    for (const ring of rings) {
      const f = new Feature(new Polygon([toMap(ring)]));
      f.setStyle(annStyle);
      source.addFeature(f);
    }
  }
}

function drawLegend(): void {
  const canvas = $<HTMLCanvasElement>('legend-bar');
  const ctx = canvas.getContext('2d')!;
  const lut = colormapLut(settings.colormap);
  const img = ctx.createImageData(256, 12);
  for (let y = 0; y < 12; y++) for (let x = 0; x < 256; x++) {
    const o = 4 * (y * 256 + x);
    img.data[o] = lut[3 * x]; img.data[o + 1] = lut[3 * x + 1]; img.data[o + 2] = lut[3 * x + 2]; img.data[o + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  const ticks = $('legend-ticks');
  if (!legendRange) { ticks.replaceChildren(); $('legend-units').textContent = ''; return; }
  const [lo, hi] = legendRange;
  const fmt = (v: number) => Number(v.toPrecision(4)).toString();
  ticks.replaceChildren(...[lo, (lo + hi) / 2, hi].map((v) => Object.assign(document.createElement('span'), { textContent: fmt(v) })));
  const c = channelsOf(true).find((x) => x.name === settings.heat);
  $('legend-units').textContent = c?.asset.quantization
    ? `${settings.heat}, in the model's units (dequantized: orig_min..orig_max)`
    : `${settings.heat}, stored values (no quantization)`;
}

/** Rebuilds the layers of the current image with the current settings. */
async function redraw(): Promise<void> {
  const gen = ++generation;
  building++;
  try {
    await swapLayers(gen);
  } finally {
    building--;
  }
  map.render();
}

async function swapLayers(gen: number): Promise<void> {
  const projection = map.getView().getProjection();
  const [img, heat] = await Promise.all([buildImagery(gen, projection), buildHeatmap(gen, projection)]);
  if (gen !== generation) return;
  if (imagery) map.removeLayer(imagery);
  if (heatmap) map.removeLayer(heatmap);
  imagery = img;
  heatmap = heat;
  if (imagery) { imagery.setZIndex(0); map.addLayer(imagery); }
  if (heatmap) { heatmap.setZIndex(1); map.addLayer(heatmap); }
  drawOutlines();
}

let building = 0;
map.on('rendercomplete', () => {
  if (building) return;
  if (markFirstPaint && (imagery || heatmap)) {
    markFirstPaint = false;
    firstPaintMs = performance.now();
  }
  for (const w of waiters.splice(0)) w();
});
const waiters: (() => void)[] = [];

function showFrame(i: number): void {
  frame = Math.max(0, Math.min(group.imageIds.length - 1, i));
  const gid = group.imageIds[frame];
  info = imageInfo(desc, gid);
  clearProblems();
  for (const a of info.assets) {
    if (a.url === null) problem(`asset-${a.index}`, `asset ${a.fileName} (${a.channels.join('|')}) is not served: it lies outside the bundle folder`);
  }
  const inputs = channelsOf(false);
  const names = inputs.map((c) => c.name);
  if (!settings.rgb.length || !settings.rgb.every((n) => names.includes(n))) {
    const preferred = ['r', 'g', 'b'].every((n) => names.includes(n)) ? ['r', 'g', 'b'] : null;
    const firstAsset = inputs.length ? inputs.filter((c) => c.asset === inputs[0].asset).map((c) => c.name) : [];
    settings.rgb = preferred ?? [0, 1, 2].map((k) => firstAsset[Math.min(k, firstAsset.length - 1)]).filter(Boolean);
  }
  ['r', 'g', 'b'].forEach((id, k) => fillSelect($(`chan-${id}`), names, settings.rgb[k] ?? ''));
  const stitched = channelsOf(true);
  if (!stitched.some((c) => c.name === settings.heat)) {
    const first = stitched[0]?.asset;
    settings.heat = first ? first.channels[first.channels.length - 1] : '';
  }
  fillSelect($('heat-channel'), stitched.map((c) => c.name), settings.heat);
  $<HTMLInputElement>('frame').value = String(frame);
  const img = (desc.dataset.images ?? []).find((im) => im.id === gid)!;
  $('frame-label').textContent = `${frame + 1} / ${group.imageIds.length}`;
  document.querySelectorAll('#frames li').forEach((li, k) => li.classList.toggle('current', k === frame));
  document.title = `${img.name ?? gid} — coco-stitcher view`;
  void redraw();
}

function showGroup(k: number, frameIndex = 0): void {
  if (group && group.key !== groups[k].key) {
    // another group has another projection: its layers must go before the view changes (a pending redraw is dropped)
    generation++;
    if (imagery) map.removeLayer(imagery);
    if (heatmap) map.removeLayer(heatmap);
    imagery = null;
    heatmap = null;
    outlines.getSource()!.clear();
  }
  group = groups[k];
  $<HTMLSelectElement>('group').value = group.key;
  viewFor(group);
  const slider = $<HTMLInputElement>('frame');
  slider.max = String(group.imageIds.length - 1);
  slider.disabled = group.imageIds.length < 2;
  const imgs = desc.dataset.images ?? [];
  $('frames').replaceChildren(...group.imageIds.map((gid, i) => {
    const im = imgs.find((x) => x.id === gid)!;
    const li = Object.assign(document.createElement('li'), {
      textContent: `${im.name ?? im.file_name ?? gid}${im.timestamp ? ` (${String(im.timestamp).slice(0, 10)})` : ''}`,
    });
    li.addEventListener('click', () => showFrame(i));
    return li;
  }));
  showFrame(frameIndex);
}

function fmtNum(v: number): string {
  return Math.abs(v) >= 1e5 ? v.toFixed(2) : Number(v.toPrecision(8)).toString();
}

/** World coordinates of display point (vx, vy) through the geotransform stored in the first asset file that has one. */
async function worldFromAssetFile(vx: number, vy: number): Promise<{ x: number; y: number; crs: string | null; file: string } | null> {
  for (const a of info.assets) {
    if (a.url === null || 'error' in a.placement) continue;
    const cog = await openRasterFile(encodeURI(a.url)).catch(() => null);
    if (!cog?.geo) continue;
    const u = (vx - a.placement.tx) / a.placement.sx;
    const v = (vy - a.placement.ty) / a.placement.sy;
    const g = cog.geo;
    return { x: g.origin[0] + g.resolution[0] * u, y: g.origin[1] + g.resolution[1] * v, crs: g.crs, file: a.fileName };
  }
  return null;
}

let hoverToken = 0;
async function hover(coord: number[] | null): Promise<void> {
  const token = ++hoverToken;
  const el = $('hover');
  if (!coord || 'error' in info.placement) { el.textContent = 'move the pointer over the image'; return; }
  const p = info.placement;
  const vx = coord[0];
  const vy = -coord[1];
  const x = (vx - p.tx) / p.sx;
  const y = (vy - p.ty) / p.sy;
  const col = Math.floor(x);
  const row = Math.floor(y);
  const lines: HTMLElement[] = [];
  const line = (text: string, data: Record<string, string> = {}) => {
    const div = Object.assign(document.createElement('div'), { textContent: text });
    Object.assign(div.dataset, data);
    lines.push(div);
  };
  const inside = col >= 0 && row >= 0 && col < info.width && row < info.height;
  line(`image pixel: x ${col}, y ${row}${inside ? '' : ' (outside the image)'}`, { x: String(col), y: String(row) });
  if (group.videoId !== null) line(`video: x ${vx.toFixed(2)}, y ${vy.toFixed(2)}`);
  if (info.worldFromImg) {
    const [[wx, wy]] = info.worldFromImg.apply([[x, y]]);
    line(`${info.crs ?? 'world'}: ${fmtNum(wx)}, ${fmtNum(wy)}`, { world: `${wx},${wy}` });
  } else {
    // no georeferencing in the manifest: the first asset file that has its own
    const world = await worldFromAssetFile(vx, vy);
    if (token !== hoverToken) return;
    if (world) line(`${world.crs ?? 'world'}: ${fmtNum(world.x)}, ${fmtNum(world.y)} (from ${world.file})`, { world: `${world.x},${world.y}` });
  }
  for (const a of info.assets.filter((x) => x.stitched)) {
    if ('error' in a.placement || a.url === null) continue;
    const ap = a.placement;
    const ax = Math.floor((vx - ap.tx) / ap.sx);
    const ay = Math.floor((vy - ap.ty) / ap.sy);
    let values: number[] | null = null;
    let cog: RasterFile | null = null;
    try {
      cog = await openRasterFile(encodeURI(a.url));
      values = await cog.pixel(ax, ay);
    } catch {
      values = null;
    }
    if (token !== hoverToken) return;
    const nodata = cog?.nodata ?? null;
    a.channels.forEach((name, band) => {
      const v = values ? dequantize(values[band], a.quantization, nodata) : null;
      line(`${name}: ${values === null ? 'outside' : v === null ? 'nodata' : fmtNum(v)}`, { channel: name, value: v === null ? '' : String(v) });
    });
  }
  if (token !== hoverToken) return;
  el.replaceChildren(...lines);
}

function wireControls(): void {
  $<HTMLSelectElement>('group').replaceChildren(...groups.map((g) => Object.assign(document.createElement('option'), {
    value: g.key, textContent: `${g.videoId !== null ? 'video' : 'image'}: ${g.name} (${g.imageIds.length})`,
  })));
  $<HTMLSelectElement>('group').addEventListener('change', (e) => showGroup(groups.findIndex((g) => g.key === (e.target as HTMLSelectElement).value)));
  $<HTMLInputElement>('frame').addEventListener('input', (e) => showFrame(Number((e.target as HTMLInputElement).value)));
  ['r', 'g', 'b'].forEach((id, k) => $(`chan-${id}`).addEventListener('change', (e) => {
    settings.rgb[k] = (e.target as HTMLSelectElement).value;
    void redraw();
  }));
  $('stretch').addEventListener('change', (e) => {
    const v = Number((e.target as HTMLInputElement).value);
    if (v >= 0 && v < 50) { settings.stretch = v; void redraw(); }
  });
  $('show-imagery').addEventListener('change', (e) => { settings.showImagery = (e.target as HTMLInputElement).checked; void redraw(); });
  $('show-heatmap').addEventListener('change', (e) => { settings.showHeatmap = (e.target as HTMLInputElement).checked; void redraw(); });
  $('heat-channel').addEventListener('change', (e) => { settings.heat = (e.target as HTMLSelectElement).value; void redraw(); });
  fillSelect($('colormap'), COLORMAPS, settings.colormap);
  $('colormap').addEventListener('change', (e) => { settings.colormap = (e.target as HTMLSelectElement).value; void redraw(); });
  $('opacity').addEventListener('input', (e) => {
    settings.opacity = Number((e.target as HTMLInputElement).value);
    heatmap?.setOpacity(settings.opacity);
  });
  document.addEventListener('keydown', (e) => {
    const t = e.target as HTMLElement;
    if (t.tagName === 'SELECT' || (t.tagName === 'INPUT' && t.id !== 'frame' && (t as HTMLInputElement).type !== 'checkbox') || t.id === 'frame') return;
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      e.preventDefault();
      showFrame(frame + (e.key === 'ArrowRight' ? 1 : -1));
    }
  });
  map.on('pointermove', (e) => { void hover(e.coordinate); });
  map.getViewport()!.addEventListener('mouseleave', () => { void hover(null); });
}

async function start(): Promise<void> {
  const res = await fetch('/__view__/dataset.json');
  if (!res.ok) throw new Error(`the server did not send the bundle's description (HTTP ${res.status})`);
  desc = await res.json();
  groups = frameGroups(desc);
  wireControls();
  drawLegend();
  if (!groups.length) { problem('empty', 'the manifest has no images'); return; }
  showGroup(0);
}

const ready = start().catch((err) => problem('start', (err as Error).message));

/** For tests and benchmarks. */
(window as any).__viewer = {
  ready,
  map,
  get firstPaintMs() { return firstPaintMs; },
  get imageId() { return info?.id; },
  get frame() { return frame; },
  problems: () => [...problems.values()],
  showFrame,
  showGroup,
  settings,
  redraw,
  /** Resolves once the map has drawn everything it is loading now (after the latest redraw). */
  idle: () => new Promise<void>((ok) => {
    waiters.push(ok);
    map.render();
  }),
  /** Centres the view on image pixel (x, y) at `resolution` display pixels per screen pixel. */
  centerOn: (x: number, y: number, resolution: number) => {
    const p = info.placement as Placement;
    const view = map.getView();
    view.setResolution(resolution);
    view.setCenter([x * p.sx + p.tx, -(y * p.sy + p.ty)]);
  },
  /** Page coordinates (CSS pixels) of image point (x, y). */
  imageToPage: (x: number, y: number) => {
    const p = info.placement as Placement;
    const px = map.getPixelFromCoordinate([x * p.sx + p.tx, -(y * p.sy + p.ty)]);
    const r = map.getViewport()!.getBoundingClientRect();
    return [r.left + px[0], r.top + px[1]];
  },
};
