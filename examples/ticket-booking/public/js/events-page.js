// The list of events. Plain HTTP: nothing here changes by the second, so no connection.
import { el, formatMoney, formatWhen, getJson, showMe } from './common.js';

await showMe();
const { events } = await getJson('/api/events');
const list = document.querySelector('[data-testid="events"]');
list.replaceChildren(
  ...events.map((e) =>
    el(
      'li',
      {},
      el(
        'a',
        { class: 'event-card', href: `/events/${e.id}`, 'data-testid': `event-${e.id}` },
        el('span', { class: 'kind' }, e.kind),
        el('span', { class: 'title' }, e.title),
        el('span', { class: 'meta' }, `${formatWhen(e.startsAt)} · ${e.venue}`),
        el(
          'span',
          { class: 'foot' },
          el('span', { class: 'price' }, formatMoney(e.priceCents)),
          el('span', { class: e.seatsFree === 0 ? 'left none' : 'left' }, e.seatsFree === 0 ? 'Sold out' : `${e.seatsFree} seats left`),
        ),
      ),
    ),
  ),
);
