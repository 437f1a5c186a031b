/**
 * Sends one file with what a COG reader needs: single byte ranges (206, or
 * 416 with the size when unsatisfiable), a strong ETag from size and mtime
 * (If-None-Match -> 304, If-Range), Last-Modified, and `Cache-Control:
 * no-cache` so the browser keeps bytes but asks again after a rerun
 * rewrote the file. Several ranges in one request get the whole file (200),
 * which HTTP allows.
 */
import { createReadStream, type Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { pipeline } from 'node:stream/promises';

const TYPES: Record<string, string> = {
  '.tif': 'image/tiff', '.tiff': 'image/tiff', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg',
  '.json': 'application/json', '.zip': 'application/zip', '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json',
};

export function contentType(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

export function etagOf(st: Stats): string {
  return `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
}

/** Parses one `bytes=a-b` / `a-` / `-n` range against `size`: the inclusive span, 'unsatisfiable', or null to send everything. */
export function parseRange(header: string, size: number): [number, number] | 'unsatisfiable' | null {
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header.trim());
  if (!m) return null;
  const [, a, b] = m;
  if (a === '' && b === '') return null;
  let start: number;
  let end: number;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
    if (b !== '' && Number(b) < start) return null;
  }
  if (start >= size || size === 0) return 'unsatisfiable';
  return [start, end];
}

/** Sends `path`; `count` hears how many body bytes are about to go out (before they do, so counts never lag the client). */
export async function sendFile(req: IncomingMessage, res: ServerResponse, path: string, st: Stats, count: (bytes: number) => void = () => {}): Promise<number> {
  const etag = etagOf(st);
  res.setHeader('ETag', etag);
  res.setHeader('Last-Modified', st.mtime.toUTCString());
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', contentType(path));
  const inm = req.headers['if-none-match'];
  if (inm && inm.split(',').some((t) => t.trim() === etag || t.trim() === `W/${etag}` || t.trim() === '*')) {
    res.writeHead(304).end();
    return 304;
  }
  let span: [number, number] | null = null;
  const rangeHeader = req.headers.range;
  const ifRange = req.headers['if-range'];
  if (rangeHeader && (!ifRange || ifRange === etag)) {
    const r = parseRange(rangeHeader, st.size);
    if (r === 'unsatisfiable') {
      res.setHeader('Content-Range', `bytes */${st.size}`);
      res.writeHead(416).end();
      return 416;
    }
    span = r;
  }
  const [start, end] = span ?? [0, st.size - 1];
  const length = st.size === 0 ? 0 : end - start + 1;
  res.setHeader('Content-Length', String(length));
  if (span) res.setHeader('Content-Range', `bytes ${start}-${end}/${st.size}`);
  const status = span ? 206 : 200;
  res.writeHead(status);
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return status;
  }
  count(length);
  await pipeline(createReadStream(path, { start, end }), res);
  return status;
}
