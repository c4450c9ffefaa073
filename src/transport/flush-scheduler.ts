/**
 * Coalesces socket writes: writers that received data in this turn of the event loop are flushed
 * together, once, in a single `setImmediate` shared by all of them.
 */

/** Something with buffered output to write out. */
export interface Flushable {
  flush(): void;
}

let dirty: Flushable[] = [];
let scheduled = false;

function runFlush(): void {
  scheduled = false;
  const batch = dirty;
  dirty = [];
  for (const w of batch) {
    try {
      w.flush();
    } catch (e) {
      // A failing socket must not stop the others from being flushed.
      process.emitWarning(`gyre: socket flush failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** Marks a writer to be flushed at the end of this event-loop turn. */
export function scheduleFlush(writer: Flushable): void {
  dirty.push(writer);
  if (!scheduled) {
    scheduled = true;
    setImmediate(runFlush);
  }
}
