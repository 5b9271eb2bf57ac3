// The whole output read as the listing, for when the queue command did not run as built (no
// shell, killed, not our output at all): what the batch parse did before the reads streamed.
// It reads only up to the end of the first section (normally a count and its marker): from there
// the listing section's own parser sees the same lines in the same state, so the fallback is this
// one's messages followed by that parser's. Only if the first section left it inside a message
// (not the MTA's output) does it read on, to the end. exim (-bpc, -bp) and qmail (qstat, qread).
import type { QueueCounts } from './message-store.js';
import { addCounts } from './message-store.js';
import type { SectionStream } from './sections.js';
import { LineWarnings } from './stream-text.js';
import type { QueueMessage } from './types.js';

/** A listing parser fed line by line (EximBpParser, QmailQreadParser). */
export interface ListingLineParser<M extends QueueMessage> {
  line(text: string, n: number): void;
  /** The message later lines still belong to; null outside any. */
  readonly cur: M | null;
  readonly warnings: LineWarnings;
  finish(): M[];
  counts(): QueueCounts | null;
}

export class WholeOutputFallback<M extends QueueMessage> {
  private reads = true;
  private toEnd = false;

  constructor(
    private readonly whole: ListingLineParser<M>,
    /** The parser of the listing's own section. */
    private readonly listing: ListingLineParser<M>,
    /** The section before the listing's. */
    private readonly first: string,
  ) {}

  /** One output line: to the whole-output parser while it reads, then to the sections. */
  line(text: string, n: number, sections: SectionStream): void {
    if (this.reads) this.whole.line(text, n);
    sections.push(text);
    if (this.reads && !this.toEnd && sections.closed.has(this.first)) {
      if (this.whole.cur === null) this.reads = false;
      else this.toEnd = true;
    }
  }

  /** Whether the result includes the listing parser's messages (after the whole-output parser's). */
  get listingUsed(): boolean {
    return !this.toEnd && !this.reads;
  }

  /** The listing as the whole output reads: messages, what was counted instead, line warnings. */
  result(): { messages: M[]; counts: QueueCounts | undefined; warnings: string[] } {
    const both = this.listingUsed;
    const w = new LineWarnings();
    w.append(this.whole.warnings);
    if (both) w.append(this.listing.warnings);
    const messages = both ? [...this.whole.finish(), ...this.listing.finish()] : this.whole.finish();
    return { messages, counts: addCounts(this.whole.counts(), both ? this.listing.counts() : null), warnings: w.list() };
  }
}
