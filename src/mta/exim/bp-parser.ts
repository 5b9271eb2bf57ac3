// The `exim -bp` line parser (one message line, its recipients and spool errors at a time); the
// listing and the queue reads built on it are listing.ts. Formats follow Exim's queue.c (queue_list).
import {
  FROZEN,
  parseHeadLineSlow,
  LINE_BREAK,
  WS_CHAR,
  NOT_HEAD,
  HEAD,
  parseHeadLineFast,
  parseSenderPart,
  SPOOL_ERROR,
  RCPT,
  RCPT_BPA,
  RCPT_LOOSE,
  headAge,
  headEnd,
  headSize,
  headStart,
} from './bp-line.js';
import type { CompactQueue } from '../compact-queue.js';
import { MessageStore, type QueueCounts } from '../message-store.js';
import { ListBuilder } from '../stream-parts.js';
import { LineWarnings, own } from '../stream-text.js';
import type { QueueMessage } from '../types.js';

/** A -bp entry (localLogin: the login exim prints when an untrusted local user set the sender). */
export type EximQueueMessage = QueueMessage;

/**
 * The `exim -bp` parser (also -bpa, -bpr, -bpu), fed line by line with each line's number in the
 * whole output. Never throws. A message keeps its own copies of what it holds, never the line.
 */
export class EximBpParser {
  private readonly messages: MessageStore<EximQueueMessage> | CompactQueue;
  readonly warnings: LineWarnings;
  /** Recipients are kept (not when only counting). */
  private readonly withRecipients: boolean;
  /** The message recipient lines now belong to (null after a blank line). */
  private current: EximQueueMessage | null = null;
  /** Its recipients so far: given to it as an exactly sized array when it ends (a growing array keeps spare room). */
  private readonly rcpts = new ListBuilder<string>();

  /** Copy what a message keeps (see own()): for lines cut from the transport's chunks, not from one whole text. */
  private readonly keep: (s: string) => string;

  /** `compact`: the messages go there (it keeps its own copies); finish() then returns none. */
  constructor(o: { maxWarnings?: number; copy?: boolean; countsOnly?: boolean; compact?: CompactQueue } = {}) {
    this.warnings = new LineWarnings(o.maxWarnings ?? 100);
    this.messages = o.compact ?? new MessageStore(o.countsOnly);
    this.withRecipients = !o.countsOnly;
    // Counted messages are dropped as soon as the next one starts: nothing of theirs to copy.
    const copy = o.copy && !o.countsOnly && !o.compact;
    this.keep = copy ? own : (s) => s;
    this.keepSender = copy ? pooled(new Map()) : (s) => s;
  }

  /** Senders repeat (a hijacked account sends thousands): equal ones share one copy. */
  private readonly keepSender: (s: string) => string;

  get cur(): EximQueueMessage | null {
    return this.current;
  }

  private set cur(m: EximQueueMessage | null) {
    if (this.current && this.rcpts.length) this.current.recipients = this.rcpts.take();
    this.current = m;
  }

  /** The kept messages, the last one's recipients given to it. */
  finish(): EximQueueMessage[] {
    this.cur = null;
    if (this.messages instanceof MessageStore) return this.messages.list;
    this.messages.finish();
    return [];
  }

  /** What was counted instead of kept (null when keeping); after finish(). */
  counts(): QueueCounts | null {
    return this.messages instanceof MessageStore ? this.messages.counts() : null;
  }

  line(line: string, n: number): void {
    const len = line.length;
    let i = 0;
    while (i < len && line.charCodeAt(i) === 32) i++;
    if (i === len) {
      this.cur = null;
      return;
    }
    const c = line.charCodeAt(i);
    // \S as a regular expression sees it (tab, VT, FF, CR and Unicode spaces are blanks).
    const nonBlank = c > 32 ? c < 127 || !WS_CHAR.test(line[i] ?? '') : c !== 32 && (c < 9 || c > 13);
    if (!nonBlank && line.trim() === '') {
      this.cur = null;
      return;
    }
    // Message lines start within 6 columns (" 0m", a right-aligned size, or a blank size);
    // recipient lines are indented 7+, so a recipient shaped like a message line stays one.
    if (i <= 6 && nonBlank && this.head(line, n)) return;
    this.other(line, i, n);
  }

