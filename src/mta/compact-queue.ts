// The attributed scan's messages, kept compactly (issue #11: a 100k-message host within 100 MB).
// The rules read of a message only its id, sender, authId, clientIp, how many recipients it has
// and its flags; the recipients themselves only of bounces (is each foreign, whose sender is it?).
// So no object per message: ids packed in byte pages, repeated strings (senders, accounts, client
// addresses) interned once and referred to by number, numbers and flags in typed-array columns
// (columns.ts), bounces packed whole (compact-bounces.ts). `--messages` keeps every message whole
// instead (MessageStore), and the rules read either through a QueueReader.
import { countMessage, noCounts } from './message-store.js';
import { BounceColumns } from './compact-bounces.js';
import { hash, Interner, NumberColumn, StringColumn } from './columns.js';
import type { CompactMessages, QueueCounts, QueueListing, QueueMessage, QueueReader } from './types.js';

export type { QueueReader };

/** A kept message list as a reader. */
export function arrayReader(messages: readonly QueueMessage[]): QueueReader {
  return {
    length: messages.length,
    id: (i) => messages[i]!.id,
    sender: (i) => messages[i]!.sender,
    senderTruncated: (i) => messages[i]!.senderTruncated === true,
    authId: (i) => messages[i]!.authId,
    clientIp: (i) => messages[i]!.clientIp,
    recipientCount: (i) => messages[i]!.recipients.length,
    bounce: (i) => messages[i]!.bounce,
    whole: (i) => messages[i]!,
  };
}

/** A reader of either kind (rules and tests pass message lists). */
export function readerOf(q: readonly QueueMessage[] | QueueReader): QueueReader {
  return Array.isArray(q) ? arrayReader(q) : (q as QueueReader);
}

/** `a`'s messages, then `b`'s. */
export function concatReaders(a: QueueReader, b: QueueReader): QueueReader {
  const at =
    <T>(f: (r: QueueReader, i: number) => T) =>
    (i: number) =>
      i < a.length ? f(a, i) : f(b, i - a.length);
  return {
    length: a.length + b.length,
    id: at((r, i) => r.id(i)),
    sender: at((r, i) => r.sender(i)),
    senderTruncated: at((r, i) => r.senderTruncated(i)),
    authId: at((r, i) => r.authId(i)),
    clientIp: at((r, i) => r.clientIp(i)),
    recipientCount: at((r, i) => r.recipientCount(i)),
    bounce: at((r, i) => r.bounce(i)),
    whole: at((r, i) => r.whole(i)),
  };
}

/** A listing's messages as the rules read them: the kept ones, then the compact ones. */
export function listingQueue(listing: QueueListing): QueueMessage[] | QueueReader {
  const { messages, compact } = listing;
  if (!compact) return messages;
  if (messages.length === 0) return compact;
  return concatReaders(arrayReader(messages), compact);
}

/** Each account's queued messages, as indexes in listing order (messages without one left out). */
export function indexesByAccount(q: QueueReader): Map<string, number[]> {
  const by = new Map<string, number[]>();
  for (let i = 0; i < q.length; i++) {
    const a = q.authId(i);
    if (a) (by.get(a) ?? by.set(a, []).get(a)!).push(i);
  }
  return by;
}

/** Whether any message is a bounce. */
export function anyBounce(q: QueueReader): boolean {
  for (let i = 0; i < q.length; i++) if (q.bounce(i)) return true;
  return false;
}

const FROZEN = 1;
const HELD = 2;
const BOUNCE = 4;
const SENDER_CUT = 8;
/** Attribution found this message's envelope (exim: its -H file was read). */
const SEEN = 16;

/**
 * Messages pushed as the listing parser completes them (the last one pushed may still change: it is
 * stored when the next arrives, or at finish()). A message's attribution is set later by index.
 */
export class CompactQueue implements CompactMessages {
  private readonly ids = new StringColumn();
  private readonly strings = new Interner();
  // Numbers of interned strings (0: none); the rules never read authSender (bounces keep theirs).
  private readonly senders = new NumberColumn('u32');
  private readonly authIds = new NumberColumn('u32');
  private readonly clientIps = new NumberColumn('u32');
  private readonly rcpts = new NumberColumn('u32');
  private readonly flags = new NumberColumn('u8');
  /** Bounces, kept whole (their recipients are judged). */
  private readonly bounces = new BounceColumns();
  private readonly tally: QueueCounts = noCounts();
  private open: QueueMessage | undefined;
  /** Open-addressing id → index + 1 table, built on the first lookup. */
  private table: Uint32Array | null = null;

