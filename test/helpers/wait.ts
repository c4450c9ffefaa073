/**
 * Bounded waits for the tests: every wait gives up after a timeout (default {@link DEFAULT_WAIT_MS},
 * overridable per call) and rejects with an Error saying what did not happen, whose stack points at
 * the caller. Timers are cleared as soon as the wait settles, so nothing keeps the process alive.
 *
 * The options of a wait are `{ timeoutMs, what }` or just a string (the `what`): a label for the
 * timeout message, naming what was waited for.
 *
 * `sleep` is for the waits that prove something does NOT happen (or let real time pass for an
 * expiry); a test that synchronises with something waits for it with one of the others.
 */

/** Default bound of a wait (ms); `GYRE_TEST_WAIT_MS` overrides it (e.g. for a very slow machine). */
export const DEFAULT_WAIT_MS = Number(process.env['GYRE_TEST_WAIT_MS']) > 0 ? Number(process.env['GYRE_TEST_WAIT_MS']) : 10_000;

export interface WaitOptions {
  /** How long to wait before failing (ms); default {@link DEFAULT_WAIT_MS}. */
  timeoutMs?: number;
  /** What is waited for (a label for the timeout message). */
  what?: string;
}

/** Options of a wait: `{ timeoutMs, what }`, or the `what` alone. */
export type WaitArg = WaitOptions | string | undefined;

/** The options with defaults filled in. */
export function waitOptions(arg: WaitArg, defaultWhat: string): { timeoutMs: number; what: string } {
  const o = typeof arg === 'string' ? { what: arg } : (arg ?? {});
  return { timeoutMs: o.timeoutMs ?? DEFAULT_WAIT_MS, what: o.what ?? defaultWhat };
}

/** A short label for a predicate or check function: its source, on one line, truncated. */
export function describeFn(fn: (...args: never[]) => unknown): string {
  const src = String(fn).replace(/\s+/g, ' ').trim();
  return src.length > 160 ? `${src.slice(0, 157)}...` : src;
}

/** A JSON-ish preview of a value, truncated (for messages about what arrived instead). */
export function preview(value: unknown, max = 300): string {
  let s: string;
  try {
    s = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    s = String(value);
  }
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

/**
 * A promise with a deadline. `executor` gets `resolve` / `reject` (as for `new Promise`) and may
 * return a cleanup function, called once when the wait settles either way (remove listeners there).
 * On timeout it rejects with `${message()}` (a function, so it can report the state at that time).
 * `unref`: the timer does not keep the process alive (for a wait that may never be awaited).
 */
export function deadline<T>(
  timeoutMs: number,
  message: () => string,
  executor: (resolve: (value: T) => void, reject: (err: unknown) => void) => (() => void) | void,
  opts: { unref?: boolean } = {},
): Promise<T> {
  // Created now, so that its stack shows the test line that waited, not a timer callback.
  const timeoutError = new Error('wait timed out');
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let cleanup: (() => void) | void = undefined;
    const settle = (): boolean => {
      if (done) return false;
      done = true;
      clearTimeout(timer);
      if (cleanup !== undefined) cleanup();
      return true;
    };
    const timer = setTimeout(() => {
      if (!settle()) return;
      timeoutError.message = message();
      reject(timeoutError);
    }, timeoutMs);
    if (opts.unref === true) timer.unref();
    try {
      cleanup = executor(
        (v) => settle() && resolve(v),
        (e) => settle() && reject(e),
      );
    } catch (e) {
      if (settle()) reject(e);
    }
    // The executor may have settled synchronously, before its cleanup was known.
    if (done && cleanup !== undefined) cleanup();
  });
}

/**
 * Settles like `promise`, or rejects after the timeout with `${where}: ${what} within N ms` (`what`
 * says what did not happen). `unref`: the timer does not keep the process alive.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  arg: WaitArg,
  where: string,
  defaultWhat = 'the promise did not settle',
  opts: { unref?: boolean } = {},
): Promise<T> {
  const { timeoutMs, what } = waitOptions(arg, defaultWhat);
  return deadline<T>(
    timeoutMs,
    () => `${where}: ${what} within ${timeoutMs} ms`,
    (resolve, reject) => {
      promise.then(resolve, reject);
    },
    opts,
  );
}

/** Minimal emitter shape: Node's EventEmitter, `ws`, child processes, the centrifuge client and subscriptions. */
export interface OnceEmitter<T> {
  once(event: string, fn: (arg: T) => void): unknown;
  off?(event: string, fn: (arg: T) => void): unknown;
}

