/**
 * Where the built page is: dist/view/static, made by `npm run build`
 * (src/view/build-page.mjs bundles src/view/page with esbuild). Found from
 * this module whether it runs from dist/ or, under tsx, from src/.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PAGE_FILES = ['index.html', 'app.js', 'app.css'] as const;

export function staticDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../static'), resolve(here, '../../../dist/view/static')];
  for (const dir of candidates) if (existsSync(join(dir, 'app.js'))) return dir;
  throw new Error(`the viewer's page is not built (looked for app.js in ${candidates.join(' and ')}); run npm run build`);
}
