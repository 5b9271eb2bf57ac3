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

import { capWarnings, ageFrom, indentWidth, lineWarning, splitLines, yearlessLocalTime } from '../util.js';
import type { QueueListing, QueueMessage } from '../types.js';

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
}

/** prtstr() output budgets of non-verbose mailq (queue.c print_single_queue). */
export const MAILQ_SENDER_WIDTH = 39;
export const MAILQ_RECIPIENT_WIDTH = 38;

const DIR_HEADER = /^\s*(\S.*?) \((\d+) requests?(?:, only (\d+) printed)?\)\s*$/;
const DIR_EMPTY = /^\s*(\S.*?) is empty\s*$/;
const TOTAL = /^\s*Total requests:\s*(\d+)(?: \(about\))?\s*$/i;
const SECTION = /^(MSP|MTA) Queue status\.\.\.\s*$/;
const COLUMNS = /^-+Q-ID-+\s+--Size--\s+/;
const ENTRY = /^\s*([0-9A-Za-z]{6,20})([*X?\- ]?)\s*(-?\d+)\s+(\w{3}\s+\w{3}\s+\d{1,2}\s+\d{1,2}:\d\d)\s?(.*)$/;
const ENTRY_GONE = /^\s*([0-9A-Za-z]{6,20})([*X?\- ]?)\s*\(([^()]*)\)\s*$/;
const BODY_REASON = /^\s*(?:([A-Z0-9]+)\s+)?\((.*)\)\s*$/;
const BODY_ONLY = /^\s*(7BIT|8BITMIME|BINARYMIME)\s*$/;
const BODY_TYPES = new Set(['7BIT', '8BITMIME', 'BINARYMIME']);
const QUARANTINE = /^\s*QUARANTINE: (.*)$/;
/** Recipient lines start at column 39-41; body-type/reason lines at 4-17. */
const RECIPIENT_COLUMN = 24;
/** Recipient lines are "\n\t\t\t\t\t " then prtstr(address, 38). */
const RECIPIENT_PREFIX = '\t\t\t\t\t ';
/**
 * A qf file without a T line: sendmail prints ctime(0) (1 Jan 1970 in the server's zone) as
 * Q-Time and appends " (no control file)" to the entry's last line.
 */
const EPOCH_QTIME = /^(?:Thu\s+Jan\s+1|Wed\s+Dec\s+31)\s/;
const NO_CONTROL_FILE = / \(no control file\)\s*$/;

export function unbracket(s: string): string {
  const m = /^<(.*)>$/.exec(s);
  return m ? (m[1] ?? '') : s;
}

export function isNullSender(s: string): boolean {
  return s === '<>' || s === '' || s === 'MAILER-DAEMON';
}

/** Ids are 14 characters (12 before 8.12); an 'X' mark glued on makes 15 (13). */
function splitIdMark(rawId: string, rawMark: string): { id: string; mark: string } {
  const mark = rawMark.trim();
  if (mark === '' && (rawId.length === 15 || rawId.length === 13) && rawId.endsWith('X')) return { id: rawId.slice(0, -1), mark: 'X' };
  return { id: rawId, mark };
}

/**
 * Server text made safe to keep as an address: no control characters, no line breaks. This is
 * data (compared with the log's sender), so it keeps its own '?' rule; display goes through printable().
 */
export function cleanAddress(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g, '?').replace(/\t/g, ' ');
}

export interface MailqAddress {
  /** The address with prtstr's escapes undone, made printable (brackets as printed). */
  text: string;
  /** Cut short by prtstr, or possibly so (see decodeMailqAddress). */
  truncated: boolean;
}

/**
 * Undo sendmail's prtstr(s, width): "\\" is a backslash, "\ooo" a byte (UTF-8 is reassembled;
 * invalid bytes become U+FFFD, control characters '?'). prtstr spends 1 of its budget per plain
 * character, 2 per "\\", 4 per "\ooo", and drops an escape that no longer fits, so a cut address
 * ends up to 4 characters short of `width`. Truncated: a "<" without the closing ">", or an
 * unbracketed address within 4 of the budget (it may be complete: the domain is still unknown).
 */
export function decodeMailqAddress(raw: string, width: number): MailqAddress {
  const bytes: number[] = [];
  let units = 0;
  for (let i = 0; i < raw.length;) {
    if (raw[i] === '\\') {
      if (raw[i + 1] === '\\') {
        bytes.push(0x5c);
        units += 2;
        i += 2;
        continue;
      }
      const oct = /^[0-3][0-7]{2}/.exec(raw.slice(i + 1, i + 4));
      if (oct) {
        bytes.push(parseInt(oct[0], 8));
        units += 4;
        i += 4;
        continue;
      }
    }
    const ch = String.fromCodePoint(raw.codePointAt(i) ?? 0x3f);
    for (const b of Buffer.from(ch, 'utf8')) bytes.push(b);
    units += 1;
    i += ch.length;
  }
  const text = cleanAddress(Buffer.from(bytes).toString('utf8'));
  const bracketed = raw.startsWith('<');
  const closed = bracketed && raw.length >= 2 && raw.endsWith('>');
  return { text, truncated: !closed && (bracketed || units >= width - 4) };
}

/**
 * Parse sendmail `mailq` output (one or several queue directories, optionally the Debian
 * MSP/MTA sections). The MTA's count is the sum of "Total requests:" lines when present, else of
 * the per-directory counts, else unknown; reportedTotal is that count less the transient entries.
 */
