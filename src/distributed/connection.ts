/**
 * Where Redis is: a `redis://[user:password@]host:port[/db]` URL (or
 * `rediss://` for TLS), or ioredis options. Every connection we open fails
 * fast when Redis is not there: a short connect timeout, and no endless
 * reconnect loop before the first answer, so a wrong URL is a clear error
 * within seconds instead of a hang.
 */
import { DistributedError } from './errors.ts';

/** A Redis server: a URL, or ioredis options (host, port, db, password, tls, ...). */
export type RedisConnection = string | RedisConnectionOptions;

export interface RedisConnectionOptions {
  host?: string;
  port?: number;
  db?: number;
  username?: string;
  password?: string;
  tls?: object;
  [key: string]: unknown;
}

/** Redis cannot be reached (or answers wrongly) at `where`. */
export class RedisUnreachableError extends DistributedError {
  override name = 'RedisUnreachableError';
  constructor(readonly where: string, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** How long a connection attempt may take before it counts as failed. */
export const CONNECT_TIMEOUT_MS = 3000;

/** Parses a `redis://` / `rediss://` URL into ioredis options; anything else is an error naming it. */
export function parseRedisUrl(url: string): RedisConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DistributedError(`--queue expects a Redis URL like redis://HOST:PORT[/DB], got "${url}"`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new DistributedError(`--queue expects a redis:// or rediss:// URL, got "${url}" (protocol ${u.protocol})`);
  }
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbPart = u.pathname.replace(/^\//, '');
  const db = dbPart === '' ? 0 : Number(dbPart);
  if (!Number.isInteger(db) || db < 0) throw new DistributedError(`the database in ${url} must be a non-negative integer (redis://HOST:PORT/DB), got "${dbPart}"`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  return {
    host, port, db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** The options of a connection spec (a URL is parsed). */
export function connectionOptions(c: RedisConnection): RedisConnectionOptions {
  return typeof c === 'string' ? parseRedisUrl(c) : { ...c };
}

/** The server as a URL for messages, without the password. */
export function describeConnection(c: RedisConnection): string {
  const o = connectionOptions(c);
  const scheme = o.tls ? 'rediss' : 'redis';
  const host = String(o.host ?? '127.0.0.1');
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${o.port ?? 6379}${o.db ? `/${o.db}` : ''}`;
}

/**
 * ioredis options for BullMQ. `blocking` connections (a worker's) keep
 * retrying once they were up, as BullMQ requires; the others
 * fail a command at once while Redis is away, so a caller polling Redis
 * notices the outage instead of waiting in ioredis' offline queue.
 */
export function bullConnection(c: RedisConnection, blocking: boolean): Record<string, unknown> {
  return {
    ...connectionOptions(c),
    connectTimeout: CONNECT_TIMEOUT_MS,
    // reconnect every half second (Redis restarted: back as soon as it is)
    retryStrategy: () => 500,
    ...(blocking ? { maxRetriesPerRequest: null } : { maxRetriesPerRequest: 1, enableOfflineQueue: false }),
  };
}

type IoRedisCtor = new (options: Record<string, unknown>) => {
  connect(): Promise<void>;
  ping(): Promise<string>;
  disconnect(): void;
  on(event: string, fn: (...args: unknown[]) => void): unknown;
  [cmd: string]: unknown;
};

/** ioredis, loaded on first use so the default (in-process) path needs nothing of Redis. */
export async function loadIoRedis(): Promise<IoRedisCtor> {
  const mod = await import('ioredis') as unknown as { default?: IoRedisCtor; Redis?: IoRedisCtor };
  return (mod.Redis ?? mod.default) as IoRedisCtor;
}

/**
 * A plain client, connected. The first connection must succeed within the
 * connect timeout (else RedisUnreachableError naming the server); after
 * that it reconnects every half second, and its commands fail at once
 * while Redis is away (no offline queue), so callers notice outages.
 */
export async function openClient(c: RedisConnection): Promise<InstanceType<IoRedisCtor>> {
  const Redis = await loadIoRedis();
  const where = describeConnection(c);
  let connected = false;
  const client = new Redis({
    ...connectionOptions(c),
    connectTimeout: CONNECT_TIMEOUT_MS,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => (connected ? 500 : null),
  });
  client.on('error', () => {}); // reported through the failing command below
  try {
    await client.connect();
    const pong = await client.ping();
    if (pong !== 'PONG') throw new DistributedError(`PING answered ${JSON.stringify(pong)}`);
    connected = true;
  } catch (err) {
    client.disconnect();
    throw new RedisUnreachableError(where, `cannot reach Redis at ${where} (waited up to ${CONNECT_TIMEOUT_MS / 1000} s): ${(err as Error).message || String(err)}`, { cause: err });
  }
  return client;
}

/** Throws RedisUnreachableError (naming the server) unless Redis answers PING within the connect timeout. */
export async function checkReachable(c: RedisConnection): Promise<void> {
  const client = await openClient(c);
  client.disconnect();
}

/**
 * Calls `onMessage` for each message on `channel`, on a connection of its
 * own (a subscribed one can do nothing else). It reconnects and subscribes
 * again every half second while Redis is away. Messages are hints to look
 * sooner: callers still poll, so one lost while Redis was away costs
 * latency, never a result.
 */
export async function subscribe(c: RedisConnection, channel: string, onMessage: (message: string) => void): Promise<{ close(): void }> {
  const Redis = await loadIoRedis();
  const sub = new Redis({ ...connectionOptions(c), connectTimeout: CONNECT_TIMEOUT_MS, retryStrategy: () => 500 });
  sub.on('error', () => {}); // the callers' polls notice outages
  sub.on('message', (ch, message) => { if (ch === channel) onMessage(String(message)); });
  void (sub.subscribe as (ch: string) => Promise<unknown>)(channel).catch(() => {});
  return { close: () => sub.disconnect() };
}
