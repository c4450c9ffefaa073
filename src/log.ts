/** The structured logger (pino), configured from the `log` section. */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogConfig } from './config/types.js';

export type { Logger };

/** The log files this process writes (reopened on SIGHUP, after logrotate moved them). */
const files = new Set<DestinationStream & { reopen(): void }>();

/** Builds a logger: JSON lines to stdout, or to `log.file`; level `none` silences it. */
export function createLogger(config: Pick<LogConfig, 'level' | 'file'>): Logger {
  const level = config.level === 'none' ? 'silent' : config.level;
  if (config.file !== '') {
    const dest = pino.destination({ dest: config.file, sync: false });
    files.add(dest);
    return pino({ level, base: { service: 'gyre' } }, dest);
  }
  return pino({ level, base: { service: 'gyre' } });
}

/** Reopens the log files (`log.file`) this process writes; returns how many there were. */
export function reopenLogFiles(): number {
  for (const f of files) f.reopen();
  return files.size;
}
