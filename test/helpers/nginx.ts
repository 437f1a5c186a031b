/**
 * A real nginx (Debian's nginx-light, /usr/sbin/nginx) serving a folder on
 * a free loopback port, for tests of HTTP reading. Its configuration,
 * pid file, logs and temp folders live in a scratch folder; it runs in the
 * foreground as one process (no master), started by the test and stopped
 * by its pid. The access log records, per request, the status, the body
 * bytes sent and the Range header, so tests can count what was fetched.
 *
 * Locations: `/norange/…` ignores Range headers (`max_ranges 0`), `/flaky/…`
 * always answers 503, `/slow/…` sends 16 KiB/s; everything else is plain.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { scratchDir } from './scratch.ts';

export const NGINX = '/usr/sbin/nginx';

/** Why nginx tests cannot run here, or null when they can. */
export function nginxMissing(): string | null {
  return existsSync(NGINX) ? null : `${NGINX} is not installed (apt-get install nginx-light)`;
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** One logged request. */
export interface AccessLogLine { status: number; bytes: number; range: string; uri: string }

export interface Nginx {
  /** e.g. http://127.0.0.1:40123 */
  readonly url: string;
  readonly port: number;
  /** the folder served */
  readonly root: string;
  readonly pid: number;
  /** requests logged so far */
  log(): AccessLogLine[];
  /** forgets the requests logged so far (log() then starts empty) */
  clearLog(): void;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) if (c.pid) try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
});

/** Starts nginx serving `root` (default: a new scratch folder). */
export async function startNginx(root?: string): Promise<Nginx> {
  const dir = scratchDir('nginx-');
  const served = root ?? join(dir, 'www');
  mkdirSync(served, { recursive: true });
  for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, 'tmp', t), { recursive: true });
  const accessLog = join(dir, 'access.log');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  log_format counted '$status $body_bytes_sent "$http_range" $request_uri';
  access_log ${accessLog} counted;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  default_type application/octet-stream;
  keepalive_timeout 30s;
  server {
    listen 127.0.0.1:${port};
    root ${served};
    location /norange/ { max_ranges 0; }
    location /flaky/ { return 503; }
    location /slow/ { limit_rate 16k; }
  }
}
`);
    writeFileSync(accessLog, '');
    const child = spawn(NGINX, ['-e', join(dir, 'error.log'), '-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(child);
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += d; });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => { running.delete(child); r(code); }));
    const url = `http://127.0.0.1:${port}`;
    const up = await Promise.race([waitForAnswer(url), exited.then(() => false)]);
    if (!up) {
      child.kill('SIGKILL');
      const errLog = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
      if (attempt < 3 && /Address already in use/.test(stderr + errLog)) continue;
      throw new Error(`nginx did not start: ${stderr}${errLog}`);
    }
    const lines = (): AccessLogLine[] => readFileSync(accessLog, 'utf8').split('\n').filter(Boolean).map((l) => {
      const m = /^(\d+) (\d+) "([^"]*)" (.*)$/.exec(l)!;
      return { status: Number(m[1]), bytes: Number(m[2]), range: m[3] === '-' ? '' : m[3], uri: m[4] };
    });
    let skip = lines().length; // the readiness probe
    return {
      url, port, root: served, pid: child.pid!,
      log: () => lines().slice(skip),
      clearLog: () => { skip = lines().length; },
      stop: async () => {
        if (child.exitCode === null) process.kill(child.pid!, 'SIGTERM');
        await exited;
      },
    };
  }
}

/** Polls `url` until the server answers (any status), up to 10 s. */
async function waitForAnswer(url: string): Promise<boolean> {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    try {
      const res = await fetch(`${url}/__ready`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return false;
}
