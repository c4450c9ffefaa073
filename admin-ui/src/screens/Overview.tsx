/**
 * The overview: totals over the cluster's nodes and a table of them, refreshed every 2 s, and the
 * busiest channels, refreshed every 3 s.
 */
import { PageHeader } from '../components/PageHeader';
import { LiveStatus } from '../components/LiveStatus';
import { formatCount, formatUptime } from '../format';
import { usePoll } from '../hooks';
import { channelHref } from '../router';
import { useAdmin } from '../session';
import type { NodeInfo } from '../types';

const REFRESH_MS = 2000;
const CHANNELS_REFRESH_MS = 3000;
/** Channels listed on the overview. */
const TOP = 8;

function sum(nodes: NodeInfo[], pick: (n: NodeInfo) => number | undefined): number {
  return nodes.reduce((acc, n) => acc + (pick(n) ?? 0), 0);
}

function Stat({ label, value, testId }: { label: string; value: number | undefined; testId: string }) {
  return (
    <div class="stat">
      <div class="stat-label">{label}</div>
      <div class="stat-value" data-testid={testId}>
        {formatCount(value)}
      </div>
    </div>
  );
}

export function Overview() {
  const admin = useAdmin();
  const poll = usePoll((signal) => admin.call('info', {}, signal), REFRESH_MS, [admin]);
  const nodes = [...(poll.data?.nodes ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const loaded = poll.data !== undefined;

  return (
    <section data-testid="overview">
      <PageHeader title="Overview">
        <LiveStatus updatedAt={poll.updatedAt} error={poll.error} />
      </PageHeader>
      <div class="stats">
        <Stat label="Nodes" value={loaded ? nodes.length : undefined} testId="total-nodes" />
        <Stat label="Clients" value={loaded ? sum(nodes, (n) => n.num_clients) : undefined} testId="total-clients" />
        <Stat label="Users" value={loaded ? sum(nodes, (n) => n.num_users) : undefined} testId="total-users" />
        <Stat label="Channels" value={loaded ? sum(nodes, (n) => n.num_channels) : undefined} testId="total-channels" />
        <Stat label="Subscriptions" value={loaded ? sum(nodes, (n) => n.num_subs) : undefined} testId="total-subs" />
      </div>
      <div class="card">
        <div class="card-header">
          <h2>Nodes</h2>
        </div>
        <div class="table-wrap">
          <table class="reflow" data-testid="nodes-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" class="num">Clients</th>
                <th scope="col" class="num">Users</th>
                <th scope="col" class="num">Channels</th>
                <th scope="col" class="num">Subscriptions</th>
                <th scope="col" class="num">Uptime</th>
                <th scope="col">Version</th>
              </tr>
            </thead>
            <tbody>
              {nodes.map((n) => (
                <tr key={n.uid} data-testid="node-row">
                  <td class="cell-main">
                    <div class="strong">{n.name}</div>
                    <div class="sub mono">{n.uid}</div>
                  </td>
                  <td class="num" data-label="Clients" data-testid="node-clients">
                    {formatCount(n.num_clients)}
                  </td>
                  <td class="num" data-label="Users">
                    {formatCount(n.num_users)}
                  </td>
                  <td class="num" data-label="Channels">
                    {formatCount(n.num_channels)}
                  </td>
                  <td class="num" data-label="Subscriptions">
                    {formatCount(n.num_subs)}
                  </td>
                  <td class="num" data-label="Uptime">
                    {formatUptime(n.uptime)}
                  </td>
                  <td data-label="Version">{n.version}</td>
                </tr>
              ))}
              {loaded && nodes.length === 0 && (
                <tr>
                  <td colSpan={7} class="empty">
                    No nodes answered.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      </div>
      <TopChannels />
    </section>
  );
}

/** The channels with the most subscribers. */
function TopChannels() {
  const admin = useAdmin();
  const poll = usePoll((signal) => admin.call('channels', {}, signal), CHANNELS_REFRESH_MS, [admin]);
  const all = Object.entries(poll.data?.channels ?? {});
  const top = all.sort(([a, x], [b, y]) => y.num_clients - x.num_clients || a.localeCompare(b)).slice(0, TOP);
  return (
    <div class="card" data-testid="top-channels">
      <div class="card-header">
        <h2>Busiest channels</h2>
        {poll.error !== undefined && <span class="count error-line">{poll.error}</span>}
        <div class="spacer" />
        <a href="#/channels">{all.length > TOP ? `All ${formatCount(all.length)} channels →` : 'Channels →'}</a>
      </div>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Channel</th>
              <th scope="col" class="num">Subscribers</th>
            </tr>
          </thead>
          <tbody>
            {top.map(([name, info]) => (
              <tr key={name}>
                <td>
                  <a class="mono" href={channelHref(name)}>
                    {name}
                  </a>
                </td>
                <td class="num">{formatCount(info.num_clients)}</td>
              </tr>
            ))}
            {poll.data !== undefined && top.length === 0 && (
              <tr>
                <td colSpan={2} class="empty">
                  No channel has subscribers right now.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
