// An event's page: its seat map, live.
//
//   event.{id}  (subscription)  seat changes from everyone, presence → "N people viewing"
//   user.{me}   (subscription)  "your tickets are booked", "your hold ran out"
//   RPC get:events/{id}            the whole seat map (on first subscribe, or when recovery failed)
//   RPC post:events/{id}/holds     hold a seat           → POST   /api/events/{id}/holds
//   RPC delete:events/{id}/holds/S give a hold back     → DELETE /api/events/{id}/holds/S
//   RPC post:events/{id}/purchase  buy what you hold     → POST   /api/events/{id}/purchase
import { el, formatMoney, formatWhen, showMe, toast } from './common.js';
import { call, createClient } from './realtime.js';
import { SeatMap } from './seat-map.js';

const eventId = Number(location.pathname.split('/')[2]);
const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

const me = await showMe();
const client = createClient();
let event = null;
/** Whether a whole seat map was loaded once (recovery only brings changes after it). */
let loaded = false;
/** Server time minus ours (ms), for the countdowns of holds. */
let clockOffset = 0;
/** How long a hold lasts (ms): no countdown shows more. */
let holdMs = Infinity;

const map = new SeatMap($('seat-map'), { me: me.id, onSeat, onChange: renderBasket });

// ---- the event's channel: seat changes, presence, recovery ------------------------------------

const eventSub = client.newSubscription(`event.${eventId}`);

eventSub.on('publication', (ctx) => {
  if (ctx.data?.type === 'seats') map.apply(ctx.data.version, ctx.data.seats);
});

eventSub.on('subscribed', async (ctx) => {
  // recovered: Gyre replayed what this page missed while away (from the channel's history), so
  // the map is current once those publications are applied. Otherwise (first subscribe, or too
  // much missed) the page loads the whole map.
  const recovered = ctx.recovered && loaded;
  document.body.dataset.sync = recovered ? 'recovered' : 'loading';
  if (!recovered) await loadSeatMap();
  document.body.dataset.subscribes = String(Number(document.body.dataset.subscribes ?? 0) + 1);
  updateViewers();
});
eventSub.on('join', updateViewers);
eventSub.on('leave', updateViewers);
eventSub.on('unsubscribed', (ctx) => {
  // Refused by the topic registry (no such event): nothing to show.
  if (ctx.code === 103) showProblem(`There is no event ${eventId}.`);
});

async function loadSeatMap() {
  const res = await call(client, `get:events/${eventId}`);
  if (res.code === 404) return showProblem(res.message);
  if (res.code !== 200) {
    // Not connected any more (the next subscribe loads it), or a hiccup: try again shortly.
    if (eventSub.state === 'subscribed') setTimeout(loadSeatMap, 2000);
    return;
  }
  clockOffset = res.serverTime - Date.now();
  holdMs = res.holdSeconds * 1000;
  if (event === null) renderEvent(res.event, res.holdSeconds);
  event = res.event;
  map.load(res);
  loaded = true;
  document.body.dataset.sync = 'loaded';
}

async function updateViewers() {
  if (eventSub.state !== 'subscribed') return;
  try {
    const { numUsers } = await eventSub.presenceStats();
    const viewers = $('viewers');
    viewers.dataset.count = String(numUsers);
    viewers.querySelector('.count').textContent = numUsers === 1 ? 'Only you are viewing' : `${numUsers} people viewing`;
  } catch {
    // disconnected meanwhile: the next subscribe asks again
  }
}

// ---- the user's channel: confirmations ------------------------------------------------------------

const mySub = client.newSubscription(`user.${me.id}`);
mySub.on('publication', ({ data }) => {
  if (data?.type === 'booked') {
    const { order } = data;
    toast(`Your tickets are booked: ${order.seats.join(', ')} for ${order.eventTitle} (order #${order.id}, ${formatMoney(order.totalCents)}).`, 'ok');
  } else if (data?.type === 'hold_expired') {
    toast(`Your hold on ${data.seats.join(', ')} (${data.eventTitle}) ran out: the seat${data.seats.length > 1 ? 's are' : ' is'} free again.`, 'info');
  }
});

// ---- clicks -------------------------------------------------------------------------------------------

async function onSeat(seat, view) {
  map.pending(seat, true);
  const res =
    view === 'mine'
      ? await call(client, `delete:events/${eventId}/holds/${seat}`)
      : await call(client, `post:events/${eventId}/holds`, { seat });
  map.pending(seat, false);
  // Success shows as the seat's new state, broadcast to every viewer including this one.
  if (res.code >= 200 && res.code < 300) {
    if (res.serverTime) clockOffset = res.serverTime - Date.now();
    return;
  }
  toast(res.message ?? `Seat ${seat}: refused (${res.code}).`, 'error');
}

$('buy').addEventListener('click', async () => {
  const button = $('buy');
  button.disabled = true;
  const res = await call(client, `post:events/${eventId}/purchase`);
  // Success: the seats turn into tickets (event channel) and the confirmation arrives on user.{me}.
  if (res.code !== 201) toast(res.message ?? `The purchase failed (${res.code}).`, 'error');
  renderBasket();
});

// ---- rendering ----------------------------------------------------------------------------------------

function renderEvent(e, holdSeconds) {
  document.title = `${e.title} · Gyre Tickets`;
  $('event-kind').textContent = `${e.kind} · ${e.venue}`;
  $('event-title').textContent = e.title;
  $('event-when').textContent = `${formatWhen(e.startsAt)} · ${formatMoney(e.priceCents)} per seat`;
  const holdFor = holdSeconds >= 120 ? `${Math.round(holdSeconds / 60)} minutes` : `${holdSeconds} seconds`;
  $('hold-hint').textContent = `Click a free seat to hold it for ${holdFor}, then buy.`;
  document.querySelector('.event-page').classList.remove('loading');
}

function renderBasket() {
  const held = map.inView('mine');
  const owned = map.inView('owned');
  const now = Date.now() + clockOffset;
  $('held-list').replaceChildren(
    ...held.map((s) =>
      el(
        'li',
        { 'data-seat': s.id },
        el('span', { class: 'tag tag-mine' }, s.id),
        el('span', { class: 'countdown', 'data-expires': s.expiresAt }, countdown(s.expiresAt - now)),
        el('button', { class: 'link', type: 'button', 'aria-label': `Release ${s.id}`, onclick: () => onSeat(s.id, 'mine') }, 'Release'),
      ),
    ),
  );
  $('held-empty').hidden = held.length > 0;
  const price = event?.priceCents ?? 0;
  $('total').textContent = formatMoney(held.length * price);
  const buy = $('buy');
  buy.disabled = held.length === 0;
  buy.textContent = held.length === 0 ? 'Buy tickets' : `Buy ${held.length} ticket${held.length > 1 ? 's' : ''}`;
  $('owned-list').replaceChildren(...owned.map((s) => el('li', {}, el('span', { class: 'tag tag-owned' }, s.id))));
  $('owned').hidden = owned.length === 0;
}

function countdown(ms) {
  const s = Math.max(0, Math.ceil(Math.min(ms, holdMs) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

// The countdowns tick; the seats themselves free up when the server says so (a broadcast).
setInterval(() => {
  const now = Date.now() + clockOffset;
  for (const c of document.querySelectorAll('.countdown')) c.textContent = countdown(Number(c.dataset.expires) - now);
}, 1000);

function showProblem(text) {
  document.querySelector('.event-page').classList.remove('loading');
  document.querySelector('.event-page').classList.add('failed');
  $('problem').textContent = text;
  $('problem').hidden = false;
}

client.connect();
eventSub.subscribe();
mySub.subscribe();
