/**
 * Reading and writing kwcoco manifest files: `.kwcoco.json` / `.json` text and
 * `.kwcoco.zip` (a zip holding one JSON file, as Python kwcoco writes it).
 *
 * Text is written the way kwcoco's `dumps(newlines=True)` does: the main
 * tables one item per line, Python's `json` separators (`", "`, `": "`), main
 * keys in kwcoco's order and the other keys after them, sorted. Python
 * writes NaN and +-Infinity as bare `NaN` / `Infinity` tokens; both are read
 * and written back the same way, so a round trip keeps them.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { constants as bufferConstants } from 'node:buffer';
import { getHeapStatistics } from 'node:v8';
import { zipSync } from 'fflate';
import { memoryBudgetBytes } from '../array/memory-budget.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { IoError } from '../io/errors.ts';
import { ManifestError } from './errors.ts';
import { unzipManifest } from './manifest-zip.ts';

/** kwcoco's main keys, written first and in this order (`SPEC_KEYS` in coco_dataset.py). */
export const MANIFEST_MAIN_KEYS = Object.freeze(['info', 'licenses', 'categories', 'keypoint_categories', 'videos', 'images', 'annotations']);

/** True when `bytes` start with a zip local file header (`PK\x03\x04`) or an empty-archive record. */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5) && (bytes[3] === 4 || bytes[3] === 6);
}

/** 1-based line and column of character offset `pos` in `text`. */
export function lineColumn(text: string, pos: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < pos; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: pos - lineStart + 1 };
}

/**
 * Manifests nest a few levels (tables, records, polygons); deeper is refused,
 * since code that walks JSON recursively (schema checks, copies, dumps)
 * would overflow the stack on it.
 */
export const MAX_NESTING = 1000;

/**
 * The largest manifest text (bytes) read into memory: an eighth of the
 * memory budget or of V8's heap (a parsed manifest takes several times its
 * text), and at most one string's length.
 */
