/**
 * The errors of one connection: counted against a limit (past it the connection is closed with
 * 3509 "too many errors"), and logged at most a few times per interval, so that a flood of bad
 * commands makes a handful of log lines and a count instead of one line per command.
 */
import type { Logger } from '../log.js';

export interface ErrorBudgetOptions {
  /** Errors allowed within one interval; one more is too many. 0 = no limit. */
  limit: number;
  /** Length of an interval in ms. */
  interval: number;
}

type Level = 'debug' | 'info' | 'warn' | 'error';

/** Lines logged in full per interval; the rest are counted. */
const LINES_PER_INTERVAL = 5;

export class ErrorBudget {
  private intervalStart = 0;
  /** Errors counted against the limit in this interval. */
  private counted = 0;
  /** Log lines held back in this interval. */
  private suppressed = 0;
  /** Lines logged in this interval. */
  private logged = 0;
  /** The limit was passed. */
  private exhausted = false;

  constructor(
    private readonly log: Logger,
    /** Fields of every line (which connection). */
    private readonly fields: Readonly<Record<string, unknown>>,
    private readonly options: ErrorBudgetOptions,
  ) {}

  /**
   * Logs an error (the first few of each interval in full; the others are counted, and their number
   * logged when the interval ends), and, when `counts`, counts it against the limit. True (with a
   * warn line) when the limit is now passed: the caller closes the connection with 3509.
   */
  record(level: Level, fields: Readonly<Record<string, unknown>>, msg: string, counts: boolean): boolean {
    // Past the limit the connection is being closed: what still comes is not worth a line.
    if (this.exhausted) return false;
    const now = Date.now();
    if (now - this.intervalStart >= this.options.interval) this.startInterval(now);
    if (this.log.isLevelEnabled(level)) {
      if (this.logged < LINES_PER_INTERVAL) {
        this.logged++;
        this.log[level]({ ...this.fields, ...fields }, msg);
      } else {
        this.suppressed++;
      }
    }
    if (!counts) return false;
    this.counted++;
    if (this.options.limit <= 0 || this.counted <= this.options.limit) return false;
    this.exhausted = true;
    this.flush();
    this.log.warn(
      { ...this.fields, errors: this.counted, interval_ms: this.options.interval },
      'too many errors (client.error_limit): closing the connection',
    );
    return true;
  }

  /** Logs how many lines were held back, if any (when an interval ends or the connection closes). */
  flush(): void {
    if (this.suppressed === 0) return;
    this.log.info({ ...this.fields, suppressed: this.suppressed }, 'more errors of this connection were not logged');
    this.suppressed = 0;
  }

  private startInterval(now: number): void {
    this.flush();
    this.intervalStart = now;
    this.counted = 0;
    this.logged = 0;
  }
}
