/**
 * One HTTP range request, done carefully: at most `perHost` requests in
 * flight to one host (the rest wait their turn), a timeout that fires when
 * the server sends nothing for `timeoutMs` (so a slow but moving download
 * is not cut, a stalled one is), and retries with exponential backoff on
 * 5xx, 408, 429, connection errors, resets and timeouts. Other 4xx answers
 * are errors at once. Every error names the URL and the byte range.
 *
 * Node's built-in fetch (undici) keeps connections alive per origin.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { ValueError } from '../array/errors.ts';
import { FormatError, IoError } from './errors.ts';

/** Settings of every HTTP read (see `setHttpOptions`). */
export interface HttpOptions {
  /** abort a request when no byte arrived for this long (ms); default 30000 or COCO_STITCHER_HTTP_TIMEOUT_MS */
  timeoutMs: number;
  /** retries after the first attempt; default 3 or COCO_STITCHER_HTTP_RETRIES */
  retries: number;
  /** wait before the first retry (ms), doubled for each next one; default 250 */
  backoffMs: number;
  /** requests in flight to one host at most; default 8 */
  perHost: number;
}

function envNumber(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= 0)) throw new ValueError(`${name} must be a whole number >= 0, got ${JSON.stringify(v)}`);
  return n;
}

let current: HttpOptions | null = null;

/** The HTTP settings in force. */
export function httpOptions(): HttpOptions {
  current ??= {
    timeoutMs: envNumber('COCO_STITCHER_HTTP_TIMEOUT_MS', 30_000),
    retries: envNumber('COCO_STITCHER_HTTP_RETRIES', 3),
    backoffMs: 250,
    perHost: 8,
  };
  return current;
}

/** Changes some HTTP settings for the process (the others keep their values). */
export function setHttpOptions(change: Partial<HttpOptions>): void {
  const next = { ...httpOptions(), ...change };
  for (const [k, v] of Object.entries(next)) {
    const min = k === 'timeoutMs' || k === 'perHost' ? 1 : 0;
    if (!(Number.isInteger(v) && v >= min)) throw new ValueError(`HTTP option ${k} must be a whole number >= ${min}, got ${v}`);
  }
  current = next;
}

/** Bytes and requests every HTTP read of the process has fetched (for benchmarks and tests). */
export const httpStats = { requests: 0, bytes: 0 };

/** A counting semaphore per host. */
const hosts = new Map<string, { active: number; waiting: (() => void)[] }>();

async function acquire(host: string): Promise<() => void> {
  let h = hosts.get(host);
  if (!h) hosts.set(host, h = { active: 0, waiting: [] });
  const slot = h;
  if (slot.active >= httpOptions().perHost) await new Promise<void>((resolve) => slot.waiting.push(resolve));
  else slot.active++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const next = slot.waiting.shift();
    if (next) next(); // the slot passes on
    else slot.active--;
  };
}

/** The answer to a range request. */
export type RangeReply =
  /** 206: `body` holds bytes start..end (inclusive) of a `total`-byte file */
  | { kind: 'partial'; start: number; end: number; total: number; etag: string | null; body: Uint8Array }
  /** 200 (the server ignored Range): the whole file was saved to `file` (only when asked for with `saveFullTo`) */
  | { kind: 'full'; total: number; etag: string | null; file: string }
  /** 416: the range starts past the end of a `total`-byte file */
  | { kind: 'unsatisfiable'; total: number | null };

/** An error worth another attempt (network, timeout, 5xx). */
class Transient extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function describeRange(url: string, start: number, end: number): string {
  return `${url} bytes ${start}..${end + 1}`;
}

/**
 * Requests bytes start..end (inclusive) of `url`. A 200 answer is an error
 * unless `saveFullTo` is given: it names the file the body is then streamed to.
 */
export async function requestRange(url: string, start: number, end: number, saveFullTo?: () => string): Promise<RangeReply> {
  const opts = httpOptions();
  let host: string;
  try {
    host = new URL(url).host;
  } catch (err) {
    throw new IoError(`${JSON.stringify(url)} is not a valid URL (expected http://host/path or https://host/path)`, url, { cause: err });
  }
  const where = describeRange(url, start, end);
  for (let attempt = 0; ; attempt++) {
    const release = await acquire(host);
    try {
      return await attemptRange(url, start, end, where, opts.timeoutMs, saveFullTo);
    } catch (err) {
      if (!(err instanceof Transient)) throw err;
      if (attempt >= opts.retries) {
        throw new IoError(`cannot read ${where}: ${err.message}${opts.retries ? ` (after ${opts.retries + 1} attempts)` : ''}`, url, { cause: err.cause ?? err });
      }
    } finally {
      release();
    }
    await sleep(opts.backoffMs * 2 ** attempt);
  }
}

