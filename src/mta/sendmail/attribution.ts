// Sendmail attribution: the mail log's AUTH=server lines joined to from= lines, laid over the
// queue listing (sendmail.ts re-exports it; split out for size).
//
// The qf file does not reliably hold the auth id (the A line is the client's
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

import { SENDMAIL_LOGS } from './host.js';
import { sh } from '../../transport/quote.js';
import type { MtaContext } from '../types.js';
import { COMMAND_FAILED, capWarnings, failureText, lineWarning, printable, shiftWarnings, splitLines, splitSections } from '../util.js';
import { cleanAddress, isNullSender, unbracket, type SendmailQueueListing, type SendmailQueueMessage } from './listing.js';
import { parseSendmailQueueOutput, sendmailQueueCommand } from './queue.js';

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
  return [sendmailQueueCommand(ctx), mailLogGrep(ctx.mailLog ?? SENDMAIL_LOGS, ['AUTH=server, ', ': from='], 'log')].join('\n');
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
