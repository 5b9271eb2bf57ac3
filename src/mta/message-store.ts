// Where a listing parser puts its messages. A plain scan (no attribution, no --messages) needs only
// the queue's counts, so there the parser keeps just the message it is still reading (later lines
// may still mark it frozen or held) and tallies the ones before: no per-message objects live past
// their own lines, which is most of a big queue's memory and garbage collection.
import type { QueueCounts, QueueListing, QueueMessage } from './types.js';

export type { QueueCounts };

export const noCounts = (): QueueCounts => ({ total: 0, frozen: 0, bounces: 0, held: 0, oldestSeconds: null });

/** Count one message into `c`. */
export function countMessage(c: QueueCounts, m: QueueMessage): void {
  c.total++;
  if (m.frozen) c.frozen++;
  if (m.bounce) c.bounces++;
  if (m.held) c.held++;
  if (m.ageSeconds !== null && (c.oldestSeconds === null || m.ageSeconds > c.oldestSeconds)) c.oldestSeconds = m.ageSeconds;
}

/** The sum of several parsers' tallies; undefined when none tallied (they kept their messages). */
export function addCounts(...parts: (QueueCounts | null)[]): QueueCounts | undefined {
  const some = parts.filter((p): p is QueueCounts => p !== null);
  if (some.length === 0) return undefined;
  const c = noCounts();
  for (const p of some) {
    c.total += p.total;
    c.frozen += p.frozen;
    c.bounces += p.bounces;
    c.held += p.held;
    if (p.oldestSeconds !== null && (c.oldestSeconds === null || p.oldestSeconds > c.oldestSeconds)) c.oldestSeconds = p.oldestSeconds;
  }
  return c;
}

/** A parser's messages: all kept, or (counting) only the one being read, the rest tallied. */
export class MessageStore<M extends QueueMessage> {
  /** The kept messages; always empty when counting. */
  readonly list: M[] = [];
  private readonly tally: QueueCounts | null;
  /** Counting: the message still being read. */
  private open: M | undefined;

  constructor(countsOnly = false) {
    this.tally = countsOnly ? noCounts() : null;
  }

  get counting(): boolean {
    return this.tally !== null;
  }

  push(m: M): void {
    if (this.tally === null) this.list.push(m);
    else {
      if (this.open) countMessage(this.tally, this.open);
      this.open = m;
    }
  }

  /** The message read last (the one later lines still belong to). */
  last(): M | undefined {
    return this.tally === null ? this.list[this.list.length - 1] : this.open;
  }

  /** Take back the message read last (it turned out not to be one). */
  dropLast(): void {
    if (this.tally === null) this.list.pop();
    else this.open = undefined;
  }

  /** The tally of every message not kept (the last one counted now); null when keeping. */
  counts(): QueueCounts | null {
    if (this.tally === null) return null;
    if (this.open) countMessage(this.tally, this.open);
    this.open = undefined;
    return this.tally;
  }
}

/** `listing` with `counts` when a parser counted instead of keeping. */
export function withCounts<L extends QueueListing>(listing: L, counts: QueueCounts | null): L {
  return counts ? { ...listing, counts } : listing;
}
