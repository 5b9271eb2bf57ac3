// Sendmail: `mailq` (= sendmail -bp), following queue.c print_single_queue()/printqueue().
//
//   \t\t/var/spool/mqueue (2 requests)          or  /var/spool/mqueue is empty
//   -----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------
//   oAJEfhdW014123*     512 Fri Nov 19 14:41 <alice@example.com>
//        QUARANTINE: reason
//         8BITMIME   (Deferred: Connection refused by mx.example.net)
//   \t\t\t\t\t <bob@example.net>
//   \t\tTotal requests: 2
//
// Debian's mailq prints "MSP Queue status..." / "MTA Queue status..." sections itself.
// mailq truncates senders at 39 and recipients at 38 characters (prtstr), so long
// addresses arrive cut short.

import { sh } from '../transport/quote.js';
import type { MtaAdapter, MtaContext, QueueListing, QueueMessage, ReadPlan } from './types.js';
import {
  COMMAND_FAILED,
  capWarnings,
  NOW_COMMAND,
  ageFrom,
  failureText,
  indentWidth,
  lineWarning,
  printable,
  rcEcho,
  shiftWarnings,
  splitLines,
  splitSections,
  yearlessLocalTime,
} from './util.js';

export interface SendmailQueueMessage extends QueueMessage {
  /** The character after the id: '*' locked (being delivered), 'X' load too high, '-' too young, '?' lost. */
  mark?: string;
  bodyType?: string;
  quarantine?: string;
}

export interface SendmailQueueDir {
  dir: string;
  /** The "(N requests)" count; 0 for "is empty". */
  count: number;
  /** "(N requests, only M printed)": fewer entries are listed than exist. */
  printed?: number;
}

export interface SendmailQueueListing extends QueueListing {
  messages: SendmailQueueMessage[];
  dirs: SendmailQueueDir[];
  /** Every "Total requests: N" line, in order. */
  totals: number[];
}

export interface MailqOptions {
  /** Epoch seconds "now", for ageSeconds (Q-Time has no year and no zone). */
  nowSeconds?: number;
  /** The server's UTC offset in seconds. Default 0. */
  tzOffsetSeconds?: number;
}

const DIR_HEADER = /^\s*(\S.*?) \((\d+) requests?(?:, only (\d+) printed)?\)\s*$/;
const DIR_EMPTY = /^\s*(\S.*?) is empty\s*$/;
const TOTAL = /^\s*Total requests:\s*(\d+)(?: \(about\))?\s*$/i;
const SECTION = /^(MSP|MTA) Queue status\.\.\.\s*$/;
const COLUMNS = /^-+Q-ID-+\s+--Size--\s+/;
const ENTRY =
  /^\s*([0-9A-Za-z]{6,20})([*X?\- ]?)\s*(-?\d+)\s+(\w{3}\s+\w{3}\s+\d{1,2}\s+\d{1,2}:\d\d)\s?(.*)$/;
const ENTRY_GONE = /^\s*([0-9A-Za-z]{6,20})([*X?\- ]?)\s*\(([^()]*)\)\s*$/;
const BODY_REASON = /^\s*(?:([A-Z0-9]+)\s+)?\((.*)\)\s*$/;
const BODY_ONLY = /^\s*(7BIT|8BITMIME|BINARYMIME)\s*$/;
const BODY_TYPES = new Set(['7BIT', '8BITMIME', 'BINARYMIME']);
const QUARANTINE = /^\s*QUARANTINE: (.*)$/;
/** Recipient lines start at column 39-41; body-type/reason lines at 4-17. */
const RECIPIENT_COLUMN = 24;

function unbracket(s: string): string {
  const m = /^<(.*)>$/.exec(s);
  return m ? (m[1] ?? '') : s;
}

function isNullSender(s: string): boolean {
  return s === '<>' || s === '' || s === 'MAILER-DAEMON';
}

