// Sendmail: `mailq` (= sendmail -bp), following queue.c print_single_queue()/printqueue().
//
//   \t\t/var/spool/mqueue (2 requests)          or  /var/spool/mqueue is empty
//   -----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------
//   oAJEfhdW014123*     512 Fri Nov 19 14:41 <alice@example.com>
//        QUARANTINE: reason
//         8BITMIME   (Deferred: Connection refused by mx.example.net)
//   \t\t\t\t\t <bob@example.net>
//   oAJEfhdW014124 (job completed)
//   \t\tTotal requests: 2
//
// Debian's mailq prints "MSP Queue status..." / "MTA Queue status..." sections itself.
//
// Addresses go through prtstr(): the sender gets 39 output characters, each recipient 38
// (non-verbose mailq), a backslash is printed "\\" (2 of the budget), any other byte that is not
// printable ASCII "\ooo" (4), and a "\\" or "\ooo" that no longer fits is dropped. So a long
// address arrives cut short, without its closing ">": it is marked (senderTruncated /
// truncatedRecipients) and its domain must never be compared. The attributed listing takes
// the full sender from the mail log's from= line (%.200s) when that line agrees.
//
// "(N requests)" and "Total requests:" count every qf file sendmail found before printing;
// an entry whose qf vanished meanwhile prints "(job completed)", one whose qf has no T line
// yet (being written) "(no control file)". Those are listed as `transient`, not as messages,
// and are taken off reportedTotal, so messages.length equals it when the queue stands still.
//
// This file: the `mailq` listing parser alone (sendmail.ts re-exports it; split for size).

import { ageFrom, indentWidth } from '../util.js';
import { feedLines, ListBuilder, WarningList } from '../stream-parts.js';
import { YearlessClock } from '../yearless.js';
import { MessageStore, withCounts } from '../message-store.js';
import type { QueueListing, QueueMessage } from '../types.js';
import { isAlnum, unbracket, isNullSender, splitIdMark, plainAscii, decodeMailqAddress } from './mailq-address.js';
export { unbracket, isNullSender, cleanAddress, decodeMailqAddress, type MailqAddress } from './mailq-address.js';

export interface SendmailQueueMessage extends QueueMessage {
  /** The character after the id: '*' locked (being delivered), 'X' load too high, '-' too young, '?' lost. */
  mark?: string;
  bodyType?: string;
  quarantine?: string;
  // senderTruncated / truncatedRecipients (QueueMessage): mailq cut the address short (or may
  // have: an unbracketed one as long as the budget); a bracketed one keeps its "<".
  /** The sender was completed from the mail log's from= line (attributed listing only). */
  senderSource?: 'mail log';
}

export interface SendmailQueueDir {
  dir: string;
  /** The "(N requests)" count; 0 for "is empty". */
  count: number;
  /** "(N requests, only M printed)": fewer entries are listed than exist. */
  printed?: number;
}

/** An entry sendmail counted but that is no message (any more / yet). */
export interface SendmailTransientEntry {
  id: string;
  /** "job completed": the qf file went away between reading the directory and printing; "no control file": it has no T line yet (being written). */
  state: 'job completed' | 'no control file';
  queue?: string;
}

export interface SendmailQueueListing extends QueueListing {
  messages: SendmailQueueMessage[];
  dirs: SendmailQueueDir[];
  /** Every "Total requests: N" line, in order (as printed: transient entries included). */
  totals: number[];
  /** Entries counted by sendmail but not messages; reportedTotal leaves them out. */
  transient: SendmailTransientEntry[];
}

export interface MailqOptions {
  /** Epoch seconds "now", for ageSeconds (Q-Time has no year and no zone). */
  nowSeconds?: number;
  /** The server's UTC offset in seconds. Default 0. */
  tzOffsetSeconds?: number;
  /** Keep no messages, count them (see message-store.ts). */
  countsOnly?: boolean;
}

/** prtstr() output budgets of non-verbose mailq (queue.c print_single_queue). */
export const MAILQ_SENDER_WIDTH = 39;
export const MAILQ_RECIPIENT_WIDTH = 38;

