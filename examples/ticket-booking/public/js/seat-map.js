// The seat map: a grid of seat buttons and the state of every seat.
//
// Two things change it: a whole seat map (loaded when the page subscribes without recovering) and
// seat changes (publications on event.{id}). Both carry the event's version, and every seat
// remembers the version it was last set at, so whichever arrives last, the newer state wins:
// a seat map loaded while changes are arriving cannot undo them, and a late change cannot undo
// a newer map.
import { el } from './common.js';

const rowName = (row) => String.fromCharCode(65 + row);

/** How a seat looks to this user: free, mine (held by me), held (by someone else), sold, owned (sold to me). */
function viewOf(seat, me) {
  if (seat.status === 'held') return seat.user === me ? 'mine' : 'held';
  if (seat.status === 'sold') return seat.user === me ? 'owned' : 'sold';
  return 'free';
}

const TITLES = {
  free: 'free: click to hold it',
  mine: 'held by you: click to release it',
  held: 'held by someone else',
  sold: 'sold',
  owned: 'your ticket',
};

export class SeatMap {
  /**
   * @param {HTMLElement} root where the grid goes
   * @param {{me: string, onSeat: (seatId: string, view: string) => void, onChange: () => void}} options
   */
  constructor(root, { me, onSeat, onChange }) {
    this.root = root;
    this.me = me;
    this.onSeat = onSeat;
    this.onChange = onChange;
    /** seat id → {status, user, expiresAt, version, button} */
    this.seats = new Map();
    this.layout = '';
  }

  /** Builds the grid for rows × seatsPerRow (once; again only if the layout changed). */
  build(rows, seatsPerRow) {
    const layout = `${rows}x${seatsPerRow}`;
    if (layout === this.layout) return;
    this.layout = layout;
    this.seats.clear();
    const aisle = Math.ceil(seatsPerRow / 2);
    this.root.style.setProperty('--cols', String(seatsPerRow));
    this.root.style.setProperty('--left', String(aisle));
    this.root.style.setProperty('--right', String(seatsPerRow - aisle));
    const grid = el('div', { class: 'seat-grid', role: 'group', 'aria-label': 'Seats' });
    for (let r = 0; r < rows; r++) {
      grid.append(el('span', { class: 'row-label' }, rowName(r)));
      for (let n = 1; n <= seatsPerRow; n++) {
        const id = `${rowName(r)}${n}`;
        const button = el('button', { type: 'button', class: 'seat', 'data-seat': id, 'data-testid': `seat-${id}`, 'data-state': 'free' }, String(n));
        button.addEventListener('click', () => this.onSeat(id, button.dataset.state));
        if (n === aisle + 1) grid.append(el('span', { class: 'aisle', 'aria-hidden': 'true' }));
        grid.append(button);
        this.seats.set(id, { status: 'free', version: -1, button });
        this.paint(id);
      }
      grid.append(el('span', { class: 'row-label' }, rowName(r)));
    }
    this.root.replaceChildren(grid);
  }

  /** A whole seat map: `taken` lists the seats that are not free at `version`. */
  load({ event, version, taken }) {
    this.build(event.rows, event.seatsPerRow);
    const byId = new Map(taken.map((s) => [s.seat, s]));
    for (const [id, seat] of this.seats) {
      if (seat.version > version) continue; // a newer change already arrived
      const next = byId.get(id) ?? { status: 'free' };
      this.set(id, next, version);
    }
    this.onChange();
  }

  /** Seat changes at `version` (a publication). */
  apply(version, changes) {
    let changed = false;
    for (const change of changes) {
      const seat = this.seats.get(change.seat);
      if (!seat || seat.version >= version) continue;
      this.set(change.seat, change, version);
      changed = true;
    }
    if (changed) this.onChange();
  }

  set(id, { status, user, expiresAt }, version) {
    const seat = this.seats.get(id);
    Object.assign(seat, { status, user, expiresAt, version });
    this.paint(id);
  }

  /** Marks a seat as waiting for the server's answer (or not). */
  pending(id, on) {
    this.seats.get(id)?.button.classList.toggle('pending', on);
  }

  paint(id) {
    const seat = this.seats.get(id);
    const view = viewOf(seat, this.me);
    seat.button.dataset.state = view;
    seat.button.setAttribute('aria-label', `Seat ${id}, ${TITLES[view]}`);
    seat.button.title = `${id} · ${TITLES[view]}`;
  }

  /** Seats in one of the views ("mine", "owned" ...), in seat order. */
  inView(view) {
    return [...this.seats].filter(([, s]) => viewOf(s, this.me) === view).map(([id, s]) => ({ id, ...s }));
  }
}