function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused (is the server running?)';
  if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ''}`;
  return cause?.message ?? (err as Error)?.message ?? String(err);
}

function parseContentRange(v: string | null): { start: number; end: number; total: number } | { total: number | null } | null {
  if (!v) return null;
  let m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/i.exec(v.trim());
  if (m) return { start: Number(m[1]), end: Number(m[2]), total: m[3] === '*' ? NaN : Number(m[3]) };
  m = /^bytes \*\/(\d+)$/i.exec(v.trim());
  if (m) return { total: Number(m[1]) };
  return null;
}

async function attemptRange(url: string, start: number, end: number, where: string, timeoutMs: number, saveFullTo?: () => string): Promise<RangeReply> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; controller.abort(); }, timeoutMs);
  const stalled = () => new Transient(`no answer for ${timeoutMs} ms (timeout)`);
  try {
    let res: Response;
    try {
      httpStats.requests++;
      res = await fetch(url, {
        headers: { Range: `bytes=${start}-${end}`, 'Accept-Encoding': 'identity' },
        signal: controller.signal, redirect: 'follow',
      });
    } catch (err) {
      if (timedOut) throw stalled();
      // fetch's network failures carry a cause; a request it refuses to make (say, credentials in the URL) does not
      if (!(err as { cause?: unknown })?.cause) throw new IoError(`cannot read ${where}: ${(err as Error)?.message ?? String(err)}`, url, { cause: err });
      throw new Transient(networkReason(err), { cause: err });
    }
    timer.refresh();
    const etag = res.headers.get('etag');
    const cr = parseContentRange(res.headers.get('content-range'));
    if (res.status === 206) {
      if (!cr || !('start' in cr)) {
        await res.body?.cancel().catch(() => {});
        throw new IoError(`cannot read ${where}: the server answered 206 without a valid Content-Range (${JSON.stringify(res.headers.get('content-range'))})`, url);
      }
      if (cr.start !== start || cr.end < cr.start || cr.end > end) {
        await res.body?.cancel().catch(() => {});
        throw new IoError(`cannot read ${where}: the server sent bytes ${cr.start}..${cr.end + 1} instead`, url);
      }
      const want = cr.end - cr.start + 1;
      const body = new Uint8Array(want);
      let got = 0;
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          timer.refresh();
          if (got + chunk.byteLength > want) throw new IoError(`cannot read ${where}: the server sent more than the ${want} bytes of its Content-Range`, url);
          body.set(chunk, got);
          got += chunk.byteLength;
        }
      } catch (err) {
        if (err instanceof IoError) throw err;
        if (timedOut) throw stalled();
        throw new Transient(`the connection broke after ${got} of ${want} bytes: ${networkReason(err)}`, { cause: err });
      }
      httpStats.bytes += got;
      if (got < want) {
        throw new FormatError(`${url} is truncated: bytes ${start}..${cr.end + 1} came back with only ${got} bytes`, url);
      }
      return { kind: 'partial', start: cr.start, end: cr.end, total: cr.total, etag, body };
    }
    if (res.status === 200 && saveFullTo !== undefined) {
      const file = saveFullTo();
      const out = createWriteStream(file);
      let got = 0;
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          timer.refresh();
          got += chunk.byteLength;
          if (!out.write(chunk)) await once(out, 'drain');
        }
        out.end();
        await once(out, 'finish');
      } catch (err) {
        out.destroy();
        if (timedOut) throw stalled();
        throw new Transient(`the download broke after ${got} bytes: ${networkReason(err)}`, { cause: err });
      }
      httpStats.bytes += got;
      const declared = Number(res.headers.get('content-length') ?? NaN);
      if (Number.isFinite(declared) && declared !== got) {
        throw new FormatError(`${url} is truncated: the server declared ${declared} bytes and sent ${got}`, url);
      }
      return { kind: 'full', total: got, etag, file };
    }
    await res.body?.cancel().catch(() => {});
    if (res.status === 200) {
      throw new IoError(`cannot read ${where}: the server ignores Range requests (answered 200 with the whole file)`, url);
    }
    if (res.status === 416) return { kind: 'unsatisfiable', total: cr && !('start' in cr) ? cr.total : null };
    if (res.status >= 500 || res.status === 408 || res.status === 429) throw new Transient(`HTTP ${res.status} ${res.statusText}`);
    throw new IoError(`cannot read ${url}: HTTP ${res.status} ${res.statusText}${res.status === 404 ? ' (no such file on the server)' : ''}`, url);
  } finally {
    clearTimeout(timer);
  }
}
