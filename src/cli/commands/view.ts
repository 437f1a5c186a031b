/**
 * `coco-stitcher view out.kwcoco.json`: starts the viewer's local server
 * (src/view) and prints its URL; runs until interrupted.
 */
import { Command, InvalidArgumentError } from 'commander';
import { spawn } from 'node:child_process';
import { startViewServer } from '../../view/server/view-server.ts';
import { cliIo } from '../io.ts';

function parsePort(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidArgumentError(`--port expects an integer in 0..65535 (0 picks a free port), got "${v}"`);
  }
  return n;
}

/** Opens `url` in the desktop's browser; says so when that is not possible. */
function openBrowser(url: string): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]]
    : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
  child.on('error', (err) => cliIo.err(`coco-stitcher view: cannot open a browser (${cmd}: ${err.message}); open ${url} yourself\n`));
  child.unref();
}

export function viewCommand(): Command {
  return new Command('view')
    .description('look at the stitched heatmaps over the imagery in a browser (a local server; Ctrl-C stops it)')
    .argument('<manifest>', 'kwcoco manifest (.kwcoco.json, .json or .kwcoco.zip)')
    .option('--port <n>', 'port (0 picks a free port)', parsePort, 8765)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--open', 'open the page in the default browser')
    .action(async (manifest: string, o: { port: number; host: string; open?: boolean }) => {
      const server = await startViewServer({ manifest, port: o.port, host: o.host });
      cliIo.out(`${server.url}\n`);
      if (o.open) openBrowser(server.url);
      await new Promise<void>((done) => {
        const stop = () => { process.off('SIGINT', stop); process.off('SIGTERM', stop); server.close().then(done); };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