  get length(): number {
    return this.ids.length + (this.open ? 1 : 0);
  }

  /** Add a message; the one before it is stored now (the parser is done with it). */
  push(m: QueueMessage): void {
    this.store();
    this.open = m;
  }

  /** Store the open message; after this the queue is complete. */
  finish(): this {
    this.store();
    return this;
  }

  private store(): void {
    const m = this.open;
    if (!m) return;
    this.open = undefined;
    const i = this.ids.length;
    this.ids.push(m.id);
    this.senders.set(i, this.strings.add(m.sender));
    this.authIds.set(i, this.strings.add(m.authId));
    this.clientIps.set(i, this.strings.add(m.clientIp));
    this.rcpts.set(i, m.recipients.length);
    this.flags.set(i, (m.frozen ? FROZEN : 0) | (m.held ? HELD : 0) | (m.bounce ? BOUNCE : 0) | (m.senderTruncated ? SENDER_CUT : 0));
    if (m.bounce) this.bounces.add(i, m, (x) => this.strings.get(this.strings.add(x))!);
    countMessage(this.tally, m);
    this.table = null;
  }

  /** The queue's counts (every message). */
  counts(): QueueCounts {
    this.store();
    return { ...this.tally };
  }

  id(i: number): string {
    return this.ids.get(i);
  }
  sender(i: number): string {
    return this.strings.get(this.senders.get(i)) ?? '';
  }
  senderTruncated(i: number): boolean {
    return (this.flags.get(i) & SENDER_CUT) !== 0;
  }
  authId(i: number): string | undefined {
    return this.strings.get(this.authIds.get(i));
  }
  clientIp(i: number): string | undefined {
    return this.strings.get(this.clientIps.get(i));
  }
  recipientCount(i: number): number {
    return this.rcpts.get(i);
  }
  bounce(i: number): boolean {
    return (this.flags.get(i) & BOUNCE) !== 0;
  }
  whole(i: number): QueueMessage | null {
    if (!this.bounces.has(i)) return null;
    const f = this.flags.get(i);
    return this.bounces.whole(i, {
      id: this.id(i),
      sender: this.sender(i),
      frozen: (f & FROZEN) !== 0,
      held: (f & HELD) !== 0,
      bounce: true,
      authId: this.authId(i),
      clientIp: this.clientIp(i),
      senderTruncated: (f & SENDER_CUT) !== 0,
    });
  }

  /** Set what attribution found of message `i` (undefined: none). */
  attribute(i: number, a: { authId?: string; clientIp?: string; authSender?: string }): void {
    this.authIds.set(i, this.strings.add(a.authId));
    this.clientIps.set(i, this.strings.add(a.clientIp));
    if (this.bounces.has(i))
      this.bounces.setAuthSender(i, a.authSender === undefined ? undefined : this.strings.get(this.strings.add(a.authSender)));
  }

  /** Mark message `i` as having had its envelope read. */
  markSeen(i: number): void {
    this.flags.set(i, this.flags.get(i) | SEEN);
  }
  seen(i: number): boolean {
    return (this.flags.get(i) & SEEN) !== 0;
  }

  /** Take back every attribution (a cut-short envelope dump attributes nothing). */
  clearAttribution(): void {
    this.store();
    for (let i = 0; i < this.ids.length; i++) this.attribute(i, {});
  }

  /** The indexes of the messages with this id, in listing order (ids may repeat in a hostile listing). */
  find(id: string): number[] {
    this.store();
    const t = this.table ?? (this.table = this.buildTable());
    const mask = t.length - 1;
    const out: number[] = [];
    for (let s = hash(id) & mask; t[s] !== 0; s = (s + 1) & mask) {
      const i = t[s]! - 1;
      if (this.ids.equals(i, id)) out.push(i);
    }
    return out.sort((a, b) => a - b);
  }

  private buildTable(): Uint32Array {
    let size = 16;
    while (size < this.ids.length * 2) size *= 2;
    const t = new Uint32Array(size);
    const mask = size - 1;
    for (let i = 0; i < this.ids.length; i++) {
      let s = this.ids.hash(i) & mask;
      while (t[s] !== 0) s = (s + 1) & mask;
      t[s] = i + 1;
    }
    return t;
  }
}
