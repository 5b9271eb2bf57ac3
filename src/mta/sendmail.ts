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

import { sh } from '../transport/quote.js';
import { sendmailOps } from './sendmail-ops.js';
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
  openOutput,
  pathLine,
  mailLogsOf,
} from './util.js';
import { planAt } from './plan.js';

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
const ENTRY =
  /^\s*([0-9A-Za-z]{6,20})([*X?\- ]?)\s*(-?\d+)\s+(\w{3}\s+\w{3}\s+\d{1,2}\s+\d{1,2}:\d\d)\s?(.*)$/;
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

function unbracket(s: string): string {
  const m = /^<(.*)>$/.exec(s);
  return m ? (m[1] ?? '') : s;
}

function isNullSender(s: string): boolean {
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
function cleanAddress(s: string): string {
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
  for (let i = 0; i < raw.length; ) {
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
    pathLine('/usr/lib'),
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
  const { split, warnings, nowSeconds, tzOffsetSeconds } = openOutput(stdout, stderr, ['mta', 'msp'], localNowSeconds);
  const opts = { nowSeconds, tzOffsetSeconds };
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
  const transient = [...main.transient];
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
      const inFresh = (q: string | undefined): boolean => q !== undefined && freshNames.has(q);
      messages.push(...extra.messages.filter((m) => inFresh(m.queue)));
      const freshTransient = extra.transient.filter((t) => inFresh(t.queue));
      transient.push(...freshTransient);
      dirs.push(...fresh);
      warnings.push(...shiftWarnings(extra.warnings, msp.firstLine, 'mailq -Ac'));
      const add = fresh.reduce((a, d) => a + d.count, 0);
      if (reportedTotal !== null) reportedTotal += Math.max(0, add - freshTransient.length);
    }
  } else warnings.push('mailq -Ac section missing');
  if (split.trailing.trim() !== '') warnings.push(`unexpected output after the listing: ${printable(split.trailing)}`);
  return { messages, reportedTotal, warnings, dirs, totals, transient };
}

// ---------------------------------------------------------------------------
// Attribution. The qf file does not reliably hold the auth id (the A line is the client's
// MAIL ... AUTH= parameter, or filled from ${auth_authen} only with _FFR_AUTH_PASSING), so
// the mail log is joined instead. At LogLevel > 9 each authenticated SMTP session logs
//
//   sm-mta[4242]: AUTH=server, relay=localhost [127.0.0.1], authid=bob@example.test, mech=PLAIN, bits=0
//
// without a queue id, and every message of that session then logs, from the same process,
//
//   sm-mta[4242]: 5AN4U1aB004242: from=<x@y>, size=512, class=0, nrcpts=1, msgid=<…>, proto=ESMTPA, daemon=MTA-v4, relay=localhost [127.0.0.1]
//
// Join rule: a from= line takes the authid of the latest AUTH=server line of the same pid
// with the same relay. When the from= line names its protocol, it must be an authenticated
// one (ESMTPA / ESMTPSA, RFC 3848): an unauthenticated session of a reused pid is not
// attributed. The server filters the log with grep -F (AUTH lines and from= lines only).

export const SENDMAIL_LOG_MARKER = '__MAILSWEEP_LOGFILE__';

/**
 * Shell fragment: the first existing log of `candidates`, its previous rotation (".1",
 * uncompressed with logrotate's delaycompress) first, each behind a marker line, filtered
 * with grep -F. Exit status 0 when at least the current log was read.
 */
export function mailLogGrep(candidates: readonly string[], patterns: readonly string[], section: string): string {
  const greps = patterns.map((p) => sh`-e ${p}`).join(' ');
  return [
    sh`l=''; for f in ${[...candidates]}; do if [ -f "$f" ]; then l=$f; break; fi; done`,
    `if [ -z "$l" ]; then echo "no mail log found"; rc=1; else rc=0; ` +
      `for f in "$l.1" "$l"; do if [ -f "$f" ]; then echo "${SENDMAIL_LOG_MARKER} $f"; ` +
      `grep -F ${greps} "$f"; g=$?; if [ "$g" -gt 1 ]; then rc=$g; fi; fi; done; fi; ` +
      `echo "__MAILSWEEP_RC__ ${section} $rc"`,
  ].join('\n');
}

export function sendmailAttributedCommand(ctx: MtaContext): string {
  return [sendmailQueueCommand(ctx), mailLogGrep(mailLogsOf(ctx), ['AUTH=server, ', ': from='], 'log')].join('\n');
}

export interface SendmailAuthLine {
  pid: number;
  relay: string;
  authId: string;
  mech: string;
}

export interface SendmailFromLine {
  pid: number;
  qid: string;
  relay: string | null;
  proto: string | null;
  /**
   * The envelope sender as logged (from=%.200s, brackets kept), when it is certainly whole: the
   * ", size=N, class=N, nrcpts=N" that ends it occurs exactly once in the line, and it is not cut
   * at 200 characters. Server text: compare it, never trust it more than the queue's own.
   */
  sender?: string;
  /** The authid the join found, when any. */
  authId?: string;
  clientIp?: string;
}

