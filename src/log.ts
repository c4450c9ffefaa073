/** The structured logger (pino), configured from the `log` section. */
import { pino, type Logger } from 'pino';
import type { LogConfig } from './config/types.js';

export type { Logger };

/** Builds a logger: JSON lines to stdout, or to `log.file`; level `none` silences it. */
export function createLogger(config: Pick<LogConfig, 'level' | 'file'>): Logger {
  const level = config.level === 'none' ? 'silent' : config.level;
  if (config.file !== '') return pino({ level, base: { service: 'gyre' } }, pino.destination({ dest: config.file, sync: false }));
  return pino({ level, base: { service: 'gyre' } });
}
