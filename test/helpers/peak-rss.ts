/**
 * This process's own peak RSS in MB (VmHWM of /proc/self/status). Not
 * getrusage's maxRSS: Linux carries that across fork + exec, so a child
 * process would report at least its parent's size at the time of the spawn.
 * Used by benchmarks and tests that measure memory in a child process.
 */
import { readFileSync } from 'node:fs';

export function peakRssMB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // no /proc (not Linux): fall back below
  }
  return process.resourceUsage().maxRSS / 1024;
}
