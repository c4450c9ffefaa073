/**
 * The channels with subscribers, sorted by their count, refreshed every 3 s: a glob pattern sent to
 * the server (`chat:*`) and a substring filter applied here.
 */
import { useState } from 'preact/hooks';
import { LiveStatus } from '../components/LiveStatus';
import { PageHeader } from '../components/PageHeader';
import { formatCount } from '../format';
import { usePoll } from '../hooks';
import { channelHref } from '../router';
import { useAdmin } from '../session';

const REFRESH_MS = 3000;

export function Channels() {
  const admin = useAdmin();
  const [patternInput, setPatternInput] = useState('');
  const [pattern, setPattern] = useState('');
  const [filter, setFilter] = useState('');
  const poll = usePoll((signal) => admin.call('channels', pattern === '' ? {} : { pattern }, signal), REFRESH_MS, [admin, pattern]);

  const needle = filter.trim().toLowerCase();
  const rows = Object.entries(poll.data?.channels ?? {})
    .filter(([name]) => needle === '' || name.toLowerCase().includes(needle))
    .sort(([a, x], [b, y]) => y.num_clients - x.num_clients || a.localeCompare(b));
  const total = Object.keys(poll.data?.channels ?? {}).length;

  return (
    <section data-testid="channels">
      <PageHeader title="Channels">
        <LiveStatus updatedAt={poll.updatedAt} error={poll.error} />
      </PageHeader>
      <div class="card">
        <form
          class="toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            setPattern(patternInput.trim());
          }}
        >
          <div class="field">
            <label htmlFor="channels-pattern">Pattern (on the server)</label>
            <div class="input-row">
              <input
                id="channels-pattern"
                type="text"
                placeholder="e.g. chat:*"
                spellcheck={false}
                value={patternInput}
                onInput={(e) => setPatternInput(e.currentTarget.value)}
              />
              <button type="submit" class="btn" data-testid="channels-pattern-apply">
                Apply
              </button>
            </div>
          </div>
          <div class="field">
            <label htmlFor="channels-filter">Filter (contains)</label>
            <input
              id="channels-filter"
              type="search"
              placeholder="Type to filter"
              spellcheck={false}
              value={filter}
              onInput={(e) => setFilter(e.currentTarget.value)}
            />
          </div>
        </form>
        <div class="table-wrap">
          <table data-testid="channels-table">
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col" class="num">Subscribers</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(([name, info]) => (
                <tr key={name} data-testid="channel-row" data-channel={name}>
                  <td>
                    <a class="mono" href={channelHref(name)}>
                      {name}
                    </a>
                  </td>
                  <td class="num" data-testid="channel-subscribers">
                    {formatCount(info.num_clients)}
                  </td>
                </tr>
              ))}
              {poll.data !== undefined && rows.length === 0 && (
                <tr>
                  <td colSpan={2} class="empty">
                    {total === 0 ? 'No channel has subscribers right now.' : 'No channel matches the filter.'}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        <div class="card-footer muted" data-testid="channels-count">
          {poll.data === undefined ? '' : `${rows.length} of ${total} channel${total === 1 ? '' : 's'}${pattern === '' ? '' : ` matching ${pattern}`}`}
        </div>
      </div>
      <form
        class="card open-channel"
        onSubmit={(e) => {
          e.preventDefault();
          const input = e.currentTarget.elements.namedItem('channel');
          if (input instanceof HTMLInputElement && input.value.trim() !== '') location.hash = channelHref(input.value.trim());
        }}
      >
        <label htmlFor="open-channel">Open a channel by name (it may have no subscribers)</label>
        <div class="input-row">
          <input id="open-channel" name="channel" type="text" placeholder="e.g. news" spellcheck={false} required />
          <button type="submit" class="btn">
            Open
          </button>
        </div>
      </form>
    </section>
  );
}