export interface SendmailLogJoin {
  /** Queue id -> the latest from= line of that id, with the join result. */
  byQid: Map<string, SendmailFromLine>;
  /** Log files the section read, in order. */
  files: string[];
  warnings: string[];
}

const SYSLOG_PROG = /^(.*?) ([A-Za-z][\w.-]*)\[(\d{1,10})\]: (.*)$/;
const SENDMAIL_PROG = /^(?:sendmail|sm-mta|sm-msp-queue|sm-[\w.-]+)$/;
const AUTH_LINE = /^AUTH=server, relay=(.*?), authid=(.*), mech=([^,]*), bits=(\d+)\s*$/;
const FROM_LINE = /^([0-9A-Za-z]{6,20}): from=(.*)$/;
const FROM_RELAY = /, relay=([^,]*)$/;
const FROM_PROTO = /, proto=([A-Za-z0-9]+)(?:, daemon=[^,]*)?, relay=[^,]*$/;
/** What logsender() prints right after the sender (headers.c: "from=%.200s, size=%ld, class=%d, nrcpts=%d"). */
const FROM_FIELDS = /, size=\d+, class=-?\d+, nrcpts=\d+/g;
const LOG_SENDER_WIDTH = 200;

/** The sender of a from= line's text after "from=", or undefined when it may be forged or cut. */
function loggedSender(rest: string): string | undefined {
  const hits = [...rest.matchAll(FROM_FIELDS)];
  const at = hits.length === 1 ? hits[0]?.index : undefined;
  if (at === undefined || at === 0) return undefined; // none, or a sender/msgid that repeats the fields
  const s = rest.slice(0, at);
  if (s.startsWith('<')) return s.endsWith('>') && s.length >= 2 ? s : undefined;
  return s.length < LOG_SENDER_WIDTH ? s : undefined;
}

function relayIp(relay: string): string | undefined {
  const m = /\[(?:IPv6:)?([0-9A-Fa-f:.]+)\]/.exec(relay);
  return m ? m[1] : undefined;
}

/** Strip sendmail's "(may be forged)" note so AUTH and from= relays compare equal. */
function normRelay(relay: string): string {
  return relay.replace(/\s*\(may be forged\)\s*$/, '').trim();
}

