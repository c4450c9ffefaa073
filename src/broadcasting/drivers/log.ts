/** The `log` driver: one structured log line per message, for development and debugging. */
import { pino } from 'pino';
import type { Logger } from '../../log.js';
import { AbstractBroadcast } from '../abstract.js';
import { BroadcastConfigError } from '../errors.js';
import type { BroadcastMessage } from '../normalize.js';
import type { DriverContext } from '../types.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogBroadcastOptions {
  /** The level of the lines. Default `info`. */
  level?: LogLevel;
  /** The pino logger to write to (default: a logger to stdout at `level`). */
  logger?: Logger;
}

/**
 * Writes `{"connection", "topics": [...], "data": <message>, "msg": "broadcast"}` at the
 * configured level for each message.
 */
export class LogBroadcast extends AbstractBroadcast {
  readonly level: LogLevel;
  private readonly logger: Logger;

  /** `context.logger` (the manager's) is used when `options.logger` is absent. */
  constructor(options: LogBroadcastOptions = {}, context?: Partial<DriverContext> & { readonly logger?: Logger | undefined }) {
    super(context);
    const level = options.level ?? 'info';
    if (!(LOG_LEVELS as readonly string[]).includes(level)) {
      throw new BroadcastConfigError(
        `broadcast connection "${this.connection}": log level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`,
        this.connection,
        this.driver,
      );
    }
    this.level = level;
    this.logger = options.logger ?? context?.logger ?? pino({ level, base: { service: 'gyre-broadcast' } });
  }

  protected async send(topics: readonly string[], messages: readonly BroadcastMessage[]): Promise<void> {
    for (const message of messages) {
      this.logger[this.level]({ connection: this.connection, topics, data: message.data }, 'broadcast');
    }
  }
}
