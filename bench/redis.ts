/**
 * The Redis server S5's Gyre nodes share, seen from the orchestrator: reachability, its CPU time
 * (INFO cpu, to count it as part of the system under test rather than as "other processes"), and
 * removal of a run's keys at the end.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** Redis for S5: GYRE_BENCH_REDIS_URL, else the local default. */
export const BENCH_REDIS_URL = process.env['GYRE_BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A key prefix unique to one benchmark run. */
export function benchPrefix(): string {
  return `gyre-bench-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export class BenchRedis {
  private constructor(
    private readonly r: Redis,
    readonly url: string,
    /** Redis runs on this machine: its CPU competes with the benchmark's. */
    readonly local: boolean,
  ) {}

  /** Connects (one attempt); throws a readable error when Redis is not there. */
  static async connect(url: string): Promise<BenchRedis> {
    const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000, retryStrategy: () => null });
    r.on('error', () => {});
    try {
      await r.connect();
      await r.ping();
    } catch (e) {
      r.disconnect();
      throw new Error(`Redis at ${url} is not reachable (${e instanceof Error ? e.message : String(e)}); S5 needs it (set GYRE_BENCH_REDIS_URL)`);
    }
    const host = new URL(url.includes('://') ? url : `redis://${url}`).hostname;
    const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host) || host.startsWith('127.');
    return new BenchRedis(r, url, local);
  }

  /** CPU time (user + system) the Redis server process has used since it started, µs. */
  async cpuUs(): Promise<number> {
    const info = await this.r.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
    return (field('used_cpu_sys') + field('used_cpu_user')) * 1e6;
  }

  /** Deletes every key under `prefix` (`<prefix>.*`); returns how many there were. */
  async deleteKeys(prefix: string): Promise<number> {
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await this.r.scan(cursor, 'MATCH', `${prefix}.*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await this.r.del(...keys);
    } while (cursor !== '0');
    return deleted;
  }

  close(): void {
    this.r.disconnect();
  }
}
