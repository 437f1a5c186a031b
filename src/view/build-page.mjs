// Bundles the viewer's page (src/view/page) into dist/view/static with
// esbuild: one app.js (OpenLayers and geotiff.js inside, nothing from a
// CDN), app.css (OpenLayers' styles and ours) and index.html.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const page = join(here, 'page');
const out = join(here, '..', '..', 'dist', 'view', 'static');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(page, 'main.ts') },
  bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
  minify: true, sourcemap: false, outdir: out, logLevel: 'warning', legalComments: 'none',
});
await build({ entryPoints: { app: join(page, 'page.css') }, bundle: true, minify: true, outdir: out, logLevel: 'warning' });
copyFileSync(join(page, 'index.html'), join(out, 'index.html'));
