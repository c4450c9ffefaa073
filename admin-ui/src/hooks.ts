/** Hooks shared by the screens: polling an API call, and a ticking clock. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { UnauthorizedError } from './api';
import { errorMessage } from './format';

/** The state of a polled call. */
export interface Poll<T> {
  /** The last successful result (kept while a later call fails). */
  data: T | undefined;
  /** The error of the last call, if it failed. */
  error: string | undefined;
  /** When the last successful result arrived (ms timestamp). */
  updatedAt: number | undefined;
  /** Calls again now. */
  refresh(): void;
}

/**
 * Calls `fetcher` now and `intervalMs` after each answer, until unmounted or `deps` change (then it
 * starts over). A call still running when that happens is aborted. While the page is hidden (a
 * background tab) it pauses, and calls again as soon as the page is visible.
 */
export function usePoll<T>(fetcher: (signal: AbortSignal) => Promise<T>, intervalMs: number, deps: readonly unknown[]): Poll<T> {
  const [state, setState] = useState<{ data?: T; error?: string; updatedAt?: number }>({});
  const kick = useRef<() => void>(() => undefined);
  useEffect(() => {
    setState({});
    const ctrl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    let again = false;
    let paused = false;
    const tick = () => {
      if (document.hidden) paused = true;
      else void run();
    };
    const onVisibility = () => {
      if (!document.hidden && paused) {
        paused = false;
        void run();
      }
    };
    document.addEventListener('visibilitychange', onVisibility);
    const run = async () => {
      if (running) {
        again = true; // asked for while a call runs: call again as soon as it answers
        return;
      }
      running = true;
      again = false;
      clearTimeout(timer);
      try {
        const data = await fetcher(ctrl.signal);
        if (!ctrl.signal.aborted) setState({ data, updatedAt: Date.now() });
      } catch (err) {
        if (ctrl.signal.aborted || err instanceof UnauthorizedError) return;
        setState((s) => ({ ...s, error: errorMessage(err) }));
      } finally {
        running = false;
        if (!ctrl.signal.aborted) {
          if (again) void run();
          else timer = setTimeout(tick, intervalMs);
        }
      }
    };
    kick.current = () => void run();
    void run();
    return () => {
      ctrl.abort();
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, deps);
  return { data: state.data, error: state.error, updatedAt: state.updatedAt, refresh: () => kick.current() };
}

/** The current time (ms), updated every `everyMs`. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(id);
  }, [everyMs]);
  return now;
}
