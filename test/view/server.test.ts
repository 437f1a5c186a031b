/**
 * The viewer's server through node's own HTTP client: only the manifest and
 * the files it lists are served, each at its bundle-relative path, with
 * byte ranges (206/416), ETag revalidation (304) and If-Range; `..` in any
 * spelling, unlisted files, symlinks that lead out of the bundle and files
 * outside the bundle are 404. Needs dist/view/static (npm run build).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../helpers/scratch.ts';
import { startViewServer, type ViewServer } from '../../src/view/server/view-server.ts';
import { parseRange } from '../../src/view/server/send-file.ts';
import { requestPath } from '../../src/view/server/url-path.ts';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { runCli } from '../helpers/cli.ts';

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

function get(server: ViewServer, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', fail);
    req.end();
  });
}

const root = scratchDir('coco-view-server-');
const bundle = join(root, 'bundle');
const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) & 255));
let server: ViewServer;

before(async () => {
  mkdirSync(join(bundle, '_assets', 'sub'), { recursive: true });
  writeFileSync(join(bundle, '_assets', 'a.tif'), data);
  writeFileSync(join(bundle, '_assets', 'sub', 'b c.tif'), 'second');
  writeFileSync(join(bundle, 'unlisted.tif'), 'not listed');
  writeFileSync(join(root, 'outside.tif'), 'secret outside the bundle');
  symlinkSync(join(root, 'outside.tif'), join(bundle, '_assets', 'link-out.tif'));
  symlinkSync(join(bundle, '_assets', 'a.tif'), join(bundle, '_assets', 'link-in.tif'));
  const asset = (file_name: string) => ({ file_name, channels: 'x', width: 1, height: 1, warp_aux_to_img: { type: 'affine' } });
  writeFileSync(join(bundle, 'data.kwcoco.json'), JSON.stringify({
    images: [{
      id: 1, name: 'img', width: 1, height: 1,
      assets: [asset('_assets/a.tif'), asset(join(bundle, '_assets', 'sub', 'b c.tif')), asset('../outside.tif'),
        asset('_assets/link-out.tif'), asset('_assets/link-in.tif'), asset('_assets/missing.tif')],
    }],
  }));
  server = await startViewServer({ manifest: join(bundle, 'data.kwcoco.json'), port: 0 });
});
after(() => server.close());

test('the URL is http://127.0.0.1:PORT/ and the page, its scripts and the bundle description are served', async () => {
  assert.equal(server.url, `http://127.0.0.1:${server.port}/`);
  const page = await get(server, '/');
  assert.equal(page.status, 200);
  assert.match(page.body.toString(), /<script type="module" src="\/__view__\/app.js">/);
  assert.equal((await get(server, '/__view__/app.js')).status, 200);
  const desc = JSON.parse((await get(server, '/__view__/dataset.json')).body.toString());
  assert.equal(desc.manifestUrl, '/data.kwcoco.json');
  assert.equal(desc.urlOf['_assets/a.tif'], '/_assets/a.tif');
  assert.equal(desc.urlOf[join(bundle, '_assets', 'sub', 'b c.tif')], '/_assets/sub/b c.tif');
  assert.equal(desc.urlOf['../outside.tif'], null);
});

test('a listed file comes whole with ETag, Last-Modified, no-cache and Accept-Ranges; the manifest too', async () => {
  const r = await get(server, '/_assets/a.tif');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, data);
  assert.equal(r.headers['content-length'], '1000');
  assert.equal(r.headers['accept-ranges'], 'bytes');
  assert.equal(r.headers['cache-control'], 'no-cache');
  assert.equal(r.headers['content-type'], 'image/tiff');
  assert.match(String(r.headers.etag), /^"[0-9a-f]+-[0-9a-f]+"$/);
  assert.ok(r.headers['last-modified']);
  const m = await get(server, '/data.kwcoco.json');
  assert.equal(m.status, 200);
  assert.equal(JSON.parse(m.body.toString()).images[0].id, 1);
  const spaced = await get(server, '/_assets/sub/b%20c.tif');
  assert.equal(spaced.body.toString(), 'second');
  const head = await get(server, '/_assets/a.tif', {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '1000');
  assert.equal(head.body.length, 0);
});

test('byte ranges: a-b, a-, -n give 206 with Content-Range; past the end gives 416 with the size', async () => {
  const r = await get(server, '/_assets/a.tif', { Range: 'bytes=10-19' });
  assert.equal(r.status, 206);
  assert.equal(r.headers['content-range'], 'bytes 10-19/1000');
  assert.deepEqual(r.body, data.subarray(10, 20));
  const open = await get(server, '/_assets/a.tif', { Range: 'bytes=990-' });
  assert.equal(open.status, 206);
  assert.deepEqual(open.body, data.subarray(990));
  const suffix = await get(server, '/_assets/a.tif', { Range: 'bytes=-5' });
  assert.equal(suffix.headers['content-range'], 'bytes 995-999/1000');
  assert.deepEqual(suffix.body, data.subarray(995));
  const clipped = await get(server, '/_assets/a.tif', { Range: 'bytes=998-5000' });
  assert.equal(clipped.headers['content-range'], 'bytes 998-999/1000');
  const past = await get(server, '/_assets/a.tif', { Range: 'bytes=1000-1010' });
  assert.equal(past.status, 416);
  assert.equal(past.headers['content-range'], 'bytes */1000');
  assert.equal(past.body.length, 0);
  const multi = await get(server, '/_assets/a.tif', { Range: 'bytes=0-1,5-6' });
  assert.equal(multi.status, 200);
  assert.equal(multi.body.length, 1000);
});

