/**
 * Progress bars for long commands: one bar per counted thing (windows,
 * images). On a TTY they redraw in place; elsewhere (CI logs) cli-progress
 * prints one line per update at a bounded rate.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** Adds a bar counting `label` up to `total`. */
  bar(label: string, total: number): ProgressBar;
  stop(): void;
}

export interface ProgressBar {
  increment(n?: number): void;
  setTotal(total: number): void;
}

/** A progress display on stderr; `enabled: false` gives a silent one. */
export function createProgress(enabled: boolean): Progress {
  if (!enabled) {
    const bar: ProgressBar = { increment() {}, setTotal() {} };
    return { bar: () => bar, stop() {} };
  }
  const multi = new cliProgress.MultiBar({
    format: '{label} [{bar}] {value}/{total} {percentage}% | {duration_formatted} elapsed | eta {eta_formatted}',
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: false,
    noTTYOutput: true,
    notTTYSchedule: 2000,
    etaBuffer: 50,
  }, cliProgress.Presets.shades_classic);
  return {
    bar(label, total) {
      const b = multi.create(total, 0, { label: label.padEnd(8) });
      return {
        increment: (n = 1) => b.increment(n),
        setTotal: (t) => b.setTotal(t),
      };
    },
    stop: () => multi.stop(),
  };
}
