/**
 * The viewer in a real Chromium (Debian's, through playwright-core) on the
 * demo's output (made as `coco-stitcher demo` makes it) and on a 4096² bundle: what it draws is checked against
 * GDAL's reading of the same files (dequantized by hand) and against values
 * known by construction; the server counts the bytes the page fetched.
 * Skipped, with the reason, only when /usr/bin/chromium is absent.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { scratchDir } from '../helpers/scratch.ts';
import { gdalPython } from '../helpers/gdal.ts';
import { browserSkipReason, openBrowser, type Browser } from '../helpers/browser.ts';
import { makeLargeBundle, heatValue, pngValue, QUANT, PNG_QUANT, HEAT_GEO, type LargeBundle } from '../helpers/view-bundle.ts';
import { writeFileSync } from 'node:fs';
import { buildHeatmapModel } from '../../src/cli/onnx/build-model.ts';
import { runPredict } from '../../src/predict/run-predict.ts';
import { CocoDataset } from '../../src/coco/dataset.ts';
import { startViewServer, type ViewServer } from '../../src/view/server/view-server.ts';
import { colormapLut, lutIndex } from '../../src/view/page/colormap.ts';

const skip = browserSkipReason();

/** GDAL's value of every band of `path` at pixel (x, y). */
function gdalPixel(path: string, x: number, y: number): number[] {
  return JSON.parse(gdalPython(`
import sys, json
from osgeo import gdal
ds = gdal.Open(sys.argv[1])
x, y = int(sys.argv[2]), int(sys.argv[3])
print(json.dumps([float(ds.GetRasterBand(b + 1).ReadAsArray(x, y, 1, 1)[0, 0]) for b in range(ds.RasterCount)]))
`, [path, String(x), String(y)]));
}

/** RGB of the page at page point (px, py), from a screenshot. */
async function pixelAt(b: Browser, px: number, py: number): Promise<[number, number, number]> {
  const png = decode(await b.page.screenshot());
  const x = Math.floor(px);
  const y = Math.floor(py);
  const c = png.channels;
  const o = (y * png.width + x) * c;
  return [png.data[o], png.data[o + 1], png.data[o + 2]];
}

const viewer = (b: Browser) => ({
  idle: () => b.page.evaluate(() => (window as any).__viewer.idle()),
  imageId: () => b.page.evaluate(() => (window as any).__viewer.imageId as number),
  problems: () => b.page.evaluate(() => (window as any).__viewer.problems() as string[]),
  centerOn: (x: number, y: number, res: number) => b.page.evaluate(([x, y, res]) => (window as any).__viewer.centerOn(x, y, res), [x, y, res]),
  imageToPage: (x: number, y: number) => b.page.evaluate(([x, y]) => (window as any).__viewer.imageToPage(x, y) as [number, number], [x, y]),
  viewState: () => b.page.evaluate(() => {
    const v = (window as any).__viewer.map.getView();
    return { center: v.getCenter(), resolution: v.getResolution() };
  }),
  setInput: (id: string, value: string, event: 'input' | 'change') => b.page.evaluate(([id, value, event]) => {
    const el = document.getElementById(id) as HTMLInputElement;
    el.value = value;
    el.dispatchEvent(new Event(event, { bubbles: true }));
  }, [id, value, event]),
});

