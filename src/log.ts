/** The structured logger (pino), configured from the `log` section. */
import { pino, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogConfig } from './config/types.js';

export type { Logger };

/** The log files this process writes (reopened on SIGHUP, after logrotate moved them). */
const files = new Set<DestinationStream & { reopen(): void }>();

/**
 * Builds a logger: JSON lines to `log.file`, or to stdout; on stdout, readable colored lines
 * instead when it is a terminal (`log.format: "auto"`) or with `"pretty"`. Level `none` silences it.
 */
export function createLogger(config: Pick<LogConfig, 'level' | 'file'> & { format?: LogConfig['format'] }): Logger {
  const level = config.level === 'none' ? 'silent' : config.level;
  const options = { level, base: { service: 'gyre' } };
  if (config.file !== '') {
    const dest = pino.destination({ dest: config.file, sync: false });
    files.add(dest);
    return pino(options, dest);
  }
  const format = config.format ?? 'auto';
  const terminal = process.stdout.isTTY === true;
  if (format === 'pretty' || (format === 'auto' && terminal)) {
    return pino(options, pretty({ colorize: terminal, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', sync: true }));
  }
  return pino(options);
}

/** Reopens the log files (`log.file`) this process writes; returns how many there were. */
export function reopenLogFiles(): number {
  for (const f of files) f.reopen();
  return files.size;
}
