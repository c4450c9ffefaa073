/** One publication (of the history or the live tap): its offset, who published it, its data. */
import type { ComponentChildren } from 'preact';
import type { Publication } from '../types';
import { JsonBlock } from './JsonBlock';

export function PublicationItem({ pub, time, testId, extra }: { pub: Publication; time?: string; testId: string; extra?: ComponentChildren }) {
  return (
    <li class="pub" data-testid={testId} data-offset={pub.offset}>
      <div class="pub-meta">
        {time !== undefined && <span class="pub-time">{time}</span>}
        {extra}
        {pub.offset !== undefined && <span class="tag tag-offset">offset {pub.offset}</span>}
        {pub.info !== undefined && <span class="pub-user">user {pub.info.user === '' ? '(anonymous)' : pub.info.user}</span>}
        {pub.tags !== undefined &&
          Object.entries(pub.tags).map(([k, v]) => (
            <span class="tag" key={k}>
              {k}={v}
            </span>
          ))}
      </div>
      {pub.data !== undefined ? <JsonBlock value={pub.data} /> : <pre class="json muted">binary: {pub.b64data ?? ''}</pre>}
    </li>
  );
}