const DIR_HEADER = /^\s*(\S.*?) \((\d+) requests?(?:, only (\d+) printed)?\)\s*$/;
const DIR_EMPTY = /^\s*(\S.*?) is empty\s*$/;
const TOTAL = /^\s*Total requests:\s*(\d+)(?: \(about\))?\s*$/i;
const SECTION = /^(MSP|MTA) Queue status\.\.\.\s*$/;
const COLUMNS = /^-+Q-ID-+\s+--Size--\s+/;
// Q-Time's parts are captured too (5-9) so its date is not matched twice; the sender is 10.
const ENTRY = /^\s*([0-9A-Za-z]{6,20})([*X?\- ]?)\s*(-?\d+)\s+((\w{3})\s+(\w{3})\s+(\d{1,2})\s+(\d{1,2}):(\d\d))\s?(.*)$/;
const ENTRY_GONE = /^\s*([0-9A-Za-z]{6,20})([*X?\- ]?)\s*\(([^()]*)\)\s*$/;
const BODY_REASON = /^\s*(?:([A-Z0-9]+)\s+)?\((.*)\)\s*$/;
/** What '.' does not match: a reason with one of these is left to BODY_REASON. */
const LINE_BREAK = /[\n\r\u2028\u2029]/;
const BODY_ONLY = /^\s*(7BIT|8BITMIME|BINARYMIME)\s*$/;
const BODY_TYPES = new Set(['7BIT', '8BITMIME', 'BINARYMIME']);
const QUARANTINE = /^\s*QUARANTINE: (.*)$/;
/** Recipient lines start at column 39-41; body-type/reason lines at 4-17. */
const RECIPIENT_COLUMN = 24;
/**
 * A qf file without a T line: sendmail prints ctime(0) (1 Jan 1970 in the server's zone) as
 * Q-Time and appends " (no control file)" to the entry's last line.
 */
const EPOCH_QTIME = /^(?:Thu\s+Jan\s+1|Wed\s+Dec\s+31)\s/;
const NO_CONTROL_FILE = / \(no control file\)\s*$/;

