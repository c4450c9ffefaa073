/** The freshness of a polled screen: "Live · updated 2s ago", or the error of the last refresh. */
import { formatAgo } from '../format';
import { useNow } from '../hooks';

export function LiveStatus({ updatedAt, error }: { updatedAt: number | undefined; error: string | undefined }) {
  const now = useNow();
  if (error !== undefined) {
    return (
      <span class="live live-error" role="status" data-testid="live-status" title={error}>
        <span class="dot" aria-hidden="true" />
        Refresh failed: {error}
      </span>
    );
  }
  if (updatedAt === undefined) {
    return (
      <span class="live live-wait" role="status" data-testid="live-status">
        <span class="dot" aria-hidden="true" />
        Loading…
      </span>
    );
  }
  return (
    <span class="live" role="status" data-testid="live-status">
      <span class="dot" aria-hidden="true" />
      Live · updated {formatAgo(updatedAt, now)}
    </span>
  );
}
