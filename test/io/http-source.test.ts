/**
 * Reading rasters over HTTP range requests from a real nginx on loopback:
 * the pixels equal those read from the same file on disk, a window of a
 * large COG fetches a small part of it (counted in nginx's access log), and
 * every fault a server can show (down, 404, 503, truncated file, stalled,
 * Range ignored) ends in a clear error naming the URL, or, for a server
 * that ignores Range, in a whole-file download that reads the same pixels.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { Raster } from '../../src/array/raster.ts';
import { slice, type Slice } from '../../src/array/slices.ts';
import { writeCog } from '../../src/io/cog/write-cog.ts';
import { writePng } from '../../src/io/png.ts';
import { openRaster, readRaster } from '../../src/io/read-raster.ts';
import { FormatError, IoError } from '../../src/io/errors.ts';
import { httpOptions, setHttpOptions } from '../../src/io/http-request.ts';
import { setMemoryBudget } from '../../src/array/memory-budget.ts';
import { MemoryBudgetError } from '../../src/array/errors.ts';
import { readTiffLayout, checkCogLayout } from '../../src/io/tiff-layout.ts';
import { RasterFileCache } from '../../src/io/raster-file-cache.ts';
import { RemoteFileChangedError } from '../../src/io/tiff-read/http-source.ts';
import { freePort, nginxMissing, startNginx, type Nginx } from '../helpers/nginx.ts';

const SIZE = 2048;
const skip = nginxMissing() ?? false;

/** A 2048² uint16 COG of noisy texture (so tiles do not compress to nothing), 256 px tiles. */
async function writeTestCog(path: string): Promise<void> {
  let seed = 7;
  await writeCog(path, {
    height: SIZE, width: SIZE, bands: 1, dtype: 'uint16',
    readBlock: (y0, x0, h, w) => {
      const r = Raster.zeros([h, w, 1], 'uint16');
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
          r.data[y * w + x] = seed >>> 16;
        }
      }
      return r;
    },
  }, { blocksize: 256, overviews: 2 });
}

function sameRaster(a: Raster, b: Raster): void {
  assert.deepEqual(a.shape, b.shape);
  assert.equal(a.dtype, b.dtype);
  assert.ok(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength)
    .equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength)), 'pixels differ');
}