export function parseMailq(text: string, opts: MailqOptions = {}): SendmailQueueListing {
  const messages: SendmailQueueMessage[] = [];
  const warnings: string[] = [];
  const dirs: SendmailQueueDir[] = [];
  const totals: number[] = [];
  const transient: SendmailTransientEntry[] = [];
  let dir: string | undefined;
  let cur: SendmailQueueMessage | null = null;
  /** Q-Time of `cur` was ctime(0): its entry may end in " (no control file)". */
  let curEpoch = false;
  /** Continuation lines of an entry already set aside as transient. */
  let skipping = false;
  const setAside = (id: string, state: SendmailTransientEntry['state']): void => {
    transient.push(dir === undefined ? { id, state } : { id, state, queue: dir });
    cur = null;
  };
  splitLines(text).forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === '') return;
    if (SECTION.test(line) || COLUMNS.test(line)) {
      cur = null;
      skipping = false;
      return;
    }
    const total = TOTAL.exec(line);
    if (total) {
      totals.push(Number(total[1]));
      cur = null;
      skipping = false;
      return;
    }
    // Entries first: an id line can never look like "<dir> (N requests)" (it has a date).
    const e = ENTRY.exec(line);
    if (e && indentWidth(line) < RECIPIENT_COLUMN) {
      skipping = false;
      const { id, mark } = splitIdMark(e[1] ?? '', e[2] ?? '');
      const qtime = e[4] ?? '';
      if (EPOCH_QTIME.test(qtime) && NO_CONTROL_FILE.test(line)) {
        setAside(id, 'no control file');
        skipping = true;
        return;
      }
      const rawSender = (e[5] ?? '').trim();
      const addr = decodeMailqAddress(rawSender, MAILQ_SENDER_WIDTH);
      const sender = isNullSender(rawSender) ? '' : unbracket(addr.text);
      const when = opts.nowSeconds === undefined ? null : yearlessLocalTime(qtime, opts.nowSeconds, opts.tzOffsetSeconds ?? 0);
      const size = Number(e[3]);
      const msg: SendmailQueueMessage = {
        id,
        sender,
        recipients: [],
        size: size >= 0 ? size : null,
        ageSeconds: ageFrom(when, opts.nowSeconds),
        frozen: false,
        held: false,
        bounce: sender === '',
      };
      if (dir !== undefined) msg.queue = dir;
      if (mark !== '') msg.mark = mark;
      if (addr.truncated && sender !== '') msg.senderTruncated = true;
      if (rawSender === '') warnings.push(lineWarning(n, 'mailq: entry without sender', line));
      messages.push(msg);
      cur = msg;
      curEpoch = EPOCH_QTIME.test(qtime);
      return;
    }
    const gone = ENTRY_GONE.exec(line);
    if (gone && indentWidth(line) <= 2 && !BODY_TYPES.has(gone[1] ?? '')) {
      skipping = false;
      const { id } = splitIdMark(gone[1] ?? '', gone[2] ?? '');
      const state = gone[3] ?? '';
      if (state === 'job completed' || state === 'no control file') setAside(id, state);
      else {
        // "(permission denied)", an errno text: a message that exists but could not be read.
        warnings.push(lineWarning(n, `mailq: entry ${id} not readable (${state})`, line));
        cur = null;
      }
      return;
    }
    const hdr = DIR_HEADER.exec(line);
    if (hdr) {
      dir = hdr[1];
      const d: SendmailQueueDir = { dir: hdr[1] ?? '', count: Number(hdr[2]) };
      if (hdr[3] !== undefined) {
        d.printed = Number(hdr[3]);
        warnings.push(lineWarning(n, `mailq: only ${hdr[3]} of ${hdr[2]} entries listed (MaxQueueRunSize)`, line));
      }
      dirs.push(d);
      cur = null;
      skipping = false;
      return;
    }
    const empty = DIR_EMPTY.exec(line);
    if (empty && indentWidth(line) < RECIPIENT_COLUMN) {
      dirs.push({ dir: empty[1] ?? '', count: 0 });
      dir = empty[1];
      cur = null;
      skipping = false;
      return;
    }
    if (skipping && /^\s/.test(line)) return;
    if (cur && /^\s/.test(line)) {
      const c: SendmailQueueMessage = cur;
      if (curEpoch && NO_CONTROL_FILE.test(line)) {
        // The qf had S/R lines but no T line: not a message yet (the suffix ends the entry).
        messages.pop();
        setAside(c.id, 'no control file');
        return;
      }
      const q = QUARANTINE.exec(line);
      if (q) {
        c.quarantine = q[1] ?? '';
        c.held = true;
        c.reason ??= `quarantined: ${q[1] ?? ''}`;
        return;
      }
      if (indentWidth(line) >= RECIPIENT_COLUMN) {
        const raw = (line.startsWith(RECIPIENT_PREFIX) ? line.slice(RECIPIENT_PREFIX.length) : line).trim();
        const r = decodeMailqAddress(raw, MAILQ_RECIPIENT_WIDTH);
        if (r.truncated) (c.truncatedRecipients ??= []).push(c.recipients.length);
        c.recipients.push(unbracket(r.text));
        return;
      }
      const br = BODY_REASON.exec(line);
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
    warnings.push(lineWarning(n, cur ? 'mailq: line not understood' : 'mailq: line outside any entry', line));
  });
  let counted: number | null = null;
  if (totals.length > 0) counted = totals.reduce((a, b) => a + b, 0);
  else if (dirs.length > 0) counted = dirs.reduce((a, d) => a + d.count, 0);
  const reportedTotal = counted === null ? null : Math.max(0, counted - transient.length);
  return { messages, reportedTotal, warnings: capWarnings(warnings), dirs, totals, transient };
}
