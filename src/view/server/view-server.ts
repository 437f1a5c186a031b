/**
 * The viewer's local HTTP server. It sends the page (from the package), a
 * description of the bundle (`/__view__/dataset.json`: the manifest as
 * loaded plus the URL of each listed file), and the manifest and the files
 * it lists at their paths relative to the bundle folder. Anything else is
 * 404: unlisted files, `..` in any spelling, and listed paths that resolve
 * (through symlinks) outside the bundle.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { CocoDataset } from '../../coco/dataset.ts';
import { listBundleFiles, type BundleFiles } from './bundle-files.ts';
import { requestPath } from './url-path.ts';
import { sendFile } from './send-file.ts';
import { PAGE_FILES, staticDir } from './static-dir.ts';

export interface ViewServerOptions {
  /** the manifest (.kwcoco.json, .json or .kwcoco.zip) */
  manifest: string;
  /** 0 picks a free port */
  port?: number;
  host?: string;
}

export interface ViewServer {
  url: string;
  port: number;
  host: string;
  files: BundleFiles;
  /** bytes of file bodies sent, by URL path (page files included) */
  bytesSent: Map<string, number>;
  /** requests that sent a body, by URL path */
  requests: Map<string, number>;
  close(): Promise<void>;
}

function notFound(res: ServerResponse, what: string): void {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`404: ${what} is not served (only the manifest and the files it lists, inside the bundle folder)\n`);
}

export async function startViewServer(options: ViewServerOptions): Promise<ViewServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`port ${port} is not an integer in 0..65535`);
  }
  const pageDir = staticDir();
  const ds = await CocoDataset.load(options.manifest);
  const files = listBundleFiles(ds, options.manifest);
  const realRoot = await realpath(files.root);
  const description = Buffer.from(JSON.stringify({
    manifestUrl: files.manifestUrl,
    dataset: ds.dataset,
    urlOf: files.urlOf,
  }));
  const bytesSent = new Map<string, number>();
  const requests = new Map<string, number>();
  const count = (path: string, n: number) => {
    bytesSent.set(path, (bytesSent.get(path) ?? 0) + n);
    requests.set(path, (requests.get(path) ?? 0) + 1);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('405: only GET and HEAD\n');
      return;
    }
    const path = requestPath(req.url ?? '');
    if (path === null) { notFound(res, 'this path'); return; }
    if (path === '/' || path.startsWith('/__view__/')) {
      const name = path === '/' ? 'index.html' : path.slice('/__view__/'.length);
      if (name === 'dataset.json') {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Content-Length': description.length });
        res.end(req.method === 'HEAD' ? undefined : description);
        return;
      }
      if (!(PAGE_FILES as readonly string[]).includes(name)) { notFound(res, path); return; }
      const file = join(pageDir, name);
      await sendFile(req, res, file, await stat(file), (n) => count(path, n));
      return;
    }
    const abs = files.byUrl.get(path);
    if (abs === undefined) { notFound(res, path); return; }
    let real: string;
    try {
      real = await realpath(abs);
    } catch {
      notFound(res, `${path} (missing on disk)`);
      return;
    }
    if (!real.startsWith(realRoot + sep)) { notFound(res, `${path} (it resolves outside the bundle)`); return; }
    const st = await stat(real);
    if (!st.isFile()) { notFound(res, `${path} (not a file)`); return; }
    await sendFile(req, res, real, st, (n) => count(path, n));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`500: ${err.message}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) => fail(new Error(`cannot listen on ${host}:${port}: ${err.code ?? err.message}`)));
    server.listen(port, host, () => ok());
  });
  const addr = server.address() as AddressInfo;
  const urlHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${urlHost}:${addr.port}/`,
    port: addr.port,
    host,
    files,
    bytesSent,
    requests,
    close: () => new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}