/**
 * Parse sendmail `mailq` output (one or several queue directories, optionally the Debian
 * MSP/MTA sections). reportedTotal = the sum of "Total requests:" lines when present, else the
 * sum of per-directory counts, else null.
 */
export function parseMailq(text: string, opts: MailqOptions = {}): SendmailQueueListing {
  const messages: SendmailQueueMessage[] = [];
  const warnings: string[] = [];
  const dirs: SendmailQueueDir[] = [];
  const totals: number[] = [];
  let dir: string | undefined;
  let cur: SendmailQueueMessage | null = null;
  splitLines(text).forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === '') return;
    if (SECTION.test(line) || COLUMNS.test(line)) {
      cur = null;
      return;
    }
    const total = TOTAL.exec(line);
    if (total) {
      totals.push(Number(total[1]));
      cur = null;
      return;
    }
    // Entries first: an id line can never look like "<dir> (N requests)" (it has a date).
    const e = ENTRY.exec(line);
    if (e && indentWidth(line) < RECIPIENT_COLUMN) {
      const rawSender = (e[5] ?? '').trim();
      const sender = isNullSender(rawSender) ? '' : unbracket(rawSender);
      const when = opts.nowSeconds === undefined ? null : yearlessLocalTime(e[4] ?? '', opts.nowSeconds, opts.tzOffsetSeconds ?? 0);
      const size = Number(e[3]);
      let id = e[1] ?? '';
      let mark = (e[2] ?? '').trim();
      // Ids are 14 characters (12 before 8.12); an 'X' mark glued on makes 15 (13).
      if (mark === '' && (id.length === 15 || id.length === 13) && id.endsWith('X')) {
        id = id.slice(0, -1);
        mark = 'X';
      }
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
      if (rawSender === '') warnings.push(lineWarning(n, 'mailq: entry without sender', line));
      messages.push(msg);
      cur = msg;
      return;
    }
    const gone = ENTRY_GONE.exec(line);
    if (gone && indentWidth(line) <= 2 && !BODY_TYPES.has(gone[1] ?? '')) {
      // "(job completed)", "(permission denied)", "(no control file)": counted, not listable.
      warnings.push(lineWarning(n, `mailq: entry ${gone[1]} not readable (${gone[3]})`, line));
      cur = null;
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
      return;
    }
    const empty = DIR_EMPTY.exec(line);
    if (empty && indentWidth(line) < RECIPIENT_COLUMN) {
      dirs.push({ dir: empty[1] ?? '', count: 0 });
      dir = empty[1];
      cur = null;
      return;
    }
    if (cur && /^\s/.test(line)) {
      const c: SendmailQueueMessage = cur;
      const q = QUARANTINE.exec(line);
      if (q) {
        c.quarantine = q[1] ?? '';
        c.held = true;
        c.reason ??= `quarantined: ${q[1] ?? ''}`;
        return;
      }
      if (indentWidth(line) >= RECIPIENT_COLUMN) {
        c.recipients.push(unbracket(line.trim()));
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
  let reportedTotal: number | null = null;
  if (totals.length > 0) reportedTotal = totals.reduce((a, b) => a + b, 0);
  else if (dirs.length > 0) reportedTotal = dirs.reduce((a, d) => a + d.count, 0);
  return { messages, reportedTotal, warnings: capWarnings(warnings), dirs, totals };
}

// ---------------------------------------------------------------------------
// Adapter. `mailq` lists the MTA queue (and on Debian the MSP queue too); `mailq -Ac` lists
// the MSP client queue (/var/spool/clientmqueue), where mail from local programs (PHP mail(),
// cron) waits when the MTA refuses it. Directories already listed by the first call are
// dropped from the second, so Debian's combined output is not counted twice.

function mailqOf(ctx: MtaContext): { main: string; msp: string } {
  const b = ctx.binary?.trim();
  if (!b || /(^|\/)mailq$/.test(b)) {
    const bin = b || 'mailq';
    return { main: sh`${bin}`, msp: sh`${bin} -Ac` };
  }
  return { main: sh`${b} -bp`, msp: sh`${b} -bp -Ac` };
}

export function sendmailQueueCommand(ctx: MtaContext): string {
  const { main, msp } = mailqOf(ctx);
  return [
    'PATH="$PATH:/usr/sbin:/sbin:/usr/local/sbin:/usr/lib"; export PATH',
    NOW_COMMAND,
    `${main} 2>&1; ${rcEcho('mta')}`,
    `${msp} 2>&1; ${rcEcho('msp')}`,
  ].join('\n');
}

export function parseSendmailQueueOutput(
  stdout: string,
  stderr = '',
  code: number | null = 0,
  localNowSeconds = Date.now() / 1000,
): SendmailQueueListing {
  const split = splitSections(stdout, ['mta', 'msp']);
  const warnings = [...split.warnings];
  const nowSeconds = split.nowSeconds ?? localNowSeconds;
  const tzOffsetSeconds = split.tzOffsetSeconds ?? 0;
  const opts = { nowSeconds, tzOffsetSeconds };
  if (split.nowSeconds === null) warnings.push('server clock not reported; ages use the local clock and assume UTC');
  if (stderr.trim() !== '') warnings.push(`stderr: ${failureText(stderr)}`);
  const mta = split.sections.get('mta');
  const msp = split.sections.get('msp');
  if (!mta) {
    const p = parseMailq(stdout, opts);
    warnings.push(`${COMMAND_FAILED} mailq output incomplete (exit ${code ?? 'none'}): ${failureText(stderr || stdout)}`);
    return { ...p, reportedTotal: null, warnings: [...warnings, ...p.warnings] };
  }
  const main = parseMailq(mta.text, opts);
  const mainOk = mta.rc === 0 && (main.dirs.length > 0 || main.totals.length > 0);
  if (!mainOk) warnings.push(`${COMMAND_FAILED} mailq exited ${mta.rc}: ${failureText(mta.text)}`);
  warnings.push(...shiftWarnings(main.warnings, mta.firstLine, 'mailq'));
  const messages = [...main.messages];
  const dirs = [...main.dirs];
  const totals = [...main.totals];
  let reportedTotal = mainOk ? main.reportedTotal : null;

  if (msp) {
    const extra = parseMailq(msp.text, opts);
    const seen = new Set(main.dirs.map((d) => d.dir));
    const fresh = extra.dirs.filter((d) => !seen.has(d.dir));
    if (msp.rc !== 0 || extra.dirs.length === 0) {
      // No MSP queue configured (no submit.cf) is common; say so once, do not fail the host.
      warnings.push(`mailq -Ac (MSP queue) not listed (exit ${msp.rc}): ${failureText(msp.text)}`);
    } else if (fresh.length > 0) {
      const freshNames = new Set(fresh.map((d) => d.dir));
      messages.push(...extra.messages.filter((m) => m.queue !== undefined && freshNames.has(m.queue)));
      dirs.push(...fresh);
      warnings.push(...shiftWarnings(extra.warnings, msp.firstLine, 'mailq -Ac'));
      const add = fresh.reduce((a, d) => a + d.count, 0);
      if (reportedTotal !== null) reportedTotal += add;
    }
  } else warnings.push('mailq -Ac section missing');
  if (split.trailing.trim() !== '') warnings.push(`unexpected output after the listing: ${printable(split.trailing)}`);
  return { messages, reportedTotal, warnings, dirs, totals };
}

export const sendmail = {
  name: 'sendmail',
  queue(ctx: MtaContext): ReadPlan<QueueListing> {
    return {
      command: sendmailQueueCommand(ctx),
      parse: (stdout, stderr, code) => parseSendmailQueueOutput(stdout, stderr, code, Date.now() / 1000),
    };
  },
} satisfies MtaAdapter;