describe('raster reading over HTTP (nginx)', { skip }, () => {
  let nginx: Nginx;
  let cogPath: string;
  const saved = { ...httpOptions() };

  before(async () => {
    nginx = await startNginx();
    cogPath = join(nginx.root, 'scene.tif');
    await writeTestCog(cogPath);
    mkdirSync(join(nginx.root, 'norange'));
    copyFileSync(cogPath, join(nginx.root, 'norange', 'scene.tif'));
    mkdirSync(join(nginx.root, 'flaky'));
    copyFileSync(cogPath, join(nginx.root, 'flaky', 'scene.tif'));
    // cut in the middle of the full-resolution tiles: header and overviews intact
    const bytes = readFileSync(cogPath);
    writeFileSync(join(nginx.root, 'truncated.tif'), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const png = Raster.zeros([40, 50, 3], 'uint8');
    for (let i = 0; i < png.data.length; i++) png.data[i] = (i * 37) & 255;
    await writePng(join(nginx.root, 'small.png'), png);
    const noisy = Raster.zeros([300, 300, 3], 'uint8');
    let seed = 3;
    for (let i = 0; i < noisy.data.length; i++) noisy.data[i] = (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    await writePng(join(nginx.root, 'big.png'), noisy);
  });
  after(async () => {
    setHttpOptions(saved);
    await nginx?.stop();
  });

  it('reads a window as the local file reads it, fetching a small part of the file', async () => {
    const win = [slice(700, 956), slice(1100, 1356)] as const;
    const local = await readRaster(cogPath, { window: [...win] });
    nginx.clearLog();
    for (const url of [`${nginx.url}/scene.tif`, `/vsicurl/${nginx.url}/scene.tif`]) {
      const remote = await readRaster(url, { window: [...win] });
      sameRaster(remote.raster, local.raster);
      assert.deepEqual(remote.transform, local.transform);
      assert.equal(remote.epsg, local.epsg);
    }
    const log = nginx.log();
    const served = log.reduce((n, l) => n + l.bytes, 0) / 2; // two opens
    const fileSize = statSync(cogPath).size;
    assert.ok(log.every((l) => l.status === 206 && l.uri === '/scene.tif'), JSON.stringify(log));
    // the window touches 2x2 of the 64 tiles: nginx sent the 64 KiB header block and those
    // tiles (each row's two as one range, with the 8 bytes of size trailer and leader between)
    const full = (await readTiffLayout(cogPath)).ifds[0];
    let tiles = 0;
    for (const ty of [2, 3]) for (const tx of [4, 5]) tiles += full.dataByteCounts[ty * 8 + tx];
    assert.equal(served, 65536 + tiles + 2 * 8);
    assert.ok(served < fileSize * 0.07, `served ${served} of ${fileSize} bytes`);
    // one request for the header and IFDs, then the tiles (two tile rows: two requests)
    assert.ok(log.length / 2 <= 4, `${log.length / 2} requests per read: ${JSON.stringify(log)}`);
  });

  it('reads the whole image, an overview, and a PNG as on disk', async () => {
    const f = await openRaster(`${nginx.url}/scene.tif`);
    const g = await openRaster(cogPath);
    try {
      sameRaster(await f.read(), await g.read());
      sameRaster(await f.read({ overview: 1 }), await g.read({ overview: 1 }));
      assert.deepEqual(f.overviews, g.overviews);
    } finally {
      await f.close();
      await g.close();
    }
    sameRaster((await readRaster(`${nginx.url}/small.png`)).raster, (await readRaster(join(nginx.root, 'small.png'))).raster);
  });

  it('a PNG over HTTP larger than the memory budget is refused before it is fetched', async () => {
    setMemoryBudget(100_000); // the PNG has 270 kB
    nginx.clearLog();
    try {
      await assert.rejects(readRaster(`${nginx.url}/big.png`), (err: Error) =>
        err instanceof MemoryBudgetError && err.message.includes(`${nginx.url}/big.png`));
    } finally {
      setMemoryBudget(undefined);
    }
    assert.equal(nginx.log().length, 1, 'only the first block was fetched');
  });

  it('keeps at most perHost requests in flight to one host', async () => {
    // a plain node server answering ranges of a buffer after 200 ms, counting open requests
    const body = readFileSync(cogPath);
    let open = 0, most = 0;
    const srv = createServer((req, res) => {
      open++; most = Math.max(most, open);
      const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '')!;
      const a = Number(m[1]), b = Math.min(Number(m[2]), body.length - 1);
      setTimeout(() => {
        res.writeHead(206, { 'Content-Range': `bytes ${a}-${b}/${body.length}`, 'Content-Length': b - a + 1 });
        res.end(body.subarray(a, b + 1), () => { open--; });
      }, 200);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}/scene.tif`;
    setHttpOptions({ perHost: 3 });
    try {
      // 8 x 8 tiles, one group per tile row of the window: 8 reads at once, each through the bound
      const f = await openRaster(url);
      const win = [slice(0, SIZE), slice(0, SIZE)] as [Slice, Slice];
      sameRaster(await f.read({ window: win }), (await readRaster(cogPath, { window: win })).raster);
      await f.close();
      // 8 row reads wanted at once: never more than 3 in flight (and more than one, so the bound was reached for real)
      assert.ok(most <= 3 && most >= 2, `at most ${most} in flight`);
    } finally {
      setHttpOptions(saved);
      srv.closeAllConnections();
      await new Promise((r) => srv.close(r));
    }
  });

  it('inspects the COG layout over HTTP as on disk', async () => {
    const remote = await readTiffLayout(`${nginx.url}/scene.tif`);
    assert.deepEqual(remote, await readTiffLayout(cogPath));
    assert.deepEqual(checkCogLayout(remote), []);
  });

  it('merges adjacent tiles of a window row into one request', async () => {
    nginx.clearLog();
    // 4 tiles across, one tile row: one request for the header block, one for the row
    const r = await readRaster(`${nginx.url}/scene.tif`, { window: [slice(1024, 1100), slice(0, 1024)] });
    assert.deepEqual(r.raster.shape, [76, 1024, 1]);
    assert.equal(nginx.log().length, 2, JSON.stringify(nginx.log()));
  });

  it('a file replaced on the server: one error saying so, then the open-file cache reads the new file', async () => {
    const path = join(nginx.root, 'changing.tif');
    copyFileSync(cogPath, path);
    const url = `${nginx.url}/changing.tif`;
    const cache = new RasterFileCache();
    const win = [slice(0, 256), slice(0, 256)] as [Slice, Slice];
    const first = await cache.use(url, (f) => f.read({ window: win }));
    sameRaster(first, (await readRaster(cogPath, { window: win })).raster);
    const other = join(nginx.root, 'other.tif');
    await writeCog(other, Raster.full([300, 200, 1], 5, 'uint16'), { blocksize: 128 });
    copyFileSync(other, path);
    await assert.rejects(cache.use(url, (f) => f.read({ window: win })), (err: Error) =>
      err instanceof RemoteFileChangedError && err.message.includes(url));
    const again = await cache.use(url, (f) => f.read({ window: [slice(0, 10), slice(0, 10)] }));
    assert.deepEqual(Array.from(again.data), new Array(100).fill(5));
    await cache.closeAll();
  });

  it('a malformed URL, or one the client will not request, is an error at once', async () => {
    setHttpOptions({ retries: 3, backoffMs: 1000 });
    try {
      const t = performance.now();
      await assert.rejects(openRaster('http://[bad/scene.tif'), (err: Error) => err instanceof IoError && /not a valid URL/.test(err.message) && err.message.includes('http://[bad/scene.tif'));
      await assert.rejects(openRaster(`http://user:pw@127.0.0.1:${nginx.port}/scene.tif`), (err: Error) => err instanceof IoError && err.message.includes('user:pw@127.0.0.1'));
      assert.ok(performance.now() - t < 900, 'no retries');
    } finally {
      setHttpOptions(saved);
    }
  });

  it('404: a clear error naming the URL, no retries', async () => {
    nginx.clearLog();
    await assert.rejects(openRaster(`${nginx.url}/missing.tif`), (err: Error) =>
      err instanceof IoError && err.message.includes(`${nginx.url}/missing.tif`) && /HTTP 404/.test(err.message));
    assert.equal(nginx.log().length, 1);
  });

  it('503: retried with backoff, then an error naming the URL and the status', async () => {
    setHttpOptions({ retries: 2, backoffMs: 20 });
    nginx.clearLog();
    const t = performance.now();
    await assert.rejects(openRaster(`${nginx.url}/flaky/scene.tif`), (err: Error) =>
      err instanceof IoError && err.message.includes(`${nginx.url}/flaky/scene.tif`) && /HTTP 503/.test(err.message) && /3 attempts/.test(err.message));
    assert.equal(nginx.log().length, 3);
    assert.ok(performance.now() - t >= 20 + 40, 'backoff waits 20 then 40 ms');
    setHttpOptions(saved);
  });

  it('server down: connection refused is an error naming the URL, without a hang', async () => {
    setHttpOptions({ retries: 1, backoffMs: 10 });
    const port = await freePort();
    await assert.rejects(openRaster(`http://127.0.0.1:${port}/scene.tif`), (err: Error) =>
      err instanceof IoError && err.message.includes(`http://127.0.0.1:${port}/scene.tif`) && /connection refused/.test(err.message));
    setHttpOptions(saved);
  });

  it('a server that never answers times out, naming the URL', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const silent: Server = createServer(() => { /* never answers */ });
    silent.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    setHttpOptions({ timeoutMs: 200, retries: 1, backoffMs: 10 });
    try {
      const t = performance.now();
      await assert.rejects(openRaster(`http://127.0.0.1:${port}/scene.tif`), (err: Error) =>
        err instanceof IoError && err.message.includes(`http://127.0.0.1:${port}/scene.tif`) && /timeout/.test(err.message));
      assert.ok(performance.now() - t < 5000);
    } finally {
      setHttpOptions(saved);
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('a slow but moving download (nginx limit_rate) is not cut by the idle timeout', async () => {
    copyFileSync(cogPath, join(mkdirOnce(join(nginx.root, 'slow')), 'scene.tif'));
    // nginx sends 16 KiB bursts a second apart: the 64 KiB header block takes about 4 s, past the
    // 2.5 s timeout, which counts only silence
    setHttpOptions({ timeoutMs: 2500, retries: 0 });
    const t = performance.now();
    try {
      const f = await openRaster(`${nginx.url}/slow/scene.tif`);
      await f.close();
    } finally {
      setHttpOptions(saved);
    }
    assert.ok(performance.now() - t > 2500, 'the rate limit was in force');
  });

  it('a truncated file is a FormatError naming the URL and the byte range', async () => {
    const f = await openRaster(`${nginx.url}/truncated.tif`);
    try {
      await f.read({ overview: 1 }); // its data lies before the cut
      await assert.rejects(f.read({ window: [slice(SIZE - 256, SIZE), slice(SIZE - 256, SIZE)] }), (err: Error) =>
        err instanceof FormatError && err.message.includes(`${nginx.url}/truncated.tif`) && /needs bytes \d+\.\.\d+/.test(err.message));
    } finally {
      await f.close();
    }
  });

  it('a server that ignores Range: the file is downloaded once, with a warning, and reads the same', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const before = tempDownloads();
    try {
      const win = [slice(0, 300), slice(500, 800)] as [Slice, Slice];
      const f = await openRaster(`${nginx.url}/norange/scene.tif`);
      sameRaster(await f.read({ window: win }), (await readRaster(cogPath, { window: win })).raster);
      assert.equal(tempDownloads().length, before.length + 1);
      await f.close();
      assert.equal(tempDownloads().length, before.length, 'the download is removed at close');
      await new Promise((r) => setImmediate(r));
      assert.ok(warnings.some((w) => w.includes('ignores Range') && w.includes('/norange/scene.tif')), JSON.stringify(warnings));
    } finally {
      process.off('warning', onWarning);
    }
  });
});

function mkdirOnce(dir: string): string {
  if (!existsSync(dir)) mkdirSync(dir);
  return dir;
}

function tempDownloads(): string[] {
  return readdirSync(tmpdir()).filter((n) => n.startsWith('coco-stitcher-http-'));
}
