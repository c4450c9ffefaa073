/**
 * Where a (re)subscribing client starts: the stream position, and for a recovering client all the
 * publications it missed, or none (`recovered: false`), never a partial replay.
 */
import type { Broker } from '../engine/types.js';
import type { Publication } from '../protocol/types.js';
import type { ResolvedChannel } from './channel-rules.js';

export interface Recovery {
  publications: Publication[];
  epoch: string;
  /** Offset for the result: the client's own when recovered (each replayed publication moves it). */
  offset: number;
  recovered: boolean;
  /** The stream top seen: publications held back during set-up up to here are duplicates. */
  lastOffset: number;
}

/**
 * @param since the client's position, when it asked to recover
 * @param maxMissed `client.recovery_max_publication_limit` (0 = no limit)
 */
export async function recoverFrom(
  broker: Broker,
  resolved: ResolvedChannel,
  metaTtl: number,
  since: { epoch: string; offset: number } | undefined,
  maxMissed: number,
): Promise<Recovery> {
  const channel = resolved.channel;
  if (since === undefined) {
    const top = (await broker.history(channel, { limit: 0, metaTtl })).position;
    return { publications: [], epoch: top.epoch, offset: top.offset, recovered: false, lastOffset: top.offset };
  }
  if (resolved.options.force_recovery_mode === 'cache') {
    // Cache mode: the client only needs the latest publication, if it has not seen it.
    const latest = await broker.history(channel, { limit: 1, reverse: true, metaTtl });
    const top = latest.position;
    const seen = top.epoch === since.epoch && top.offset <= since.offset;
    const publications = seen ? [] : latest.publications;
    const offset = publications.length > 0 ? publications[0]!.offset - 1 : top.offset;
    return { publications, epoch: top.epoch, offset, recovered: true, lastOffset: top.offset };
  }
  const res = await broker.history(channel, { since: { offset: since.offset, epoch: since.epoch }, limit: -1, metaTtl });
  const top = res.position;
  const missed = top.offset - since.offset;
  const complete =
    top.epoch === since.epoch &&
    missed >= 0 &&
    (missed === 0 ||
      (res.publications.length === missed &&
        res.publications[0]!.offset === since.offset + 1 &&
        (maxMissed <= 0 || missed <= maxMissed)));
  if (!complete) return { publications: [], epoch: top.epoch, offset: top.offset, recovered: false, lastOffset: top.offset };
  return { publications: res.publications, epoch: top.epoch, offset: since.offset, recovered: true, lastOffset: top.offset };
}
