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
  mailLogsOf,
} from './util.js';
import { planAt } from './plan.js';

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
  for (const m of listing.messages) {
    const r = join.byQid.get(m.id);
    if (!r) {
      missing++;
      continue;
    }
    if (r.authId !== undefined) m.authId = r.authId;
    if (r.clientIp !== undefined) m.clientIp = r.clientIp;
  }
  if (missing > 0 && log.rc === 0)
    warnings.push(`${missing} queued message(s) have no from= line in ${join.files.join(', ') || 'the mail log'}: not attributed`);
  if (full.trailing.trim() !== '') warnings.push(`unexpected output after the mail log: ${printable(full.trailing)}`);
  return { ...listing, warnings: capWarnings(warnings, 150) };
}

export const sendmail = {
  name: 'sendmail',
  ops: sendmailOps,
  queue: (ctx: MtaContext): ReadPlan<QueueListing> => planAt(sendmailQueueCommand(ctx), parseSendmailQueueOutput),
  attributedQueue: (ctx: MtaContext): ReadPlan<QueueListing> => planAt(sendmailAttributedCommand(ctx), parseSendmailAttributedOutput),
} satisfies MtaAdapter;