/** What `\s` matches at the start of a line (JS whitespace; beyond ASCII the regexes decide). */
function isSpace(c: number): boolean {
  return (
    c === 0x20 ||
    (c >= 0x09 && c <= 0x0d) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/**
 * Sendmail `mailq` output fed line by line (one or several queue directories, optionally the
 * Debian MSP/MTA sections). The MTA's count is the sum of "Total requests:" lines when present,
 * else of the per-directory counts, else unknown; reportedTotal is that count less the transient entries.
 */
export class MailqParser {
  private readonly store: MessageStore<SendmailQueueMessage>;
  readonly warnings = new WarningList();
  readonly dirs: SendmailQueueDir[] = [];
  readonly totals: number[] = [];
  readonly transient: SendmailTransientEntry[] = [];
  private dir: string | undefined;
  private cur: SendmailQueueMessage | null = null;
  /** The recipients of the message read last, given to it when the next one starts (or at the end). */
  private readonly recipients = new ListBuilder<string>();
  private recipientsOf: SendmailQueueMessage | undefined;
  /** Q-Time of `cur` was ctime(0): its entry may end in " (no control file)". */
  private curEpoch = false;
  /** Continuation lines of an entry already set aside as transient. */
  private skipping = false;
  private readonly dates: YearlessClock | null;

  constructor(opts: MailqOptions = {}) {
    this.store = new MessageStore(opts.countsOnly);
    this.dates = opts.nowSeconds === undefined ? null : new YearlessClock(opts.nowSeconds, opts.tzOffsetSeconds ?? 0);
  }

  private setAside(id: string, state: SendmailTransientEntry['state']): void {
    this.transient.push(this.dir === undefined ? { id, state } : { id, state, queue: this.dir });
    this.cur = null;
  }

  line(line: string, n: number): void {
    // Where the text starts (after JS whitespace, what \s and trim() skip) and its indent: each
    // pattern is tried only on lines whose first character it can match, in the same order.
    let i0 = 0;
    while (i0 < line.length && isSpace(line.charCodeAt(i0))) i0++;
    if (i0 === line.length) return; // blank
    const c0 = line.charCodeAt(i0);
    if (i0 === 0 && ((c0 === 0x4d /* M */ && SECTION.test(line)) || (c0 === 0x2d /* - */ && COLUMNS.test(line)))) {
      this.cur = null;
      this.skipping = false;
      return;
    }
    const total = (c0 | 0x20) === 0x74 /* T or t */ ? TOTAL.exec(line) : null;
    if (total) {
      this.totals.push(Number(total[1]));
      this.cur = null;
      this.skipping = false;
      return;
    }
    const indent = indentWidth(line);
    const alnum = isAlnum(c0);
    // Entries first: an id line can never look like "<dir> (N requests)" (it has a date).
    const e = alnum && indent < RECIPIENT_COLUMN ? ENTRY.exec(line) : null;
    if (e) return this.entry(e, line, n);
    const gone = alnum && indent <= 2 ? ENTRY_GONE.exec(line) : null;
    if (gone && !BODY_TYPES.has(gone[1] ?? '')) {
      this.skipping = false;
      const { id } = splitIdMark(gone[1] ?? '', gone[2] ?? '');
      const state = gone[3] ?? '';
      if (state === 'job completed' || state === 'no control file') this.setAside(id, state);
      else {
        // "(permission denied)", an errno text: a message that exists but could not be read.
        this.warnings.line(n, `mailq: entry ${id} not readable (${state})`, line);
        this.cur = null;
      }
      return;
    }
    // A directory line ends in ")" or "is empty" (then blanks): a recipient line (most lines) never does.
    let e1 = line.length - 1;
    while (e1 > i0 && isSpace(line.charCodeAt(e1))) e1--;
    const cEnd = line.charCodeAt(e1);
    // "…request)", "…requests)", "…printed)": the letter before the ")" first, a reason line stops there.
    const cLast = line.charCodeAt(e1 - 1);
    const hdr =
      cEnd === 0x29 /* ) */ && (cLast === 0x73 || cLast === 0x74 || cLast === 0x64) /* s t d */ && line.includes(' request')
        ? DIR_HEADER.exec(line)
        : null;
    if (hdr) {
      this.dir = hdr[1];
      const d: SendmailQueueDir = { dir: hdr[1] ?? '', count: Number(hdr[2]) };
      if (hdr[3] !== undefined) {
        d.printed = Number(hdr[3]);
        this.warnings.line(n, `mailq: only ${hdr[3]} of ${hdr[2]} entries listed (MaxQueueRunSize)`, line);
      }
      this.dirs.push(d);
      this.cur = null;
      this.skipping = false;
      return;
    }
    const empty = cEnd === 0x79 /* y */ && indent < RECIPIENT_COLUMN && line.includes(' is empty') ? DIR_EMPTY.exec(line) : null;
    if (empty) {
      this.dirs.push({ dir: empty[1] ?? '', count: 0 });
      this.dir = empty[1];
      this.cur = null;
      this.skipping = false;
      return;
    }
    const space = i0 > 0;
    if (this.skipping && space) return;
    const c = this.cur;
    if (c && space) {
      if (this.curEpoch && NO_CONTROL_FILE.test(line)) {
        // The qf had S/R lines but no T line: not a message yet (the suffix ends the entry).
        this.store.dropLast();
        this.recipients.clear();
        this.recipientsOf = undefined;
        this.setAside(c.id, 'no control file');
        return;
      }
      const q = c0 === 0x51 /* Q */ ? QUARANTINE.exec(line) : null;
      if (q) {
        c.quarantine = q[1] ?? '';
        c.held = true;
        c.reason ??= `quarantined: ${q[1] ?? ''}`;
        return;
      }
      if (indent >= RECIPIENT_COLUMN) {
        // Counting keeps no message, so no recipient either.
        if (this.store.counting) return;
        const rs = this.recipients;
        // The address, trimmed: the "\t\t\t\t\t " prefix is blank too, so it starts at i0.
        let b = line.length;
        while (b > i0 && isSpace(line.charCodeAt(b - 1))) b--;
        if (plainAscii(line, i0, b)) {
          // Decodes to itself (decodeMailqAddress's fast path), cut out of the line once.
          const bracketed = line.charCodeAt(i0) === 0x3c;
          const closed = bracketed && b - i0 >= 2 && line.charCodeAt(b - 1) === 0x3e;
          if (!closed && (bracketed || b - i0 >= MAILQ_RECIPIENT_WIDTH - 4)) (c.truncatedRecipients ??= []).push(rs.length);
          rs.add(closed ? line.slice(i0 + 1, b - 1) : line.slice(i0, b));
          return;
        }
        const r = decodeMailqAddress(line.slice(i0, b), MAILQ_RECIPIENT_WIDTH);
        if (r.truncated) (c.truncatedRecipients ??= []).push(rs.length);
        rs.add(unbracket(r.text));
        return;
      }
      if (c0 === 0x28 /* ( */ && cEnd === 0x29 /* ) */ && e1 > i0 && !LINE_BREAK.test(line)) {
        // BODY_REASON's "(reason)" with only blanks around it, without the pattern's captures.
        if (c.quarantine === undefined || c.reason === undefined) c.reason = line.slice(i0 + 1, e1);
        return;
      }
      const br = c0 === 0x28 /* ( */ || (c0 >= 0x41 && c0 <= 0x5a) || (c0 >= 0x30 && c0 <= 0x39) ? BODY_REASON.exec(line) : null;
      if (br) {
        if (br[1] !== undefined) c.bodyType = br[1];
        if (c.quarantine === undefined || c.reason === undefined) c.reason = br[2] ?? '';
        return;
      }
      const bo = BODY_ONLY.exec(line);
      if (bo) {
        c.bodyType = bo[1] ?? '';
        return;
      }
    }
    this.warnings.line(n, c ? 'mailq: line not understood' : 'mailq: line outside any entry', line);
  }

  private entry(e: RegExpExecArray, line: string, n: number): void {
    this.closeRecipients();
    this.skipping = false;
    const { id, mark } = splitIdMark(e[1] ?? '', e[2] ?? '');
    const qtime = e[4] ?? '';
    const epoch = EPOCH_QTIME.test(qtime);
    if (epoch && NO_CONTROL_FILE.test(line)) {
      this.setAside(id, 'no control file');
      this.skipping = true;
      return;
    }
    const rawSender = (e[10] ?? '').trim();
    const addr = decodeMailqAddress(rawSender, MAILQ_SENDER_WIDTH);
    const sender = isNullSender(rawSender) ? '' : unbracket(addr.text);
    const size = Number(e[3]);
    const ageSeconds =
      this.dates === null
        ? null
        : ageFrom(this.dates.fromParts(e[5]!, e[6]!, e[7]!, e[8]!, e[9]!, undefined, qtime), this.dates.nowSeconds);
    // Born with its whole shape: `queue` (undefined without a directory line) and a slot for the
    // reason most entries get from the next line; a property added later would cost every message a
    // property store of its own. JSON leaves undefined fields out.
    const msg: SendmailQueueMessage = {
      id,
      sender,
      recipients: [],
      size: size >= 0 ? size : null,
      ageSeconds,
      frozen: false,
      held: false,
      bounce: sender === '',
      queue: this.dir,
      reason: undefined,
    };
    if (mark !== '') msg.mark = mark;
    if (addr.truncated && sender !== '') msg.senderTruncated = true;
    if (rawSender === '') this.warnings.line(n, 'mailq: entry without sender', line);
    this.store.push(msg);
    this.cur = msg;
    this.recipientsOf = msg;
    this.curEpoch = epoch;
  }

  /** The message read last is complete: its recipients to an array of their own size. */
  private closeRecipients(): void {
    if (this.recipientsOf && this.recipients.length > 0) this.recipientsOf.recipients = this.recipients.take();
    this.recipientsOf = undefined;
  }

  /** The listing so far; `first`: a warning to put before the parser's own. */
  result(first: Parameters<WarningList['list']>[0] = []): SendmailQueueListing {
    this.closeRecipients();
    let counted: number | null = null;
    if (this.totals.length > 0) counted = this.totals.reduce((a, b) => a + b, 0);
    else if (this.dirs.length > 0) counted = this.dirs.reduce((a, d) => a + d.count, 0);
    const reportedTotal = counted === null ? null : Math.max(0, counted - this.transient.length);
    return withCounts(
      {
        messages: this.store.list,
        reportedTotal,
        warnings: this.warnings.list(first),
        dirs: this.dirs,
        totals: this.totals,
        transient: this.transient,
      },
      this.store.counts(),
    );
  }
}

/** Parse a whole `mailq` output (MailqParser fed every line). */
export function parseMailq(text: string, opts: MailqOptions = {}): SendmailQueueListing {
  const p = new MailqParser(opts);
  feedLines(text, (line, n) => p.line(line, n));
  return p.result();
}
