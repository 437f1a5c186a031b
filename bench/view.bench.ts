/**
 * The viewer's first paint: a 4096² x 4 int16 COG heatmap (DEFLATE,
 * predictor 2, 128 px tiles, overviews down to one tile) over 4096² x 3
 * uint8 imagery, opened in Debian's Chromium (playwright-core, headless, a
 * fresh profile per run so nothing is cached) through `coco-stitcher view`'s
 * server. Reported per run (the page's main-thread busy time, from the
 * DevTools protocol, is less sensitive to a loaded machine than wall time): time from navigation to the first complete
 * render of both layers (the page's own `rendercomplete`), bytes the server
 * sent for each file against its size, then the same after zooming to full
 * resolution at the centre. The reference in the same run: downloading both
 * files whole from the same server with node's fetch.
 *
 *   npm run bench -- view        (VIEW_RUNS=3 by default)
 */
import { statSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLargeBundle } from '../test/helpers/view-bundle.ts';
import { browserSkipReason, openBrowser } from '../test/helpers/browser.ts';
import { startViewServer } from '../src/view/server/view-server.ts';

const RUNS = Number(process.env.VIEW_RUNS ?? 3);
const skip = browserSkipReason();
if (skip) {
  console.log(`skipped: ${skip}`);
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'coco-view-bench-'));
try {
  const t0 = performance.now();
  const bundle = await makeLargeBundle(dir, 4096, 1);
  console.log(`bundle written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const heatSize = statSync(bundle.heatmap).size;
  const imgSize = statSync(bundle.imagery).size;
  const server = await startViewServer({ manifest: bundle.manifest, port: 0 });
  const heatUrl = '/_assets/heat/big_heat.tif';
  const imgUrl = '/imagery.tif';
  const mb = (n: number) => (n / 1e6).toFixed(2);
  const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(1)}%`;
  console.log(`heatmap ${mb(heatSize)} MB, imagery ${mb(imgSize)} MB; viewport 1280x800`);
  console.log('| run | first paint ms | page main-thread busy ms | heatmap bytes (of file) | imagery bytes (of file) | zoom to full res ms | heatmap bytes after zoom | imagery bytes after zoom |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (let run = 1; run <= RUNS; run++) {
    server.bytesSent.clear();
    server.requests.clear();
    const b = await openBrowser(1280, 800);
    try {
      const cdp = await b.context.newCDPSession(b.page);
      await cdp.send('Performance.enable');
      await b.page.goto(server.url);
      await b.page.evaluate(() => (window as any).__viewer.ready);
      await b.page.evaluate(() => (window as any).__viewer.idle());
      const paint = await b.page.evaluate(() => (window as any).__viewer.firstPaintMs as number);
      const { metrics } = await cdp.send('Performance.getMetrics');
      const taskMs = 1000 * (metrics.find((m) => m.name === 'TaskDuration')?.value ?? NaN);
      const heat1 = server.bytesSent.get(heatUrl) ?? 0;
      const req1 = server.requests.get(heatUrl) ?? 0;
      const img1 = server.bytesSent.get(imgUrl) ?? 0;
      const z0 = performance.now();
      await b.page.evaluate(() => { (window as any).__viewer.centerOn(2048, 2048, 1); return (window as any).__viewer.idle(); });
      const zoom = performance.now() - z0;
      const heat2 = server.bytesSent.get(heatUrl) ?? 0;
      const img2 = server.bytesSent.get(imgUrl) ?? 0;
      if (b.consoleErrors.length) console.log(`console errors: ${b.consoleErrors.join('; ')}`);
      console.log(`| ${run} | ${paint.toFixed(0)} | ${taskMs.toFixed(0)} | ${mb(heat1)} MB (${pct(heat1, heatSize)}) in ${req1} requests | ${mb(img1)} MB (${pct(img1, imgSize)}) | ${zoom.toFixed(0)} | ${mb(heat2)} MB (${pct(heat2, heatSize)}) | ${mb(img2)} MB (${pct(img2, imgSize)}) |`);
    } finally {
      await b.close();
    }
  }
  const f0 = performance.now();
  for (const url of [heatUrl, imgUrl]) await (await fetch(new URL(url, server.url))).arrayBuffer();
  console.log(`reference: both files downloaded whole from the same server in ${(performance.now() - f0).toFixed(0)} ms (${mb(heatSize + imgSize)} MB)`);
  await server.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
