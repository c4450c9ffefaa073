/**
 * The live tap of a channel: `admin/tap` read as a stream while it runs, its latest publications
 * (and joins / leaves) listed newest first.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { UnauthorizedError, type TapEvent } from '../api';
import { errorMessage, formatTime } from '../format';
import { useAdmin } from '../session';
import { PublicationItem } from './PublicationItem';

/** Events kept on screen. */
const KEEP = 100;

type TapStatus = 'stopped' | 'connecting' | 'live' | 'ended' | 'error';

interface Received {
  id: number;
  at: number;
  ev: TapEvent;
}

const STATUS_TEXT: Record<TapStatus, string> = {
  stopped: 'Stopped',
  connecting: 'Connecting…',
  live: 'Live',
  ended: 'Ended by the server',
  error: 'Failed',
};

/** `onPublication`: called for each publication the tap shows (the page refreshes its history). */
export function TapPanel({ channel, onPublication }: { channel: string; onPublication?: () => void }) {
  const admin = useAdmin();
  const [status, setStatus] = useState<TapStatus>('stopped');
  const [error, setError] = useState<string | undefined>(undefined);
  const [events, setEvents] = useState<Received[]>([]);
  const ctrl = useRef<AbortController | null>(null);
  const nextId = useRef(0);

  const stop = () => {
    ctrl.current?.abort();
    ctrl.current = null;
  };

  // Leaving the page, or another channel: the tap stops.
  useEffect(() => {
    setEvents([]);
    setStatus('stopped');
    setError(undefined);
    return stop;
  }, [admin, channel]);

  const start = () => {
    stop();
    const c = new AbortController();
    ctrl.current = c;
    setStatus('connecting');
    setError(undefined);
    const onEvent = (ev: TapEvent) => {
      const item = { id: nextId.current++, at: Date.now(), ev };
      setEvents((list) => [item, ...list].slice(0, KEEP));
      if (ev.kind === 'publication') onPublication?.();
    };
    admin
      .tap(channel, c.signal, () => setStatus('live'), onEvent)
      .then(() => {
        if (!c.signal.aborted) setStatus('ended');
      })
      .catch((err: unknown) => {
        if (c.signal.aborted || err instanceof UnauthorizedError) return;
        setError(errorMessage(err));
        setStatus('error');
      })
      .finally(() => {
        if (ctrl.current === c) ctrl.current = null;
        if (c.signal.aborted) setStatus('stopped');
      });
  };

  const running = status === 'connecting' || status === 'live';
  return (
    <div class="card tap" data-testid="tap">
      <div class="card-header">
        <h2>Live tap</h2>
        <span class={`badge badge-${status}`} data-testid="tap-status" data-status={status} role="status">
          {STATUS_TEXT[status]}
        </span>
        <div class="spacer" />
        {events.length > 0 && (
          <button type="button" class="btn btn-quiet" onClick={() => setEvents([])}>
            Clear
          </button>
        )}
        {running ? (
          <button type="button" class="btn" data-testid="tap-stop" onClick={stop}>
            Stop
          </button>
        ) : (
          <button type="button" class="btn btn-primary" data-testid="tap-start" onClick={start}>
            Start tap
          </button>
        )}
      </div>
      {error !== undefined && (
        <p class="error-line pad" role="alert" data-testid="tap-error">
          {error}
        </p>
      )}
      {events.length === 0 ? (
        <p class="empty" data-testid="tap-empty">
          {running ? 'Waiting for publications…' : 'Start the tap to watch publications on this channel as they pass.'}
        </p>
      ) : (
        <ol class="pubs" data-testid="tap-events" aria-live="polite">
          {events.map(({ id, at, ev }) =>
            ev.kind === 'publication' ? (
              <PublicationItem key={id} pub={ev.pub} time={formatTime(at)} testId="tap-event" extra={<span class="tag tag-pub">publication</span>} />
            ) : (
              <li key={id} class="pub pub-presence" data-testid="tap-presence">
                <div class="pub-meta">
                  <span class="pub-time">{formatTime(at)}</span>
                  <span class={`tag tag-${ev.kind}`}>{ev.kind}</span>
                  <span class="pub-user">
                    user {ev.info.user === '' ? '(anonymous)' : ev.info.user} · client <span class="mono">{ev.info.client}</span>
                  </span>
                </div>
              </li>
            ),
          )}
        </ol>
      )}
      {events.length > 0 && (
        <div class="card-footer muted">
          {events.length} event{events.length === 1 ? '' : 's'} (the latest {KEEP} are kept)
        </div>
      )}
    </div>
  );
}