describe('the viewer in Chromium', { skip: skip ?? false }, () => {
  let demoServer: ViewServer;
  let bigServer: ViewServer;
  let big: LargeBundle;
  let demo: CocoDataset;
  let browser: Browser;

  before(async () => {
    // the demo's steps that make its output (demo.ts), without its validation and pictures
    const dir = scratchDir('coco-view-demo-');
    const input = await CocoDataset.demo('vidshapes-msi', { numVideos: 1, numFrames: 3, imageSize: 256, geodata: true, dpath: join(dir, 'input'), seed: 0 });
    const model = join(dir, 'heatmap.onnx');
    writeFileSync(model, buildHeatmapModel(3, 0.34, 40, [1, 1, 0]));
    const manifest = join(dir, 'predicted.kwcoco.json');
    await runPredict({
      src: input.fpath!, dst: manifest, model, channels: 'r|g|b', std: [255], chanCode: 'background|shapes',
      window: 128, overlap: 0.3, downweightEdges: true, shortCode: 'heatmap', expectedMinmax: [0, 1], progress: false,
    });
    demo = await CocoDataset.load(manifest);
    big = await makeLargeBundle(scratchDir('coco-view-big-'));
    demoServer = await startViewServer({ manifest, port: 0 });
    bigServer = await startViewServer({ manifest: big.manifest, port: 0 });
    browser = await openBrowser(1000, 700);
  });
  after(async () => {
    await browser?.close();
    await demoServer?.close();
    await bigServer?.close();
  });

  const firstVideoFrames = () => demo.index.vidToGids.get([...demo.index.videos.keys()][0])!;
  const heatAsset = (gid: number) => {
    const img = demo.cocoImage(gid);
    const a = img.assets.find((x) => x.quantization)!;
    return { path: img.resolvePath(a.file_name), q: a.quantization as { orig_min: number; orig_max: number; quant_min: number; quant_max: number } };
  };
  const deq = (v: number, q: any) => q.orig_min + (v - q.quant_min) * (q.orig_max - q.orig_min) / (q.quant_max - q.quant_min);

  test('opens on the first video\'s first frame with imagery, heatmap and outlines, without console errors', async () => {
    const v = viewer(browser);
    await browser.page.goto(demoServer.url);
    await browser.page.evaluate(() => (window as any).__viewer.ready);
    await v.idle();
    assert.equal(await v.imageId(), firstVideoFrames()[0]);
    const layers = await browser.page.evaluate(() => (window as any).__viewer.map.getLayers().getArray().map((l: any) => l.constructor.name));
    assert.equal(layers.length, 3, `imagery, heatmap and outlines: ${layers}`);
    const nOutlines = await browser.page.evaluate(() => (window as any).__viewer.map.getLayers().getArray()
      .find((l: any) => l.getSource().getFeatures)?.getSource().getFeatures().length);
    const gid = firstVideoFrames()[0];
    const nAnns = (demo.dataset.annotations ?? []).filter((a: any) => a.image_id === gid).length;
    assert.equal(nOutlines, 1 + nAnns, 'the prediction region and one outline per annotation');
    assert.deepEqual(await v.problems(), []);
    assert.deepEqual(browser.consoleErrors, []);
    assert.ok((demoServer.bytesSent.get(`/${demo.cocoImage(gid).assets.find((a) => a.quantization)!.file_name}`) ?? 0) > 0, 'the heatmap was fetched');
  });

  test('a screenshot shows the colour map of the value GDAL reads at a known pixel (viridis, then grey)', async () => {
    const v = viewer(browser);
    const gid = firstVideoFrames()[0];
    const { path, q } = heatAsset(gid);
    const [x, y] = [150, 112];
    const value = deq(gdalPixel(path, x, y)[1], q); // band 2: shapes
    await v.setInput('opacity', '1', 'input');
    await v.centerOn(x + 0.5, y + 0.5, 1 / 8);
    await v.idle();
    const [px, py] = await v.imageToPage(x + 0.5, y + 0.5);
    const lut = colormapLut('viridis');
    const k = 3 * lutIndex(value, q.orig_min, q.orig_max);
    const got = await pixelAt(browser, px, py);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(got[c] - lut[k + c]) <= 1, `viridis at ${x},${y} (value ${value}): got ${got}, expected ${[...lut.subarray(k, k + 3)]}`);
    await v.setInput('colormap', 'gray', 'change');
    await v.idle();
    const grey = Math.round(255 * (value - q.orig_min) / (q.orig_max - q.orig_min));
    const gotGrey = await pixelAt(browser, px, py);
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(gotGrey[c] - grey) <= 1, `grey at ${x},${y} (value ${value}): got ${gotGrey}, expected ${grey}`);
    await v.setInput('colormap', 'viridis', 'change');
    await v.setInput('opacity', '0.7', 'input');
    await v.idle();
  });

  test('hover shows the pixel, the CRS coordinates and each stitched channel\'s value as GDAL reads it, dequantized', async () => {
    const v = viewer(browser);
    const gid = firstVideoFrames()[0];
    const { path, q } = heatAsset(gid);
    for (const [x, y] of [[150, 112], [20, 240], [201, 77]]) {
      await v.centerOn(x + 0.5, y + 0.5, 1 / 4);
      await v.idle();
      const [px, py] = await v.imageToPage(x + 0.5, y + 0.5);
      await browser.page.mouse.move(px, py);
      const shown = await browser.page.waitForFunction(([x, y]) => {
        const el = document.querySelector('#hover [data-x]') as HTMLElement | null;
        const shapes = document.querySelector('#hover [data-channel="shapes"]') as HTMLElement | null;
        const bg = document.querySelector('#hover [data-channel="background"]') as HTMLElement | null;
        return el && el.dataset.x === String(x) && el.dataset.y === String(y) && shapes && bg
          ? { shapes: shapes.dataset.value, background: bg.dataset.value, text: document.getElementById('hover')!.textContent } : null;
      }, [x, y]).then((h) => h.jsonValue());
      const gdal = gdalPixel(path, x, y);
      const halfStep = 0.5 * (q.orig_max - q.orig_min) / (q.quant_max - q.quant_min);
      assert.ok(Math.abs(Number(shown!.shapes) - deq(gdal[1], q)) <= halfStep, `shapes at ${x},${y}: ${shown!.shapes} vs GDAL ${deq(gdal[1], q)}`);
      assert.ok(Math.abs(Number(shown!.background) - deq(gdal[0], q)) <= halfStep);
      assert.match(shown!.text!, /EPSG:32618: \d+(\.\d+)?, \d+(\.\d+)?/);
    }
  });

  test('the frame slider and the arrow keys step through the video in time order, keeping the view', async () => {
    const v = viewer(browser);
    const frames = firstVideoFrames();
    await v.centerOn(128, 128, 0.5);
    await v.idle();
    const view = await v.viewState();
    const before = decode(await browser.page.screenshot());
    await v.setInput('frame', '1', 'input');
    await v.idle();
    assert.equal(await v.imageId(), frames[1]);
    assert.deepEqual(await v.viewState(), view);
    const after = decode(await browser.page.screenshot());
    let differ = 0;
    for (let i = 0; i < before.data.length; i++) if (before.data[i] !== after.data[i]) differ++;
    assert.ok(differ > 1000, `the picture changed (${differ} values)`);
    await browser.page.focus('#map');
    await browser.page.keyboard.press('ArrowRight');
    await v.idle();
    assert.equal(await v.imageId(), frames[2]);
    await browser.page.keyboard.press('ArrowRight');
    assert.equal(await v.imageId(), frames[2], 'stops at the last frame');
    await browser.page.keyboard.press('ArrowLeft');
    await v.idle();
    assert.equal(await v.imageId(), frames[1]);
    assert.deepEqual(await v.viewState(), view);
    assert.deepEqual(browser.consoleErrors, []);
  });

  test('on a 4096² x 4 COG the first view reads overviews only and zooming in reads a few tiles, not the file', async () => {
    const v = viewer(browser);
    const url = '/_assets/heat/big_heat.tif';
    const size = statSync(big.heatmap).size;
    await browser.page.setViewportSize({ width: 800, height: 450 });
    await browser.page.goto(bigServer.url);
    await browser.page.evaluate(() => (window as any).__viewer.ready);
    await v.idle();
    const first = bigServer.bytesSent.get(url) ?? 0;
    assert.ok(first > 0 && first < size / 5, `first view fetched ${first} of ${size} bytes`);
    await v.centerOn(3000, 2500, 1);
    await v.idle();
    const zoomed = bigServer.bytesSent.get(url)!;
    assert.ok(zoomed > first, 'zooming in fetched full-resolution tiles');
    assert.ok(zoomed - first < size / 20, `zooming in fetched ${zoomed - first} more of ${size} bytes`);
    const [px, py] = await v.imageToPage(3000.5, 2500.5);
    await browser.page.mouse.move(px, py);
    const shown = await browser.page.waitForFunction(() => {
      const el = document.querySelector('#hover [data-x]') as HTMLElement | null;
      const c = Array.from(document.querySelectorAll('#hover [data-channel]')) as HTMLElement[];
      const world = document.querySelector('#hover [data-world]') as HTMLElement | null;
      return el?.dataset.x === '3000' && c.length === 4 && world ? [...c.map((e) => e.dataset.value), world.dataset.world, world.textContent] : null;
    }).then((h) => h.jsonValue());
    // no georeferencing in the manifest: the heatmap file's own, applied by hand to the hovered point
    const [wx, wy] = shown!.splice(4, 1)[0]!.split(',').map(Number);
    const text = shown!.splice(4, 1)[0]!;
    const [x0, px0, , y0, , py0] = HEAT_GEO.gdal;
    assert.ok(Math.abs(wx - (x0 + px0 * 3000.5)) < 1e-6 && Math.abs(wy - (y0 + py0 * 2500.5)) < 1e-6, `world ${wx}, ${wy}`);
    assert.match(text, /^EPSG:32631: .* \(from _assets\/heat\/big_heat\.tif\)$/);
    const halfStep = 0.5 * (QUANT.orig_max - QUANT.orig_min) / (QUANT.quant_max - QUANT.quant_min);
    shown!.forEach((s, b) => {
      const expected = deq(heatValue(3000, 2500, b), QUANT);
      assert.ok(Math.abs(Number(s) - expected) <= halfStep, `band ${b}: ${s} vs ${expected}`);
    });
    assert.ok(bigServer.bytesSent.get(url)! - first < size / 20);
    assert.deepEqual(await v.problems(), []);
  });

  test('nodata is transparent: the imagery shows through where the heatmap has nodata, not elsewhere', async () => {
    const v = viewer(browser);
    await v.centerOn(256, 256, 1);
    await v.idle();
    const inNodata = await v.imageToPage(100.5, 60.5);
    const inData = await v.imageToPage(400.5, 400.5);
    const withHeat = [await pixelAt(browser, ...inNodata), await pixelAt(browser, ...inData)];
    await browser.page.evaluate(() => { (document.getElementById('show-heatmap') as HTMLInputElement).checked = false; document.getElementById('show-heatmap')!.dispatchEvent(new Event('change')); });
    await v.idle();
    const without = [await pixelAt(browser, ...inNodata), await pixelAt(browser, ...inData)];
    assert.deepEqual(withHeat[0], without[0], 'nodata pixel: the same imagery colour with and without the heatmap');
    assert.notDeepEqual(withHeat[1], without[1], 'valid pixel: the heatmap changes the colour');
    await browser.page.evaluate(() => { (document.getElementById('show-heatmap') as HTMLInputElement).checked = true; document.getElementById('show-heatmap')!.dispatchEvent(new Event('change')); });
    await v.idle();
  });

  test('a missing or unreadable asset gets a message naming it, and the imagery is still drawn', async () => {
    const v = viewer(browser);
    for (const [k, name] of [[1, 'missing.tif'], [2, 'garbage.tif']] as const) {
      await browser.page.evaluate((k) => (window as any).__viewer.showGroup(k), k);
      await v.idle();
      const problems = await v.problems();
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.match(problems[0], new RegExp(`stitched channel c3 \\(_assets/heat/${name}\\): cannot read /_assets/heat/${name}`));
      const shown = await browser.page.evaluate(() => (document.getElementById('problems-panel') as HTMLElement).hidden);
      assert.equal(shown, false);
      const layers = await browser.page.evaluate(() => (window as any).__viewer.map.getLayers().getLength());
      assert.equal(layers, 2, 'imagery and outlines');
    }
  });

  test('a stitched PNG asset (uint8 quantization) placed at scale 8 is drawn and hovered with its dequantized values', async () => {
    const v = viewer(browser);
    await browser.page.evaluate(() => (window as any).__viewer.showGroup(3));
    await v.idle();
    assert.deepEqual(await v.problems(), []);
    assert.equal(await browser.page.evaluate(() => (window as any).__viewer.map.getLayers().getLength()), 3);
    for (const [x, y] of [[1000, 2000], [4095, 7], [70, 60]]) {
      await v.centerOn(x + 0.5, y + 0.5, 1);
      await v.idle();
      const [px, py] = await v.imageToPage(x + 0.5, y + 0.5);
      await browser.page.mouse.move(px, py);
      const shown = await browser.page.waitForFunction(([x, y]) => {
        const el = document.querySelector('#hover [data-x]') as HTMLElement | null;
        const c = document.querySelector('#hover [data-channel="p0"]') as HTMLElement | null;
        return el?.dataset.x === String(x) && el.dataset.y === String(y) && c ? c.textContent : null;
      }, [x, y]).then((h) => h.jsonValue());
      const q = pngValue(Math.floor(x / 8), Math.floor(y / 8));
      if (q === PNG_QUANT.nodata) { assert.equal(shown, 'p0: nodata'); continue; }
      const expected = deq(q, PNG_QUANT);
      assert.ok(Math.abs(Number(shown!.slice(4)) - expected) <= 0.5 / 254, `p0 at ${x},${y}: ${shown} vs ${expected}`);
    }
    assert.deepEqual(browser.consoleErrors.filter((e) => !/404/.test(e)), []);
  });
});
