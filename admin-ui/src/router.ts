/** Hash routing: `#/`, `#/channels`, `#/channels/<name>`, `#/actions`. */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { screen: 'overview' }
  | { screen: 'channels' }
  | { screen: 'channel'; channel: string }
  | { screen: 'actions' };

/** The route of a location hash (an unknown one is the overview). */
export function parseHash(hash: string): Route {
  const path = hash.replace(/^#/, '');
  if (path === '/channels') return { screen: 'channels' };
  if (path === '/actions') return { screen: 'actions' };
  if (path.startsWith('/channels/') && path.length > '/channels/'.length) {
    try {
      return { screen: 'channel', channel: decodeURIComponent(path.slice('/channels/'.length)) };
    } catch {
      return { screen: 'channels' };
    }
  }
  return { screen: 'overview' };
}

/** The hash link of a channel's page. */
export function channelHref(channel: string): string {
  return `#/channels/${encodeURIComponent(channel)}`;
}

/** The current route, following `hashchange`. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
