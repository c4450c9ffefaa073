/**
 * What a test socket received, and bounded waits on it: the next message matching a predicate
 * (rejecting when the socket closes first) and the close itself. Shared by the raw Centrifugo
 * socket and the event-protocol socket.
 */
import { deadline, describeFn, preview, waitOptions, withTimeout, type WaitArg } from './wait.js';

/** Close code and reason of a socket. */
export interface CloseInfo {
  code: number;
  reason: string;
}

export class SocketInbox<T> {
  readonly messages: T[] = [];
  private readonly waiters = new Set<() => void>();
  /** Messages seen so far (matched or not), for timeout messages. */
  private received = 0;
  private closeInfo: CloseInfo | undefined;
  private readonly closedEvent: Promise<CloseInfo>;
  private resolveClosed: (info: CloseInfo) => void = () => {};

  /** `name`: the socket's kind, in messages (`RawSocket`, `EventSocket`). */
  constructor(private readonly name: string) {
    this.closedEvent = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  /** Adds messages and wakes the waits. */
  push(...messages: T[]): void {
    this.received += messages.length;
    this.messages.push(...messages);
    this.wake();
  }

  /** Records the close and wakes the waits (those still waiting for a message fail). */
  closed(code: number, reason: string): void {
    this.closeInfo = { code, reason };
    this.resolveClosed(this.closeInfo);
    this.wake();
  }

  /**
   * Waits for a message matching `pred` (already received or future) and takes it off the queue;
   * rejects when the socket closes first, or after the timeout (`opts`: `{ timeoutMs, what }` or a label).
   */
  next(pred: (m: T) => boolean, opts?: WaitArg): Promise<T> {
    const { timeoutMs, what } = waitOptions(opts, `message matching ${describeFn(pred)}`);
    const unmatched = (): string => preview(this.messages.slice(-5));
    return deadline(
      timeoutMs,
      () => `${this.name}.next: no ${what} within ${timeoutMs} ms (${this.received} received, unmatched: ${unmatched()})`,
      (resolve, reject) => {
        // Created now, so that its stack shows the waiting test line.
        const closedError = new Error('socket closed');
        const check = (): void => {
          try {
            const i = this.messages.findIndex(pred);
            if (i >= 0) return resolve(this.messages.splice(i, 1)[0]!);
          } catch (e) {
            return reject(e);
          }
          const c = this.closeInfo;
          if (c !== undefined) {
            const how = ` (code ${c.code}${c.reason === '' ? '' : ` "${c.reason}"`})`;
            closedError.message = `${this.name}.next: socket closed${how} while waiting for ${what} (unmatched: ${unmatched()})`;
            reject(closedError);
          }
        };
        this.waiters.add(check);
        check();
        return () => this.waiters.delete(check);
      },
    );
  }

  /** Resolves with the close code and reason once the socket closes; rejects after the timeout. */
  waitClosed(opts?: WaitArg): Promise<CloseInfo> {
    const { timeoutMs, what } = waitOptions(opts, 'socket not closed');
    // Read without being awaited (e.g. in a Promise.race), its timeout must neither become an
    // unhandled rejection nor keep the process alive (the open socket does that).
    const p = withTimeout(this.closedEvent, { timeoutMs, what }, `${this.name}.closed`, undefined, { unref: true });
    p.catch(() => {});
    return p;
  }

  private wake(): void {
    for (const f of [...this.waiters]) f();
  }
}