/**
 * Resolves with the first argument of the next `event` of `emitter`; rejects after the timeout
 * (`once: no "<event>" event from <Emitter> within N ms[: <what>]`).
 */
export function once<T = unknown>(emitter: OnceEmitter<T>, event: string, opts?: WaitArg): Promise<T> {
  const name = (emitter as { constructor?: { name?: string } }).constructor?.name ?? 'emitter';
  const { timeoutMs, what } = waitOptions(opts, '');
  const label = what === '' ? '' : `: ${what}`;
  return deadline<T>(timeoutMs, () => `once: no "${event}" event from ${name} within ${timeoutMs} ms${label}`, (resolve) => {
    const fn = (arg: T) => resolve(arg);
    emitter.once(event, fn);
    return () => emitter.off?.(event, fn);
  });
}

/** Options of {@link until}: a polling step besides the bound and label. */
export interface UntilOptions extends WaitOptions {
  /** Polling interval (ms). */
  stepMs?: number;
}

/**
 * Polls `check` until it returns true; rejects after the timeout with
 * `until: condition not met within N ms: <what, or the check's source>`. The second argument is the
 * polling step (ms, as before), a label, or `{ timeoutMs, what, stepMs }`.
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  opts: number | string | UntilOptions = {},
  defaultStepMs = 10,
): Promise<void> {
  const o: UntilOptions = typeof opts === 'number' ? { stepMs: opts } : typeof opts === 'string' ? { what: opts } : opts;
  const { timeoutMs, what } = waitOptions(o, describeFn(check));
  const stepMs = o.stepMs ?? defaultStepMs;
  const err = new Error('until timed out');
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= end) {
      err.message = `until: condition not met within ${timeoutMs} ms: ${what}`;
      throw err;
    }
    await sleep(Math.min(stepMs, Math.max(1, end - Date.now())));
  }
}

/**
 * Waits `ms` on purpose. Only for proving that something does NOT happen in a while, or for a
 * real time span to pass (an expiry, a TTL); never to synchronise with an event (wait for it).
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * `new Promise(executor)` with a deadline: rejects with
 * `waitFor: timed out after N ms waiting for <what>`. The executor may return a cleanup function
 * (remove listeners there), called once the wait settles either way.
 */
export function waitFor<T = void>(
  what: string,
  executor: (resolve: (value: T) => void, reject: (err: unknown) => void) => (() => void) | void,
  opts?: { timeoutMs?: number },
): Promise<T> {
  const timeoutMs = opts?.timeoutMs ?? DEFAULT_WAIT_MS;
  return deadline<T>(timeoutMs, () => `waitFor: timed out after ${timeoutMs} ms waiting for ${what}`, executor);
}

/** Something that listens like `net.Server` / `http.Server`. */
interface Listenable {
  listen(port: number, host: string, cb: () => void): unknown;
  once(event: 'error', fn: (err: Error) => void): unknown;
  off(event: 'error', fn: (err: Error) => void): unknown;
}

/** `server.listen(port, host)` (default: a random port of 127.0.0.1), bounded; rejects on a listen error. */
export function listen(server: Listenable, port = 0, host = '127.0.0.1', opts?: { timeoutMs?: number }): Promise<void> {
  return waitFor<void>(
    `a server to listen on ${host}:${port}`,
    (resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
      return () => server.off('error', reject);
    },
    opts,
  );
}

/**
 * `server.close()`, bounded: it waits for open connections to end, so a connection left open (a
 * keep-alive one, a hanging response) makes it time out with a message instead of hanging the file.
 * A server that is not running counts as closed.
 */
export function closeServer(server: { close(cb: (err?: Error) => void): unknown }, opts?: { timeoutMs?: number }): Promise<void> {
  return waitFor<void>('a server to close (connections still open?)', (resolve) => {
    server.close(() => resolve());
  }, opts);
}

/** A child process, as far as {@link exitOf} needs one. */
interface Exiting {
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  readonly pid?: number | undefined;
  readonly spawnfile?: string;
  once(event: 'exit', fn: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  off(event: 'exit', fn: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
}

/**
 * Resolves with the exit code and signal of a child process once it has exited (at once when it
 * already has); rejects after the timeout (`exitOf: process N (file) still running after N ms`).
 */
export function exitOf(child: Exiting, opts?: WaitArg): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const { timeoutMs, what } = waitOptions(opts, `process ${child.pid} (${child.spawnfile ?? '?'}) to exit`);
  return deadline(timeoutMs, () => `exitOf: timed out after ${timeoutMs} ms waiting for ${what}`, (resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal });
    child.once('exit', onExit);
    return () => child.off('exit', onExit);
  });
}
