/**
 * One channel: who is in it (presence and its stats), its last 20 publications, a publish form,
 * removing its history, and the live tap. Refreshed every 3 s.
 */
import { useRef, useState } from 'preact/hooks';
import { ApiCallError, UnauthorizedError } from '../api';
import { LiveStatus } from '../components/LiveStatus';
import { PageHeader } from '../components/PageHeader';
import { PublicationItem } from '../components/PublicationItem';
import { PublishForm } from '../components/PublishForm';
import { TapPanel } from '../components/TapPanel';
import { errorMessage, formatCount } from '../format';
import { usePoll } from '../hooks';
import { useAdmin } from '../session';
import type { HistoryResult, PresenceResult, PresenceStatsResult } from '../types';

const REFRESH_MS = 3000;
/** At most one extra refresh per this many ms when the tap sees publications. */
const TAP_REFRESH_MS = 1000;
const HISTORY_LIMIT = 20;

/** A part of the page's data: its value, or why it is missing. */
type Part<T> = { ok: true; value: T } | { ok: false; error: string };

/** The server's 108 "not available": the channel's options do not keep that. */
const NOT_AVAILABLE = 108;

function part<T>(r: PromiseSettledResult<T>, what: string): Part<T> {
  if (r.status === 'fulfilled') return { ok: true, value: r.value };
  const err: unknown = r.reason;
  if (err instanceof UnauthorizedError) throw err;
  if (err instanceof ApiCallError && err.code === NOT_AVAILABLE) return { ok: false, error: `${what} is not enabled for this channel.` };
  return { ok: false, error: errorMessage(err) };
}

function Unavailable({ text }: { text: string }) {
  return <p class="empty">{text}</p>;
}

export function Channel({ channel }: { channel: string }) {
  const admin = useAdmin();
  const poll = usePoll(
    async (signal) => {
      const [presence, stats, history] = await Promise.allSettled([
        admin.call('presence', { channel }, signal),
        admin.call('presence_stats', { channel }, signal),
        admin.call('history', { channel, limit: HISTORY_LIMIT, reverse: true }, signal),
      ]);
      return {
        presence: part<PresenceResult>(presence, 'Presence'),
        stats: part<PresenceStatsResult>(stats, 'Presence'),
        history: part<HistoryResult>(history, 'History'),
      };
    },
    REFRESH_MS,
    [admin, channel],
  );
  const lastTapRefresh = useRef(0);
  const onTapPublication = () => {
    if (Date.now() - lastTapRefresh.current < TAP_REFRESH_MS) return;
    lastTapRefresh.current = Date.now();
    poll.refresh();
  };
  const data = poll.data;
  const clients =
    data?.presence.ok === true
      ? Object.values(data.presence.value.presence ?? {}).sort((a, b) => a.user.localeCompare(b.user) || a.client.localeCompare(b.client))
      : [];

  return (
    <section data-testid="channel-page" data-channel={channel}>
      <PageHeader
        title={channel}
        above={
          <>
            <a href="#/channels">Channels</a> <span aria-hidden="true">/</span>
          </>
        }
      >
        <LiveStatus updatedAt={poll.updatedAt} error={poll.error} />
      </PageHeader>
      <div class="stats stats-small">
        <div class="stat">
          <div class="stat-label">Clients</div>
          <div class="stat-value" data-testid="channel-clients">
            {data?.stats.ok === true ? formatCount(data.stats.value.num_clients) : '–'}
          </div>
        </div>
        <div class="stat">
          <div class="stat-label">Users</div>
          <div class="stat-value" data-testid="channel-users">
            {data?.stats.ok === true ? formatCount(data.stats.value.num_users) : '–'}
          </div>
        </div>
        <div class="stat">
          <div class="stat-label">Stream offset</div>
          <div class="stat-value">{data?.history.ok === true ? formatCount(data.history.value.offset) : '–'}</div>
        </div>
      </div>
      <div class="columns">
        <div class="column">
          <PublishForm channel={channel} onPublished={poll.refresh} />
          <div class="card">
            <div class="card-header">
              <h2>Presence</h2>
              <span class="count">{data?.presence.ok === true ? clients.length : ''}</span>
            </div>
            {data !== undefined && !data.presence.ok ? (
              <Unavailable text={data.presence.error} />
            ) : (
              <div class="table-wrap">
                <table data-testid="presence-table">
                  <thead>
                    <tr>
                      <th scope="col">User</th>
                      <th scope="col">Client</th>
                    </tr>
                  </thead>
                  <tbody>
                    {clients.map((c) => (
                      <tr key={c.client} data-testid="presence-row" data-client={c.client}>
                        <td class="strong">{c.user === '' ? <span class="muted">(anonymous)</span> : c.user}</td>
                        <td class="mono">{c.client}</td>
                      </tr>
                    ))}
                    {data !== undefined && clients.length === 0 && (
                      <tr>
                        <td colSpan={2} class="empty">
                          Nobody is subscribed.
                        </td>
                      </tr>
                    )}
                  </tbody>
                </table>
              </div>
            )}
          </div>
          <HistoryCard channel={channel} history={data?.history} onRemoved={poll.refresh} />
        </div>
        <div class="column">
          <TapPanel channel={channel} onPublication={onTapPublication} />
        </div>
      </div>
    </section>
  );
}

function HistoryCard({ channel, history, onRemoved }: { channel: string; history: Part<HistoryResult> | undefined; onRemoved: () => void }) {
  const admin = useAdmin();
  const [confirming, setConfirming] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const pubs = history?.ok === true ? (history.value.publications ?? []) : [];

  const remove = async () => {
    setConfirming(false);
    try {
      await admin.call('history_remove', { channel });
      setMessage({ ok: true, text: 'History removed.' });
      onRemoved();
    } catch (err) {
      if (!(err instanceof UnauthorizedError)) setMessage({ ok: false, text: `Removing the history failed: ${errorMessage(err)}` });
    }
  };

  return (
    <div class="card" data-testid="history">
      <div class="card-header">
        <h2>History</h2>
        <span class="count">{history?.ok === true ? `last ${HISTORY_LIMIT}, newest first` : ''}</span>
        <div class="spacer" />
        {history?.ok === true && !confirming && (
          <button type="button" class="btn btn-danger-quiet" data-testid="history-remove" onClick={() => setConfirming(true)}>
            Remove history…
          </button>
        )}
      </div>
      {confirming && (
        <div class="confirm" role="alertdialog" aria-labelledby="confirm-remove-text">
          <p id="confirm-remove-text">
            Remove every publication kept for <strong class="mono">{channel}</strong>? Clients will not be able to recover them.
          </p>
          <div class="confirm-buttons">
            <button type="button" class="btn" onClick={() => setConfirming(false)}>
              Cancel
            </button>
            <button type="button" class="btn btn-danger" data-testid="history-remove-confirm" onClick={() => void remove()}>
              Remove history
            </button>
          </div>
        </div>
      )}
      {message !== undefined && (
        <p class={message.ok ? 'ok-line pad' : 'error-line pad'} role="status" data-testid="history-message">
          {message.text}
        </p>
      )}
      {history !== undefined && !history.ok ? (
        <Unavailable text={history.error} />
      ) : pubs.length === 0 ? (
        <p class="empty">{history === undefined ? 'Loading…' : 'No publications kept.'}</p>
      ) : (
        <ol class="pubs" data-testid="history-list">
          {pubs.map((p, i) => (
            <PublicationItem key={p.offset ?? i} pub={p} testId="history-item" />
          ))}
        </ol>
      )}
    </div>
  );
}