/** Parse the filtered mail log and join AUTH=server lines to from= lines. Never throws. */
export function parseSendmailAuthLog(text: string): SendmailLogJoin {
  const byQid = new Map<string, SendmailFromLine>();
  const files: string[] = [];
  const warnings: string[] = [];
  const lastAuth = new Map<number, SendmailAuthLine>();
  let unmatchedAuthenticated = 0;
  splitLines(text).forEach((line, i) => {
    const n = i + 1;
    if (line.startsWith(`${SENDMAIL_LOG_MARKER} `)) {
      files.push(line.slice(SENDMAIL_LOG_MARKER.length + 1));
      return;
    }
    const sl = SYSLOG_PROG.exec(line);
    if (!sl) {
      if (line.trim() !== '') warnings.push(lineWarning(n, 'mail log: not a syslog line', line));
      return;
    }
    if (!SENDMAIL_PROG.test(sl[2] ?? '')) return; // another program's line (grep -F is coarse)
    const pid = Number(sl[3]);
    const body = sl[4] ?? '';
    const a = AUTH_LINE.exec(body);
    if (a) {
      lastAuth.set(pid, { pid, relay: normRelay(a[1] ?? ''), authId: a[2] ?? '', mech: a[3] ?? '' });
      return;
    }
    const f = FROM_LINE.exec(body);
    if (!f) return; // e.g. "to=... from=" inside other text: not ours
    const rest = f[2] ?? '';
    const relayM = FROM_RELAY.exec(rest);
    const relay = relayM ? normRelay(relayM[1] ?? '') : null;
    const proto = FROM_PROTO.exec(rest)?.[1] ?? null;
    const rec: SendmailFromLine = { pid, qid: f[1] ?? '', relay, proto };
    const logged = loggedSender(rest);
    if (logged !== undefined) rec.sender = logged;
    const ip = relay === null ? undefined : relayIp(relay);
    if (ip !== undefined) rec.clientIp = ip;
    const auth = lastAuth.get(pid);
    const protoSaysAuth = proto !== null && /^E?SMTPS?A$/i.test(proto);
    const protoSaysNoAuth = proto !== null && !protoSaysAuth;
    if (auth && relay !== null && auth.relay === relay && !protoSaysNoAuth && auth.authId !== '') rec.authId = auth.authId;
    else if (protoSaysAuth) unmatchedAuthenticated++;
    byQid.set(rec.qid, rec);
  });
  if (unmatchedAuthenticated > 0)
    warnings.push(`${unmatchedAuthenticated} authenticated from= line(s) without a matching AUTH=server line (LogLevel below 10, or the log starts mid-session): not attributed`);
  return { byQid, files, warnings: capWarnings(warnings) };
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * Is the from= line (joined by queue id only) about the queued message? false when the two
 * senders differ (a cut one: is not a prefix of the logged one), both being printable ASCII
 * (syslog daemons escape other bytes in their own ways); null when it cannot tell.
 */
function sameSender(m: SendmailQueueMessage, r: SendmailFromLine): boolean | null {
  if (r.sender === undefined) return null;
  const logged = cleanAddress(r.sender);
  if (!PRINTABLE_ASCII.test(logged) || !PRINTABLE_ASCII.test(m.sender)) return null;
  if (m.senderTruncated) return logged.startsWith(m.sender);
  return (isNullSender(logged) ? '' : unbracket(logged)) === m.sender;
}

/**
 * A sender mailq cut short takes the from= line's sender, only when that one is whole and
 * begins with what mailq printed (same queue id, same prefix: the same message); an unbracketed
 * one merely as long as the budget is confirmed whole the same way. Otherwise mailq's text (read
 * from the qf file) stays, still marked truncated.
 */
function completeSender(m: SendmailQueueMessage, r: SendmailFromLine): void {
  if (r.sender === undefined) return;
  const full = cleanAddress(r.sender);
  if (!full.startsWith(m.sender) || isNullSender(full)) return;
  m.sender = unbracket(full);
  delete m.senderTruncated;
  m.senderSource = 'mail log';
}

export function parseSendmailAttributedOutput(
  stdout: string,
  stderr = '',
  code: number | null = 0,
  localNowSeconds = Date.now() / 1000,
): SendmailQueueListing {
  const full = splitSections(stdout, ['mta', 'msp', 'log']);
  const log = full.sections.get('log');
  const msp = full.sections.get('msp');
  if (!log || !msp) {
    const listing = parseSendmailQueueOutput(stdout, stderr, code, localNowSeconds);
    listing.warnings.push(`messages not attributed: the mail log section is missing`);
    return listing;
  }
  const markerLine = msp.firstLine + splitLines(msp.text).length;
  const listing = parseSendmailQueueOutput(splitLines(stdout).slice(0, markerLine).join('\n'), stderr, code, localNowSeconds);
  const warnings = listing.warnings;
  const join = parseSendmailAuthLog(log.text);
  if (log.rc !== 0) warnings.push(`${COMMAND_FAILED} mail log not read (exit ${log.rc}): ${failureText(log.text)}`);
  else warnings.push(...shiftWarnings(join.warnings, log.firstLine, 'mail log'));
  let missing = 0;
  const conflicts: string[] = [];
  for (const m of listing.messages) {
    const r = join.byQid.get(m.id);
    if (!r) {
      missing++;
      continue;
    }
    if (sameSender(m, r) === false) {
      conflicts.push(m.id);
      continue;
    }
    if (r.authId !== undefined) m.authId = r.authId;
    if (r.clientIp !== undefined) m.clientIp = r.clientIp;
    if (m.senderTruncated) completeSender(m, r);
  }
  if (missing > 0 && log.rc === 0)
    warnings.push(`${missing} queued message(s) have no from= line in ${join.files.join(', ') || 'the mail log'}: not attributed`);
  if (conflicts.length > 0)
    warnings.push(
      `${conflicts.length} queued message(s) whose from= line names another sender (queue id reused, or a forged log line): not attributed (${conflicts
        .slice(0, 3)
        .join(', ')}${conflicts.length > 3 ? ', …' : ''})`,
    );
  const cut = listing.messages.filter((m) => m.senderTruncated && m.authId !== undefined);
  if (cut.length > 0)
    warnings.push(
      `${cut.length} attributed message(s) with a sender mailq cut short and no matching from= line: sender domain unknown (${cut
        .slice(0, 3)
        .map((m) => m.id)
        .join(', ')}${cut.length > 3 ? ', …' : ''})`,
    );
  if (full.trailing.trim() !== '') warnings.push(`unexpected output after the mail log: ${printable(full.trailing)}`);
  return { ...listing, warnings: capWarnings(warnings, 150) };
}

export const sendmail = {
  name: 'sendmail',
  ops: sendmailOps,
  queue: (ctx: MtaContext): ReadPlan<QueueListing> => planAt(sendmailQueueCommand(ctx), parseSendmailQueueOutput),
  attributedQueue: (ctx: MtaContext): ReadPlan<QueueListing> => planAt(sendmailAttributedCommand(ctx), parseSendmailAttributedOutput),
  parseListing: (text: string, nowSeconds: number): QueueListing => parseMailq(text, { nowSeconds }),
} satisfies MtaAdapter;