test('ETag revalidation: If-None-Match with the ETag gives 304, If-Range with another ETag gives the whole file', async () => {
  const { headers } = await get(server, '/_assets/a.tif');
  const etag = String(headers.etag);
  const again = await get(server, '/_assets/a.tif', { 'If-None-Match': etag });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
  assert.equal((await get(server, '/_assets/a.tif', { 'If-None-Match': '"other"' })).status, 200);
  const stale = await get(server, '/_assets/a.tif', { Range: 'bytes=0-9', 'If-Range': '"other"' });
  assert.equal(stale.status, 200);
  assert.equal(stale.body.length, 1000);
  const fresh = await get(server, '/_assets/a.tif', { Range: 'bytes=0-9', 'If-Range': etag });
  assert.equal(fresh.status, 206);
});

test('paths outside the bundle, unlisted files and symlinks leading out are 404; other methods 405', async () => {
  for (const path of [
    '/../outside.tif', '/%2e%2e/outside.tif', '/%2E%2E/outside.tif', '/_assets/%2e%2e/%2e%2e/outside.tif',
    '/_assets/..%2f..%2foutside.tif', '/_assets/..%5c..%5coutside.tif', '/unlisted.tif', '/_assets/link-out.tif',
    '/_assets/missing.tif', '/outside.tif', '/_assets', '/_assets/a.tif%00', '/%zz', '/__view__/../unlisted.tif',
    '/__view__/other.js', '/./_assets/a.tif',
  ]) {
    const r = await get(server, path);
    assert.equal(r.status, 404, `${path} gave ${r.status}`);
    assert.ok(!r.body.toString().includes('secret'), path);
  }
  assert.equal((await get(server, '/_assets/link-in.tif')).body.length, 1000, 'a symlink inside the bundle is fine');
  assert.equal((await get(server, '/_assets/a.tif', {}, 'POST')).status, 405);
});

test('bytes sent are counted per path', async () => {
  const before = server.bytesSent.get('/_assets/sub/b c.tif') ?? 0;
  await get(server, '/_assets/sub/b%20c.tif', { Range: 'bytes=1-3' });
  assert.equal(server.bytesSent.get('/_assets/sub/b c.tif'), before + 3);
});

test('parseRange and requestPath by hand', () => {
  assert.deepEqual(parseRange('bytes=0-0', 10), [0, 0]);
  assert.deepEqual(parseRange('bytes=-20', 10), [0, 9]);
  assert.equal(parseRange('bytes=-0', 10), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-9', 0), 'unsatisfiable');
  assert.equal(parseRange('bytes=5-2', 10), null);
  assert.equal(parseRange('items=0-2', 10), null);
  assert.equal(requestPath('/a/b%20c.tif?x=1'), '/a/b c.tif');
  assert.equal(requestPath('/a/%2e%2e/b'), null);
  assert.equal(requestPath('/a/%2fetc'), null);
  assert.equal(requestPath('a/b'), null);
});

test('a manifest that does not exist is a clear error, a bad port too', async () => {
  await assert.rejects(startViewServer({ manifest: join(root, 'nope.kwcoco.json'), port: 0 }), /nope\.kwcoco\.json/);
  await assert.rejects(startViewServer({ manifest: join(bundle, 'data.kwcoco.json'), port: 70000 }), /port 70000/);
  await assert.rejects(startViewServer({ manifest: join(bundle, 'data.kwcoco.json'), port: server.port }), /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
});

test('coco-stitcher view prints the URL of a free port with --port 0 and serves until stopped', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'view', join(bundle, 'data.kwcoco.json'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    child.stdout.setEncoding('utf8');
    while (!out.includes('\n')) {
      const [chunk] = await Promise.race([once(child.stdout, 'data'), once(child, 'exit').then(() => { throw new Error('view exited early'); })]);
      out += chunk;
    }
    const m = /^http:\/\/127\.0\.0\.1:(\d+)\/\n$/.exec(out);
    assert.ok(m, `printed ${JSON.stringify(out)}`);
    const port = Number(m[1]);
    assert.ok(port > 0);
    const r = await get({ port } as ViewServer, '/_assets/a.tif', { Range: 'bytes=0-3' });
    assert.equal(r.status, 206);
    assert.deepEqual(r.body, data.subarray(0, 4));
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

test('coco-stitcher view refuses a bad port and a missing manifest with a message', async () => {
  const bad = await runCli(['view', join(bundle, 'data.kwcoco.json'), '--port', 'x']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--port expects an integer in 0\.\.65535 \(0 picks a free port\), got "x"/);
  const missing = await runCli(['view', join(root, 'none.kwcoco.json'), '--port', '0']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /none\.kwcoco\.json/);
});