export function manifestByteLimit(): number {
  const heap = getHeapStatistics().heap_size_limit;
  return Math.floor(Math.min(memoryBudgetBytes() / 8, heap / 8, bufferConstants.MAX_STRING_LENGTH));
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 2 : 0)} MiB`;
}

/**
 * Throws ManifestError naming `source` when `value` nests deeper than
 * MAX_NESTING levels (an explicit stack: the value itself may be deep).
 */
export function checkNesting(value: unknown, source: string): void {
  const stack: [unknown, number, string][] = [[value, 0, '']];
  while (stack.length) {
    const [v, depth, where] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_NESTING) {
      throw new ManifestError(
        `${source}: the manifest nests deeper than ${MAX_NESTING} levels (at ${where.slice(0, 80)}${where.length > 80 ? '...' : ''}); ` +
          'a kwcoco manifest nests a few levels', source);
    }
    const keyed = (k: string) => (where.length > 90 ? where : Array.isArray(v) ? `${where}[${k}]` : `${where}.${k}`);
    for (const k of Object.keys(v)) stack.push([(v as Record<string, unknown>)[k], depth + 1, keyed(k)]);
  }
}

class JsonSyntaxError extends Error {
  constructor(readonly pos: number, message: string) { super(message); }
}

interface NonFinite { pos: number; token: 'NaN' | 'Infinity' | '-Infinity' }

/**
 * Validates `text` as JSON extended with Python's NaN / Infinity / -Infinity
 * tokens. Returns where those tokens are; throws JsonSyntaxError (with the
 * character offset) at the first syntax error. Only used when JSON.parse
 * failed, so speed matters less than a precise position.
 */
function scanJson(text: string): NonFinite[] {
  const n = text.length;
  const found: NonFinite[] = [];
  let i = 0;
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const fail = (msg: string, at = i): never => { throw new JsonSyntaxError(at, msg); };
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const describe = () => (i >= n ? 'end of input' : `${JSON.stringify(text[i])}`);
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= n) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) { i++; return; }
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('bad \\u escape in string');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail(`bad escape \\${e ?? ''} in string`);
        continue;
      }
      if (c < 0x20) fail('control character inside a string (unescaped newline or tab?)');
      i++;
    }
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) { i += word.length; return true; }
    return false;
  };
  const value = (depth: number): void => {
    if (depth > MAX_NESTING) fail(`nested deeper than ${MAX_NESTING} levels`);
    ws();
    if (i >= n) fail('unexpected end of input, expected a value');
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a double-quoted property name, found ${describe()}`);
        string();
        ws();
        if (text[i] !== ':') fail(`expected ':' after a property name, found ${describe()}`);
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail(`expected ',' or '}' after a property value, found ${describe()}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail(`expected ',' or ']' after an array element, found ${describe()}`);
      }
    }
    if (c === '"') return string();
    if (text.startsWith('-Infinity', i)) { found.push({ pos: i, token: '-Infinity' }); i += 9; return; }
    if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      if (!NUMBER.test(text)) fail(`malformed number`);
      i = NUMBER.lastIndex;
      return;
    }
    if (literal('true') || literal('false') || literal('null')) return;
    if (text.startsWith('NaN', i)) { found.push({ pos: i, token: 'NaN' }); i += 3; return; }
    if (text.startsWith('Infinity', i)) { found.push({ pos: i, token: 'Infinity' }); i += 8; return; }
    fail(`unexpected ${describe()}, expected a value`);
  };
  value(0);
  ws();
  if (i < n) fail(`unexpected ${describe()} after the end of the JSON document`);
  return found;
}

const SENTINEL = '\u0000coco-stitcher-nonfinite:';

/**
 * Parses manifest text. Accepts Python's NaN / Infinity tokens. On a syntax
 * error throws a ManifestError naming `source`, the line, column and
 * character offset, and showing the offending line.
 */
export function parseManifestText(text: string, source: string): unknown {
  const value = parseJsonText(text, source);
  checkNesting(value, source);
  return value;
}

function parseJsonText(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    if (err instanceof RangeError) {
      throw new ManifestError(`${source}: cannot parse the manifest: ${err.message} (nested too deeply or too large?)`, source, { cause: err });
    }
    let nonFinite: NonFinite[];
    try {
      nonFinite = scanJson(text);
    } catch (syntax) {
      if (!(syntax instanceof JsonSyntaxError)) throw syntax;
      const { line, column } = lineColumn(text, syntax.pos);
      const lineStart = text.lastIndexOf('\n', syntax.pos - 1) + 1;
      let lineEnd = text.indexOf('\n', syntax.pos);
      if (lineEnd < 0) lineEnd = text.length;
      const from = Math.max(lineStart, syntax.pos - 40);
      const excerpt = text.slice(from, Math.min(lineEnd, syntax.pos + 40));
      throw new ManifestError(
        `${source}: invalid JSON at line ${line}, column ${column} (character ${syntax.pos}): ${syntax.message}\n` +
          `  ${excerpt}\n  ${' '.repeat(syntax.pos - from)}^`,
        source, { cause: err },
      );
    }
    if (nonFinite.length === 0) {
      throw new ManifestError(`${source}: invalid JSON: ${(err as Error).message}`, source, { cause: err });
    }
    // Replace Python's bare tokens by sentinel strings, then revive them.
    const parts: string[] = [];
    let last = 0;
    for (const { pos, token } of nonFinite) {
      parts.push(text.slice(last, pos), JSON.stringify(SENTINEL + token));
      last = pos + token.length;
    }
    parts.push(text.slice(last));
    return JSON.parse(parts.join(''), (_key, v) => {
      if (typeof v === 'string' && v.startsWith(SENTINEL)) {
        const t = v.slice(SENTINEL.length);
        return t === 'NaN' ? NaN : t === 'Infinity' ? Infinity : -Infinity;
      }
      return v;
    });
  }
}

/** The name of the JSON member inside a manifest zip (`data.kwcoco.zip` -> `data.kwcoco.json`). */
export function zipMemberName(zipPath: string): string {
  const stem = basename(zipPath).replace(/\.zip$/i, '');
  return /\.json$/i.test(stem) ? stem : `${stem}.json`;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads and parses a manifest file (JSON text or a zip holding one JSON
 * file, recognised by content, not by name). Returns the parsed value,
 * whatever its type: the caller checks it is an object.
 */
export async function readManifestFile(path: string): Promise<unknown> {
  let bytes: Uint8Array;
  const limit = manifestByteLimit();
  try {
    const size = (await stat(path)).size;
    if (size > limit) {
      throw new ManifestError(`${path}: the manifest file has ${mib(size)}, over the limit of ${mib(limit)} for a manifest ` +
        "(an eighth of the memory budget or of V8's heap, whichever is smaller; raise the budget with --memory-budget MiB or COCO_STITCHER_MEMORY_MB)", path);
    }
    bytes = await readFile(path);
  } catch (err) {
    if (err instanceof ManifestError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new IoError(`cannot read manifest ${path}: ${why}`, path, { cause: err });
  }
  let source = path;
  if (isZip(bytes)) {
    const member = unzipManifest(bytes, path, limit);
    bytes = member.data;
    source = `${path}!${member.name}`;
  }
  if (bytes.length === 0) throw new ManifestError(`${source}: the manifest is empty (expected a JSON object)`, path);
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch (err) {
    if (err instanceof TypeError) throw new ManifestError(`${source}: not UTF-8 text (a kwcoco manifest is JSON)`, path, { cause: err });
    throw new ManifestError(`${source}: cannot decode ${bytes.length} bytes as one string: ${(err as Error).message}`, path, { cause: err });
  }
  return parseManifestText(text, source);
}

/**
 * Serializes one JSON value with Python's `json.dumps` separators; NaN and
 * +-Infinity as Python writes them; objects' `toJSON` honoured; typed arrays
 * as lists; `undefined` members skipped (as JSON.stringify). Throws on BigInt
 * and on reference cycles (as nesting deeper than 2,000 levels).
 */
export function dumpsPython(value: unknown): string {
  return writeValue(value, '', 0);
}

/** Nesting deeper than this is taken for a reference cycle. */
const MAX_DEPTH = 2000;

function writeValue(v: unknown, key: string, depth: number): string {
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    v = (v as { toJSON(k: string): unknown }).toJSON(key);
  }
  switch (typeof v) {
    case 'string': return JSON.stringify(v);
    case 'number': return Number.isFinite(v) ? `${v}` : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
    case 'boolean': return v ? 'true' : 'false';
    case 'bigint': throw new ManifestError(`cannot write BigInt ${v} (at key ${JSON.stringify(key)}) into a manifest`);
    case 'undefined': case 'function': case 'symbol': return 'null';
  }
  if (v === null) return 'null';
  if (depth > MAX_DEPTH) throw new ManifestError(`cannot write a manifest nested deeper than ${MAX_DEPTH} levels (a reference cycle?) at key ${JSON.stringify(key)}`);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return writeValue(Array.from(v as unknown as ArrayLike<number>), key, depth);
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) {
      if (i) s += ', ';
      s += writeValue(v[i], String(i), depth + 1);
    }
    return `${s}]`;
  }
  let s = '{';
  let first = true;
  for (const k of Object.keys(v as object)) {
    const item = (v as Record<string, unknown>)[k];
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    if (!first) s += ', ';
    first = false;
    s += `${JSON.stringify(k)}: ${writeValue(item, k, depth + 1)}`;
  }
  return `${s}}`;
}

/** An image with its non-empty `auxiliary` / `assets` lists written one asset per line, as kwcoco does. */
function dumpsImage(img: unknown): string {
  if (img === null || typeof img !== 'object' || Array.isArray(img) || typeof (img as { toJSON?: unknown }).toJSON === 'function') return dumpsPython(img);
  const rec = img as Record<string, unknown>;
  const multi = (k: string) => (k === 'auxiliary' || k === 'assets') && Array.isArray(rec[k]) && (rec[k] as unknown[]).length > 0;
  if (!Object.keys(rec).some(multi)) return dumpsPython(img);
  const parts: string[] = [];
  for (const k of Object.keys(rec)) {
    const v = rec[k];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    const body = multi(k) ? `[\n${(v as unknown[]).map((a) => dumpsPython(a)).join(',\n')}\n]` : dumpsPython(v);
    parts.push(`${JSON.stringify(k)}: ${body}`);
  }
  return `{${parts.join(', ')}}`;
}

/**
 * The manifest text as kwcoco's `dumps(newlines=True)` writes it: `{`, one
 * line per top-level key, the items of each non-empty main table one per
 * line, `}` (no trailing newline). Main keys whose value is null are left
 * out, as kwcoco does.
 */
export function formatManifest(dataset: Record<string, unknown>): string {
  const lines: string[] = [];
  const main = new Set<string>(MANIFEST_MAIN_KEYS);
  const emit = (key: string, val: unknown, perLine: boolean) => {
    if (perLine && Array.isArray(val) && val.length > 0) {
      const dumpItem = key === 'images' ? dumpsImage : dumpsPython;
      lines.push(`${JSON.stringify(key)}: [\n${val.map((item) => dumpItem(item)).join(',\n')}\n]`);
    } else {
      lines.push(`${JSON.stringify(key)}: ${dumpsPython(val)}`);
    }
  };
  for (const key of MANIFEST_MAIN_KEYS) {
    if (!Object.prototype.hasOwnProperty.call(dataset, key)) continue;
    const val = dataset[key];
    if (val === null || val === undefined) continue;
    emit(key, val, true);
  }
  const others = Object.keys(dataset).filter((k) => !main.has(k)).sort();
  for (const key of others) {
    const val = dataset[key];
    if (val === undefined || typeof val === 'function' || typeof val === 'symbol') continue;
    emit(key, val, false);
  }
  return lines.length ? `{\n${lines.join(',\n')}\n}` : '{}';
}

/**
 * Writes `dataset` to `path` atomically: JSON text, or a zip holding one
 * JSON member (named after the zip, `.zip` -> `.json`) when `path` ends in
 * `.zip`.
 */
export async function writeManifestFile(path: string, dataset: Record<string, unknown>): Promise<void> {
  const text = formatManifest(dataset);
  let bytes: Uint8Array = Buffer.from(text, 'utf8');
  if (/\.zip$/i.test(path)) bytes = zipSync({ [zipMemberName(path)]: [bytes, { level: 6 }] });
  await writeFileAtomic(path, bytes);
}
