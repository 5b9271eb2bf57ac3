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
import { COMMAND_FAILED, capWarnings } from '../util.js';
import { failureText } from '../util.js';
import { feedLines, feedSink, WarningList } from '../stream-parts.js';
import { FirstLines, TrailingText } from '../stream-text.js';
import { cleanAddress, isNullSender, unbracket, type SendmailQueueListing, type SendmailQueueMessage } from './listing.js';
import { SendmailListingStream } from './queue.js';
import { authenticatedProto, FromJoiner, relayAddress, syslogTag } from './join.js';

export const SENDMAIL_LOG_MARKER = '__MAILSWEEP_LOGFILE__';
const LOG_MARKER_PREFIX = `${SENDMAIL_LOG_MARKER} `;

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

/** The filtered mail log, line by line, joining AUTH=server lines to from= lines (join.ts). Never throws. */
export class SendmailAuthLogParser {
  readonly byQid = new Map<string, SendmailFromLine>();
  readonly files: string[] = [];
  private readonly warnings = new WarningList();
  private readonly joiner = new FromJoiner();
  private unmatchedAuthenticated = 0;

  line(line: string, n: number): void {
    // Markers name the files read; lines without a syslog tag stay out of the join.
    if (line.startsWith(LOG_MARKER_PREFIX)) return void this.files.push(line.slice(LOG_MARKER_PREFIX.length));
    const tagged = syslogTag(line);
    if (!tagged) {
      if (line.trim() !== '') this.warnings.line(n, 'mail log: not a syslog line', line);
      return;
    }
    const j = this.joiner.line(tagged);
    if (!j) return;
    const f = j.from;
    const rec: SendmailFromLine = { pid: j.line.pid, qid: f.qid, relay: f.relay ?? null, proto: f.proto ?? null };
    const logged = loggedSender(f.rest);
    if (logged !== undefined) rec.sender = logged;
    const ip = relayAddress(f.relay);
    if (ip !== undefined) rec.clientIp = ip;
    if (j.authId !== undefined) rec.authId = j.authId;
    else if (authenticatedProto(f)) this.unmatchedAuthenticated++;
    this.byQid.set(rec.qid, rec);
  }

  /** Once, at the end: the join and its warnings (numbered as the lines were). */
  result(): { byQid: Map<string, SendmailFromLine>; files: string[]; warnings: WarningList } {
    if (this.unmatchedAuthenticated > 0)
      this.warnings.plain(
        `${this.unmatchedAuthenticated} authenticated from= line(s) without a matching AUTH=server line (LogLevel below 10, or the log starts mid-session): not attributed`,
      );
    return { byQid: this.byQid, files: this.files, warnings: this.warnings };
  }
}

/** Parse a whole filtered mail log (SendmailAuthLogParser fed every line). */
export function parseSendmailAuthLog(text: string): SendmailLogJoin {
  const p = new SendmailAuthLogParser();
  feedLines(text, (line, n) => p.line(line, n));
  const r = p.result();
  return { byQid: r.byQid, files: r.files, warnings: r.warnings.list() };
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

/** The queue listing, then the mail log ("log"), parsed as they arrive; the join is laid over the listing at the end. */
export class SendmailAttributedStream {
  private readonly listing: SendmailListingStream;
  private readonly log = new SendmailAuthLogParser();
  private readonly logHead = new FirstLines();
  private readonly trailing = new TrailingText();

  constructor(localNowSeconds: number) {
    this.listing = new SendmailListingStream(localNowSeconds, {
      names: ['log'],
      after: (section, line, n) => {
        if (section === 'log') {
          this.log.line(line, n);
          this.logHead.push(line);
        } else this.trailing.push(line);
      },
    });
  }

  line(text: string): void {
    this.listing.line(text);
  }

  end(stderr: string, code: number | null): SendmailQueueListing {
    const closed = this.listing.closedSections();
    const log = closed.get('log');
    if (!log || !closed.has('msp')) {
      const listing = this.listing.end(stderr, code);
      listing.warnings.push(`messages not attributed: the mail log section is missing`);
      return listing;
    }
    const listing = this.listing.end(stderr, code, true);
    const warnings = listing.warnings;
    const join = this.log.result();
    if (log.rc !== 0) warnings.push(`${COMMAND_FAILED} mail log not read (exit ${log.rc}): ${failureText(this.logHead.text)}`);
    else warnings.push(...join.warnings.labelled('mail log'));
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
    if (!this.trailing.blank) warnings.push(`unexpected output after the mail log: ${this.trailing.printable()}`);
    return { ...listing, warnings: capWarnings(warnings, 150) };
  }
}

export function parseSendmailAttributedOutput(
  stdout: string,
  stderr = '',
  code: number | null = 0,
  localNowSeconds = Date.now() / 1000,
): SendmailQueueListing {
  return feedSink(new SendmailAttributedStream(localNowSeconds), stdout, stderr, code);
}
