/**
 * Coalesces socket writes. Without a write delay, writers that received data in this turn of the
 * event loop are flushed together, once, in a single `setImmediate` shared by all of them. With a
 * write delay (`client.write_delay`), writers that received data are flushed together by one
 * timer per delay value, shared by every connection of the process: there is no timer per
 * connection, and a connection's data waits at most the delay.
 */

/** Something with buffered output to write out. */
export interface Flushable {
  flush(): void;
}

/** A set of dirty writers flushed together, then emptied. */
class FlushGroup {
  private dirty: Flushable[] = [];
  private spare: Flushable[] = [];
  private armed = false;
  private readonly run = (): void => this.flushNow();

  /** `delayMs`: 0 = at the end of this turn (`setImmediate`); else after that many ms (one timer for the group). */
  constructor(private readonly delayMs: number) {}

  add(writer: Flushable): void {
    this.dirty.push(writer);
    if (this.armed) return;
    this.armed = true;
    // The timer does not keep a process alive: the sockets it writes to do, while they are open.
    if (this.delayMs > 0) setTimeout(this.run, this.delayMs).unref();
    else setImmediate(this.run);
  }

  private flushNow(): void {
    this.armed = false;
    // Two arrays swapped: writers marked while this batch is flushed go to the next one, and no
    // array is allocated per flush.
    const batch = this.dirty;
    this.dirty = this.spare;
    for (let i = 0; i < batch.length; i++) {
      try {
        batch[i]!.flush();
      } catch (e) {
        // A failing socket must not stop the others from being flushed.
        process.emitWarning(`gyre: socket flush failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    batch.length = 0;
    this.spare = batch;
  }
}

const endOfTurn = new FlushGroup(0);
/** The groups of the write delays in use (one per distinct `client.write_delay` of the process's servers). */
const delayed = new Map<number, FlushGroup>();

/** Marks a writer to be flushed at the end of this event-loop turn. */
export function scheduleFlush(writer: Flushable): void {
  endOfTurn.add(writer);
}

/**
 * Marks a writer to be flushed after `delayMs` at most (the next tick of the delay's shared timer),
 * or at the end of this turn when `delayMs` is 0.
 */
export function scheduleFlushAfter(writer: Flushable, delayMs: number): void {
  if (delayMs <= 0) return endOfTurn.add(writer);
  let group = delayed.get(delayMs);
  if (group === undefined) {
    group = new FlushGroup(delayMs);
    delayed.set(delayMs, group);
  }
  group.add(writer);
}
