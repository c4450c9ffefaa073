/**
 * CPU pinning for the benchmarks (`--pin`, or GYRE_BENCH_PIN=1): the server under test (with its
 * worker processes and threads) on CPU 0, the load generators and the harness on the other CPUs. On a
 * machine with few cores this keeps the load generator from taking the server's CPU time: each side
 * gets cores of its own, as a server and its clients on separate machines would. Uses `taskset`
 * (util-linux) on a running process with every thread it has (`-a`); threads and processes it starts
 * later inherit the setting.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

let pinned = false;
/** The CPUs this process may use before any pinning (pinning narrows what availableParallelism says). */
const CPUS = availableParallelism();

/** Turns pinning on for every process started from now on (and pins this one to the client CPUs). */
export function enablePinning(): void {
  if (CPUS < 2) throw new Error('--pin needs at least 2 CPUs');
  pinned = true;
  pin(process.pid, 'client');
}

export function pinningEnabled(): boolean {
  return pinned;
}

/** The CPU list of a side: the server gets CPU 0, the clients the rest. */
export function cpusOf(side: 'server' | 'client'): string {
  const n = CPUS;
  return side === 'server' ? '0' : n === 2 ? '1' : `1-${n - 1}`;
}

/** Pins a process (every thread of it) to its side's CPUs when pinning is on. */
export function pin(pid: number | undefined, side: 'server' | 'client'): void {
  if (!pinned || pid === undefined) return;
  execFileSync('taskset', ['-a', '-p', '-c', cpusOf(side), String(pid)], { stdio: 'ignore' });
}
