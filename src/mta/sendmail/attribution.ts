// Sendmail attribution: the mail log's AUTH=server lines joined to from= lines, laid over the
// queue listing.
//
// The qf file does not reliably hold the auth id (the A line is the client's
// MAIL ... AUTH= parameter, or filled from ${auth_authen} only with _FFR_AUTH_PASSING), so
// the mail log is joined instead: join.ts holds the rule (the log parser and the purge's
// re-check use it too). The server filters the log with grep -F (AUTH lines and from= lines
// only: scripts/maillog.sh).

import { SENDMAIL_LOGS, mailqSettings } from './host.js';
import type { Sh } from '../../transport/quote.js';
import { serverScript } from '../script.js';
import type { MtaContext } from '../types.js';
import { COMMAND_FAILED, capWarnings, failureText, lineWarning, printable, shiftWarnings, splitLines, splitSections } from '../util.js';
import { cleanAddress, isNullSender, unbracket, type SendmailQueueListing, type SendmailQueueMessage } from './listing.js';
import { parseSendmailQueueOutput } from './queue.js';
import { authenticatedProto, joinedFroms, relayAddress, syslogTag } from './join.js';

export const SENDMAIL_LOG_MARKER = '__MAILSWEEP_LOGFILE__';

/** The queue listing (scripts/queue.sh), then the mail log's AUTH=server and from= lines. */
export function sendmailAttributedCommand(ctx: MtaContext): Sh {
  return serverScript('sendmail/scripts/attributed.sh', { ...mailqSettings(ctx), MS_LOGS: ctx.mailLog ?? SENDMAIL_LOGS });
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

/** Parse the filtered mail log and join AUTH=server lines to from= lines (join.ts). Never throws. */
export function parseSendmailAuthLog(text: string): SendmailLogJoin {
  const byQid = new Map<string, SendmailFromLine>();
  const files: string[] = [];
  const warnings: string[] = [];
  let unmatchedAuthenticated = 0;
  // The log lines for the join; markers and lines without a syslog tag stay out.
  function* logLines(): Generator<string> {
    for (const [i, line] of splitLines(text).entries()) {
      if (line.startsWith(`${SENDMAIL_LOG_MARKER} `)) files.push(line.slice(SENDMAIL_LOG_MARKER.length + 1));
      else if (syslogTag(line)) yield line;
      else if (line.trim() !== '') warnings.push(lineWarning(i + 1, 'mail log: not a syslog line', line));
    }
  }
  for (const j of joinedFroms(logLines())) {
    const f = j.from;
    const rec: SendmailFromLine = { pid: j.line.pid, qid: f.qid, relay: f.relay ?? null, proto: f.proto ?? null };
    const logged = loggedSender(f.rest);
    if (logged !== undefined) rec.sender = logged;
    const ip = relayAddress(f.relay);
    if (ip !== undefined) rec.clientIp = ip;
    if (j.authId !== undefined) rec.authId = j.authId;
    else if (authenticatedProto(f)) unmatchedAuthenticated++;
    byQid.set(rec.qid, rec);
  }
  if (unmatchedAuthenticated > 0)
    warnings.push(
      `${unmatchedAuthenticated} authenticated from= line(s) without a matching AUTH=server line (LogLevel below 10, or the log starts mid-session): not attributed`,
    );
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