  private head(line: string, n: number): boolean {
    const f = parseHeadLineFast(line);
    if (f === NOT_HEAD) return false;
    const len = line.length;
    const e = headEnd;
    if (f === HEAD && len - e >= 3 && line.charCodeAt(e) === 32 && line.charCodeAt(e + 1) === 60 && line.charCodeAt(len - 1) === 62) {
      // The usual " <sender>" (no login, not frozen), read in place.
      const sender = line.slice(e + 2, len - 1);
      const msg: EximQueueMessage = {
        id: this.keep(line.slice(headStart, e)),
        sender: this.keepSender(sender),
        recipients: [],
        size: headSize,
        ageSeconds: headAge,
        frozen: false,
        held: false,
        bounce: sender === '',
      };
      // The one before gets its recipients first (the cur setter), then the store may take it.
      this.cur = msg;
      this.messages.push(msg);
      return true;
    }
    const h = f === HEAD ? { id: line.slice(headStart, e), age: headAge, size: headSize, rest: line.slice(e) } : parseHeadLineSlow(line);
    if (!h) return false;
    const sp = parseSenderPart(h.rest);
    if (!sp) this.warnings.line(n, 'exim -bp: sender part not understood', line);
    const msg: EximQueueMessage = {
      id: this.keep(h.id),
      sender: this.keepSender(sp?.sender ?? ''),
      recipients: [],
      size: h.size,
      ageSeconds: h.age,
      frozen: sp?.frozen ?? false,
      held: false,
      bounce: sp?.sender === '',
    };
    if (sp?.login !== undefined) msg.localLogin = this.keep(sp.login);
    if (sp && sp.sender === null) msg.reason = 'envelope not readable';
    this.cur = msg;
    this.messages.push(msg);
    return true;
  }

  /** Not a message line: a spool error of the current message, a recipient, or not understood. */
  private other(line: string, spaces: number, n: number): void {
    const cur = this.cur;
    if (line.includes('*** spool ')) {
      const spool = SPOOL_ERROR.exec(line);
      if (spool && cur) {
        // After a header (not envelope) error exim still appends the frozen marker here.
        let why = spool[1] ?? 'spool error';
        if (why.endsWith(FROZEN)) {
          cur.frozen = true;
          why = why.slice(0, -FROZEN.length);
        }
        cur.reason = this.keep(why);
        this.warnings.line(n, `exim -bp: message ${cur.id} unreadable`, line);
        return;
      }
    }
    // Recipients: 8 spaces, ' ' or 'D', space, address; -bpa extras: 7 spaces, '+D', space.
    if (cur && spaces >= 8 && line.length >= 11 && line.charCodeAt(9) === 32 && !LINE_BREAK.test(line)) {
      const mark = line.charCodeAt(8);
      if (mark === 32 || mark === 68) {
        if (mark === 32 && this.withRecipients) this.rcpts.add(this.keep(line.slice(10)));
        return;
      }
    }
    const strict = RCPT.exec(line) ?? RCPT_BPA.exec(line);
    const loose = strict ?? RCPT_LOOSE.exec(line);
    if (loose && cur) {
      const mark = (loose[1] ?? ' ').trim();
      if (mark === '' && this.withRecipients) this.rcpts.add(this.keep(loose[2] ?? ''));
      return;
    }
    this.warnings.line(n, cur ? 'exim -bp: line not understood' : 'exim -bp: line outside any message', line);
  }
}

/** own(), equal strings sharing one copy (up to 10,000 different ones). */
function pooled(pool: Map<string, string>): (s: string) => string {
  return (s) => {
    let k = pool.get(s);
    if (k === undefined) {
      k = own(s);
      if (pool.size < 10_000) pool.set(k, k);
    }
    return k;
  };
}
