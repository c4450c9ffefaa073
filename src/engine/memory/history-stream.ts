/**
 * One channel's history stream in memory: an epoch, the top offset, and the last `size`
 * publications, which expire together `ttl` ms after the last publish.
 */
import type { Publication, StreamPosition } from '../../protocol/types.js';
import type { HistoryOptions, HistoryQuery, HistoryResult } from '../types.js';

export class HistoryStream {
  private top = 0;
  private pubs: Publication[] = [];
  private itemsExpireAt = 0;
  private metaExpireAt: number;

  constructor(
    readonly epoch: string,
    now: number,
    metaTtl: number,
  ) {
    this.metaExpireAt = metaTtl > 0 ? now + metaTtl : Number.POSITIVE_INFINITY;
  }

  /** True when the stream meta (epoch and offset) has expired: a new epoch starts. */
  metaExpired(now: number): boolean {
    return now >= this.metaExpireAt;
  }

  /** Extends the meta TTL from `now`: reads keep a stream's epoch alive too, as in Centrifugo. */
  touch(now: number, metaTtl: number): void {
    if (metaTtl > 0) this.metaExpireAt = now + metaTtl;
  }

  /** Appends a publication, assigning it the next offset. */
  append(pub: Publication, opts: HistoryOptions, now: number): StreamPosition {
    this.dropExpired(now);
    this.top += 1;
    pub.offset = this.top;
    this.pubs.push(pub);
    if (this.pubs.length > opts.size) this.pubs.splice(0, this.pubs.length - opts.size);
    this.itemsExpireAt = now + opts.ttl;
    if (opts.metaTtl > 0) this.metaExpireAt = now + opts.metaTtl;
    return { offset: this.top, epoch: this.epoch };
  }

  /** The last publication still in history. */
  last(): Publication | undefined {
    return this.pubs[this.pubs.length - 1];
  }

  /** Drops the publications once their TTL has passed (the position stays). */
  dropExpired(now: number): void {
    if (this.pubs.length > 0 && now >= this.itemsExpireAt) this.pubs = [];
  }

  clear(): void {
    this.pubs = [];
  }

  read(query: HistoryQuery, now: number): HistoryResult {
    this.dropExpired(now);
    const position = { offset: this.top, epoch: this.epoch };
    if (query.limit === 0) return { publications: [], position };
    const after = query.since?.offset ?? 0;
    let list: Publication[];
    if (query.reverse) {
      list = (after > 0 ? this.pubs.filter((p) => p.offset < after) : [...this.pubs]).reverse();
    } else {
      list = after > 0 ? this.pubs.filter((p) => p.offset > after) : [...this.pubs];
    }
    if (query.limit > 0 && list.length > query.limit) list = list.slice(0, query.limit);
    return { publications: list, position };
  }
}
