/**
 * CPU time and RSS of other processes (a server's worker processes), from /proc: `utime` and
 * `stime` of /proc/<pid>/stat (every thread of the process, in clock ticks of `getconf CLK_TCK`)
 * and `VmRSS` of /proc/<pid>/status. Linux only; elsewhere the figures are 0.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

function clockTicks(): number {
  try {
    const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(v) && v > 0 ? v : 100;
  } catch {
    return 100;
  }
}

/** Microseconds per clock tick of /proc/<pid>/stat. */
const US_PER_TICK = 1e6 / clockTicks();

export interface ProcUsage {
  userUs: number;
  systemUs: number;
  rss: number;
}

/** CPU (µs since the process started) and RSS (bytes) of `pid`; zeros when it is gone. */
export function procUsage(pid: number): ProcUsage {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return { userUs: utime * US_PER_TICK, systemUs: stime * US_PER_TICK, rss: m ? Number(m[1]) * 1024 : 0 };
  } catch {
    return { userUs: 0, systemUs: 0, rss: 0 };
  }
}
