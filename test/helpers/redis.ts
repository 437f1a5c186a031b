/**
 * A real redis-server for tests (Debian's package), on a free loopback port,
 * without persistence (`--save "" --appendonly no`: a restart loses
 * everything, as the fault tests want), stopped by its pid. Also child
 * processes of the CLI (workers, coordinators) whose output is kept and
 * whose lines can be waited for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A free TCP port on 127.0.0.1 (closed again, so nothing listens there). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Sends raw RESP commands and returns the reply text (enough for PING and INFO). */
export function redisCommand(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    const done = (err?: Error) => { clearTimeout(timer); sock.destroy(); if (err) reject(err); else resolve(buf); };
    const timer = setTimeout(() => done(new Error(`redis on port ${port}: no full answer to ${args[0]} within 2 s`)), 2000);
    sock.on('error', (err) => done(err));
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      // a simple string / error / integer reply ends at its first CRLF; a bulk string once its length is in
      const m = /^\$(\d+)\r\n/.exec(buf);
      if (m ? buf.length >= m[0].length + Number(m[1]) + 2 : buf.includes('\r\n')) done();
    });
    sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

export class RedisServer {
  proc: ChildProcess | null = null;
  private constructor(readonly port: number) {}

  get url(): string { return `redis://127.0.0.1:${this.port}`; }

  static async start(): Promise<RedisServer> {
    const r = new RedisServer(await freePort());
    await r.startProcess();
    return r;
  }

  private async startProcess(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const deadline = Date.now() + 5000;
    for (;;) {
      const pong = await redisCommand(this.port, 'PING').catch(() => '');
      if (pong.startsWith('+PONG')) return;
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer PING within 5 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the server (by its pid) and waits for it to exit. */
  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    process.kill(p.pid!, 'SIGKILL');
    await exited;
  }

  /** Stops and starts again on the same port: without persistence every key is gone. */
  async restart(): Promise<void> {
    await this.stop();
    await this.startProcess();
  }

  /** INFO section as key -> value. */
  async info(section: string): Promise<Map<string, string>> {
    const text = await redisCommand(this.port, 'INFO', section);
    const m = new Map<string, string>();
    for (const line of text.split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0 && !line.startsWith('#')) m.set(line.slice(0, i), line.slice(i + 1));
    }
    return m;
  }
}

/** A child process of the CLI (`node --import tsx src/cli/main.ts ...`), its output kept. */
export class CliProcess {
  readonly proc: ChildProcess;
  out = '';
  err = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters: (() => void)[] = [];

  constructor(args: readonly string[], env: Record<string, string> = {}) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
      cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const wake = () => { for (const w of this.#waiters.splice(0)) w(); };
    this.proc.stdout!.on('data', (d) => { this.out += d; wake(); });
    this.proc.stderr!.on('data', (d) => { this.err += d; wake(); });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => { wake(); resolve({ code, signal }); }));
  }

  get pid(): number { return this.proc.pid!; }
  get running(): boolean { return this.proc.exitCode === null && this.proc.signalCode === null; }

  /** Waits until stdout + stderr match `re` (or fails after `ms`, or when the process exits without it). */
  async waitFor(re: RegExp, ms = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = (this.out + this.err).match(re);
      if (m) return m;
      if (!this.running) throw new Error(`process exited without printing ${re}:\n${this.out}\n${this.err}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${re} within ${ms} ms:\n${this.out}\n${this.err}`);
      await new Promise<void>((r) => { const t = setTimeout(r, Math.min(left, 200)); this.#waiters.push(() => { clearTimeout(t); r(); }); });
    }
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) process.kill(this.pid, signal);
  }
}
