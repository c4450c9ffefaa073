/** The errors of broadcasting: a failed publish, and a configuration that cannot work. */

export interface BroadcastErrorDetails {
  /** The topic that failed (the first one, when several did); undefined when none is to blame. */
  topic?: string | undefined;
  /** Every topic that failed (or that the failed call was for). */
  topics?: readonly string[];
  driver: string;
  connection: string;
  /** The server API error code, when the backend answered one (e.g. 102 unknown channel). */
  code?: number | undefined;
  /** True when trying again later may succeed (a network error, a timeout, error 100 ...). */
  temporary?: boolean;
  cause?: unknown;
}

/** A publish failed, or was refused before anything was sent (a bad topic or message). */
export class BroadcastError extends Error {
  readonly topic: string | undefined;
  readonly topics: readonly string[];
  readonly driver: string;
  readonly connection: string;
  readonly code: number | undefined;
  readonly temporary: boolean;

  constructor(message: string, details: BroadcastErrorDetails) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'BroadcastError';
    this.topic = details.topic;
    this.topics = details.topics ?? (details.topic !== undefined ? [details.topic] : []);
    this.driver = details.driver;
    this.connection = details.connection;
    this.code = details.code;
    this.temporary = details.temporary ?? false;
  }
}

/**
 * The broadcasting configuration cannot work: no default connection, an unknown connection or
 * driver, a bad driver option, no authorization path.
 */
export class BroadcastConfigError extends Error {
  constructor(
    message: string,
    /** The connection concerned, if any. */
    readonly connection?: string,
    /** The driver concerned, if any. */
    readonly driver?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BroadcastConfigError';
  }
}
