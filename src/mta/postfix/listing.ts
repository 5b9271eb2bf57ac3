// Postfix: `postqueue -j` (JSON lines, 3.1+) and `postqueue -p` / `mailq` (text, any version).

import { postfixScriptTools } from './host.js';
import type { Sh } from '../../transport/quote.js';
import { serverScript } from '../script.js';
import { attributePostfixMessages, PostcatParser, postcatEnvelopeSettings } from './attribution.js';
import type { MtaContext, QueueListing, QueueMessage } from '../types.js';
import { COMMAND_FAILED, capWarnings, ageFrom, failureText } from '../util.js';
import { NOW_MARKER, RC_MARKER, SectionStream, type ClosedSection } from '../sections.js';
import { exact, feedLines, feedSink, WarningList } from '../stream-parts.js';
import { FirstLines, TrailingText } from '../stream-text.js';
import { YearlessClock } from '../yearless.js';

export interface PostfixQueueMessage extends QueueMessage {
  /** `#` in -p, forced_expire in -j (3.5+): will bounce at the next delivery attempt. */
  forcedExpire?: boolean;
  /**
   * A maildrop file showq could not read (postqueue -p before Postfix 3.1 prints "(maildrop
   * queue, sender UID N)"): the submitting user's UID. The sender is not known until pickup, so
   * `sender` is '' while `bounce` stays false.
   */
  senderUid?: number;
}

export interface PostfixQueueListing extends QueueListing {
  messages: PostfixQueueMessage[];
}

/** Postfix shows the null sender as MAILER-DAEMON (empty_address_recipient). */
function nullSender(s: string): boolean {
  return s === '' || s === 'MAILER-DAEMON';
}

// ---------------------------------------------------------------------------
// postqueue -j

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const ALNUM_ID = /^[0-9A-Za-z]+$/;

/**
 * `postqueue -j` fed line by line: one JSON object per line; unknown members are ignored; a line
 * that is not a usable record becomes a warning. `nowSeconds` (epoch) gives ageSeconds; without it null.
 */
export class PostqueueJsonParser {
  readonly messages: PostfixQueueMessage[] = [];
  readonly warnings = new WarningList();
  constructor(private readonly nowSeconds?: number) {}

  line(line: string, n: number): void {
    // A record starts with "{" (the fast path); anything else is blank or not JSON.
    if (line.charCodeAt(0) !== 0x7b) {
      const t = line.trimStart();
      if (t === '') return;
      if (!t.startsWith('{')) return this.warnings.line(n, 'postqueue -j: not JSON', line);
    }
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      return this.warnings.line(n, 'postqueue -j: not JSON', line);
    }
    if (!isObject(rec) || typeof rec.queue_id !== 'string' || rec.queue_id === '')
      return this.warnings.line(n, 'postqueue -j: record without queue_id', line);
    const id = rec.queue_id;
    if (!ALNUM_ID.test(id)) this.warnings.line(n, 'postqueue -j: unusual queue_id', id);
    const rawSender = typeof rec.sender === 'string' ? rec.sender : '';
    if (typeof rec.sender !== 'string') this.warnings.line(n, 'postqueue -j: record without sender', line);
    const recipients: string[] = [];
    let reason: string | undefined;
    if (Array.isArray(rec.recipients)) {
      for (const r of rec.recipients) {
        if (isObject(r) && typeof r.address === 'string') {
          recipients.push(r.address);
          if (reason === undefined && typeof r.delay_reason === 'string' && r.delay_reason !== '') reason = r.delay_reason;
        } else this.warnings.line(n, `postqueue -j: bad recipient in ${id}`, JSON.stringify(r) ?? '');
      }
    } else this.warnings.line(n, `postqueue -j: ${id} has no recipients array`, line);
    const queue = typeof rec.queue_name === 'string' ? rec.queue_name : undefined;
    const arrival = typeof rec.arrival_time === 'number' && Number.isFinite(rec.arrival_time) ? rec.arrival_time : null;
    const size =
      typeof rec.message_size === 'number' && Number.isFinite(rec.message_size) && rec.message_size >= 0 ? rec.message_size : null;
    const sender = nullSender(rawSender) ? '' : rawSender;
    const msg: PostfixQueueMessage = {
      id,
      sender,
      recipients: exact(recipients),
      size,
      ageSeconds: ageFrom(arrival, this.nowSeconds),
      frozen: false,
      held: queue === 'hold',
      bounce: sender === '',
    };
    if (queue !== undefined) msg.queue = queue;
    if (reason !== undefined) msg.reason = reason;
    if (rec.forced_expire === true) msg.forcedExpire = true;
    this.messages.push(msg);
  }
}

/** Parse a whole `postqueue -j` output (PostqueueJsonParser fed every line). */
export function parsePostqueueJson(text: string, nowSeconds?: number): PostfixQueueListing {
  const p = new PostqueueJsonParser(nowSeconds);
  feedLines(text, (line, n) => p.line(line, n));
  return { messages: p.messages, reportedTotal: null, warnings: p.warnings.list() };
}

// ---------------------------------------------------------------------------
// postqueue -p

const P_HEADER = /^-+Queue ID-+\s+--Size--\s+-+Arrival Time-+\s+-+Sender\/Recipient-+\s*$/;
// id, then "*" (active) or "!" (hold), then "#" (forced to expire): showq_compat.c. Arrival
// "??" is what showq before 3.1 printed for a queue file without a time record.
const P_ENTRY = /^([0-9A-Za-z]+)([*!]?)(#?)\s+(\d+)\s+(\w{3}\s+\w{3}\s+\d{1,2}\s+\d{1,2}:\d{2}:\d{2}|\?\?)\s+(.*)$/;
/** showq before 3.1 (DROP_FORMAT): a maildrop file it could not open; no sender until pickup. */
const P_MAILDROP = /^\(maildrop queue, sender UID (\d{1,10})\)$/;
const P_FOOTER = /^--\s+(\d+)\s+Kbytes?\s+in\s+(\d+)\s+Requests?\.\s*$/;
const P_EMPTY = /^Mail queue is empty\s*$/;
const P_REASON = /^\s*\((.*)\)\s*$/;
const P_DIAG = /^(?:postqueue|postcat|showq|postdrop|sendmail|mailq)(?:\[\d+\])?: (warning|fatal|error): (.*)$/;
const P_RECIPIENT = /^\s+\S/;

export interface PostqueuePOptions {
  /** Epoch seconds "now"; needed for ageSeconds (the listing has no year and no zone). */
  nowSeconds?: number;
  /** The server's UTC offset in seconds (arrival times are server-local). Default 0. */
  tzOffsetSeconds?: number;
}

const STATUS_QUEUE: Record<string, string> = { '*': 'active', '!': 'hold', '': 'deferred' };

/** ASCII letters and digits: what a P_ENTRY line starts with. */
function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/**
 * `postqueue -p` / `mailq` fed line by line. reportedTotal comes from the footer ("-- N Kbytes in M
 * Requests." or "Mail queue is empty"); without a footer it stays null. Unmarked entries are
 * reported as queue 'deferred' (the text format cannot tell maildrop, incoming and deferred
 * apart), except the "(maildrop queue, sender UID N)" entries of Postfix < 3.1, which the
 * footer counts too: queue 'maildrop', sender unknown ('', not a bounce), senderUid N.
 */
export class PostqueuePParser {
  readonly messages: PostfixQueueMessage[] = [];
  readonly warnings = new WarningList();
  reportedTotal: number | null = null;
  private cur: PostfixQueueMessage | null = null;
  private readonly dates: YearlessClock | null;

  constructor(opts: PostqueuePOptions = {}) {
    this.dates = opts.nowSeconds === undefined ? null : new YearlessClock(opts.nowSeconds, opts.tzOffsetSeconds ?? 0);
  }

  line(line: string, n: number): void {
    // Each pattern is tried only on lines whose first character it can match, in the same order.
    const c = line.charCodeAt(0);
    const space = c === 0x20 || (c >= 0x09 && c <= 0x0d) || c > 0x7f;
    if (line === '' || (space && line.trim() === '')) {
      this.cur = null;
      return;
    }
    if (c === 0x2d /* - */) {
      if (P_HEADER.test(line)) return;
      const foot = P_FOOTER.exec(line);
      if (foot) {
        this.reportedTotal = Number(foot[2]);
        this.cur = null;
        return;
      }
    } else if (c === 0x4d /* M */ && P_EMPTY.test(line)) {
      this.reportedTotal = 0;
      return;
    }
    if (c >= 0x61 && c <= 0x7a) {
      const diag = P_DIAG.exec(line);
      if (diag) return this.warnings.line(n, diag[1] === 'warning' ? 'postfix warning' : `${COMMAND_FAILED} postfix`, line);
    }
    if (isAlnum(c)) {
      const e = P_ENTRY.exec(line);
      if (e) return this.entry(e, line, n);
    }
    const cur = this.cur;
    if (cur && (space || c === 0x28) /* ( */) {
      // Reason lines precede the recipients they apply to; the first one is kept.
      if (cur.reason === undefined) {
        const reason = P_REASON.exec(line);
        if (reason) {
          cur.reason = reason[1] ?? '';
          return;
        }
      } else if (P_REASON.test(line)) return;
      if (space && P_RECIPIENT.test(line)) {
        cur.recipients.push(line.trim());
        return;
      }
    }
    this.warnings.line(n, cur ? 'postqueue -p: line not understood' : 'postqueue -p: line outside any message', line);
  }

  /** The messages, the last one's recipients held compactly too. */
  done(): PostfixQueueMessage[] {
    const last = this.messages[this.messages.length - 1];
    if (last) last.recipients = exact(last.recipients);
    return this.messages;
  }

  private entry(e: RegExpExecArray, line: string, n: number): void {
    // The message before is complete: its recipients to an array of their own size.
    const prev = this.messages[this.messages.length - 1];
    if (prev) prev.recipients = exact(prev.recipients);
    const mark = e[2] ?? '';
    const rawSender = (e[6] ?? '').trim();
    const drop = mark === '' && e[3] === '' && rawSender.charCodeAt(0) === 0x28 ? P_MAILDROP.exec(rawSender) : null;
    const sender = drop || nullSender(rawSender) ? '' : rawSender;
    const when = e[5] ?? '';
    const arrival = this.dates === null || when === '??' ? null : this.dates.epoch(when);
    if (this.dates !== null && arrival === null && when !== '??') this.warnings.line(n, 'postqueue -p: arrival time not understood', line);
    const msg: PostfixQueueMessage = {
      id: e[1] ?? '',
      sender,
      recipients: [],
      size: Number(e[4]),
      ageSeconds: this.dates === null ? null : ageFrom(arrival, this.dates.nowSeconds),
      frozen: false,
      held: mark === '!',
      bounce: sender === '' && !drop,
      queue: drop ? 'maildrop' : (STATUS_QUEUE[mark] ?? 'deferred'),
    };
    if (e[3] === '#') msg.forcedExpire = true;
    if (drop) msg.senderUid = Number(drop[1]);
    this.messages.push(msg);
    this.cur = msg;
  }
}

/** Parse a whole `postqueue -p` / `mailq` output (PostqueuePParser fed every line). */
export function parsePostqueueP(text: string, opts: PostqueuePOptions = {}): PostfixQueueListing {
  const p = new PostqueuePParser(opts);
  feedLines(text, (line, n) => p.line(line, n));
  return { messages: p.done(), reportedTotal: p.reportedTotal, warnings: p.warnings.list() };
}

// ---------------------------------------------------------------------------
// Adapter: one round trip. postqueue -j, and when it works, the -p footer for the total;
// when it fails (postfix < 3.1: no -j), the full -p listing instead. Parsed line by line as it
// arrives (the batch functions are the same parser fed whole): nothing holds the output.

/** The listing script (scripts/queue.sh). */
export function postfixQueueCommand(ctx: MtaContext): Sh {
  return serverScript('postfix/scripts/queue.sh', postfixScriptTools(ctx, ['postqueue']));
}

/** What postqueue < 3.1 says to -j: expected, not worth a warning. */
const NO_JSON = /invalid option|illegal option|usage:/i;

/** Lines after the listing's sections: to a next reader (attribution), else kept as trailing text. */
export type AfterListing = (section: string | null, line: string, lineNo: number) => void;

/**
 * The listing sections of the output (clock, "json", then "footer" or "plain"), line by line.
 * Until the json marker arrives the lines also go to a -p parser over the whole output: when
 * the marker never comes (output cut short), the batch parse read it all as -p, and so does
 * this, without keeping the output to read it again.
 */
export class PostfixListingStream {
  /** The section names, the tail's added when the json section's exit code says which (SectionStream reads them as it goes). */
  private readonly expected: string[] = ['json'];
  private readonly sections: SectionStream;
  private lineNo = 0;
  private now: { seconds: number; tz: number } | undefined;
  private json: PostqueueJsonParser | undefined;
  /** The whole output as -p, while the json marker has not come. */
  private wholeAsP: PostqueuePParser | undefined;
  private readonly wholeHead = new FirstLines();
  private readonly jsonHead = new FirstLines();
  private jsonSaysOld = false;
  private tailName: 'footer' | 'plain' | undefined;
  private tail: PostqueuePParser | undefined;
  private readonly tailHead = new FirstLines();
  private readonly trailing = new TrailingText();

  constructor(
    private readonly localNowSeconds: number,
    /** Sections after the tail (attribution's), and who reads them; without it, they are trailing text. */
    private readonly more: { names: readonly string[]; after: AfterListing } | undefined = undefined,
  ) {
    this.sections = new SectionStream(this.expected, (section, line, n) => this.data(section, line, n));
  }

  closedSections(): ReadonlyMap<string, ClosedSection> {
    return this.sections.closed;
  }

  /** Tail section closed: the listing is whole, the rest is someone else's. */
  get complete(): boolean {
    return this.tailName !== undefined && this.sections.closed.has(this.tailName);
  }

  line(text: string): void {
    const n = ++this.lineNo;
    this.wholeHead.push(text);
    this.sections.push(text);
    if (n === 1 && text.startsWith(NOW_MARKER)) this.clock().wholeAsP?.line(text, 1);
    else if (this.tailName === undefined && text.startsWith(RC_MARKER)) this.jsonClosed();
  }

  private clock(): this {
    if (this.now) return this;
    this.now = { seconds: this.sections.nowSeconds ?? this.localNowSeconds, tz: this.sections.tzOffsetSeconds ?? 0 };
    this.json = new PostqueueJsonParser(this.now.seconds);
    this.wholeAsP = new PostqueuePParser({ nowSeconds: this.now.seconds, tzOffsetSeconds: this.now.tz });
    return this;
  }

  private jsonClosed(): void {
    const json = this.sections.closed.get('json');
    if (!json) return;
    this.clock();
    this.wholeAsP = undefined;
    this.tailName = json.rc === 0 ? 'footer' : 'plain';
    this.expected.push(this.tailName, ...(this.more?.names ?? []));
    // The footer gives only the total; the plain listing is the queue (ages need the clock).
    this.tail = new PostqueuePParser(this.tailName === 'plain' ? { nowSeconds: this.now!.seconds, tzOffsetSeconds: this.now!.tz } : {});
  }

  private data(section: string | null, line: string, n: number): void {
    if (section === 'json') {
      this.clock();
      this.json!.line(line, n);
      this.wholeAsP!.line(line, n);
      this.jsonHead.push(line);
      // postqueue's own complaint, never a record: a record's text (a sender "usage:…") cannot hush the warning.
      if (!this.jsonSaysOld && line.charCodeAt(0) !== 0x7b && NO_JSON.test(line)) this.jsonSaysOld = true;
    } else if (section !== null && section === this.tailName) {
      this.tail!.line(line, n);
      this.tailHead.push(line);
    } else if (this.more) this.more.after(section, line, n);
    else this.trailing.push(line);
  }

  end(stderr: string, code: number | null): PostfixQueueListing {
    const s = this.sections;
    this.clock();
    // As openOutput: the clock line's warnings, a missing clock, stderr.
    const warnings = [...s.warnings];
    if (s.nowSeconds === null) warnings.push('server clock not reported; ages use the local clock and assume UTC');
    if (stderr.trim() !== '') warnings.push(`stderr: ${failureText(stderr)}`);
    const json = s.closed.get('json');
    if (!json) {
      const p = this.wholeAsP!;
      warnings.push(
        `${COMMAND_FAILED} postqueue listing incomplete (exit ${code ?? 'none'}): ${stderr ? failureText(stderr) : failureText(this.wholeHead.text)}`,
      );
      return { messages: p.done(), reportedTotal: null, warnings: [...warnings, ...p.warnings.list()] };
    }
    const tail = s.closed.get(this.tailName!);
    const p = this.tail!;
    if (json.rc === 0) {
      warnings.push(...this.json!.warnings.labelled('postqueue -j'));
      let reportedTotal: number | null = null;
      if (!tail) warnings.push(`${COMMAND_FAILED} postqueue -p footer missing: ${failureText(this.tailHead.text)}`);
      else {
        reportedTotal = p.reportedTotal;
        if (reportedTotal === null) warnings.push(`postqueue -p footer not understood: ${failureText(this.tailHead.text)}`);
      }
      return { messages: this.json!.messages, reportedTotal, warnings };
    }
    // -j failed: expected on postfix < 3.1 ("invalid option"); the full -p listing follows.
    if (!this.jsonSaysOld) warnings.push(`postqueue -j exited ${json.rc}: ${failureText(this.jsonHead.text)}`);
    if (!tail) {
      warnings.push(`${COMMAND_FAILED} postqueue -p output missing: ${failureText(this.tailHead.text)}`);
      return { messages: [], reportedTotal: null, warnings };
    }
    if (tail.rc !== 0) warnings.push(`${COMMAND_FAILED} postqueue -p exited ${tail.rc}: ${failureText(this.tailHead.text)}`);
    warnings.push(...p.warnings.labelled('postqueue -p'));
    if (!this.trailing.blank) warnings.push(`unexpected output after the listing: ${this.trailing.printable()}`);
    return { messages: p.done(), reportedTotal: tail.rc === 0 ? p.reportedTotal : null, warnings };
  }
}

export function parsePostfixQueueOutput(
  stdout: string,
  stderr = '',
  code: number | null = 0,
  localNowSeconds = Date.now() / 1000,
): PostfixQueueListing {
  return feedSink(new PostfixListingStream(localNowSeconds), stdout, stderr, code);
}

// ---------------------------------------------------------------------------
// Attribution: the listing plus the queue files' envelope records (attribution.ts).

export function postfixAttributedCommand(ctx: MtaContext): Sh {
  return serverScript('postfix/scripts/attributed.sh', { ...postfixScriptTools(ctx, ['postqueue']), ...postcatEnvelopeSettings(ctx) });
}

/** The listing, then the queue directory ("qdir") and the kept `postcat -e` lines ("postcat"), parsed as they arrive. */
export class PostfixAttributedStream {
  private readonly listing: PostfixListingStream;
  private readonly qdirHead = new FirstLines();
  private readonly cat = new PostcatParser();
  private readonly catHead = new FirstLines();
  private readonly trailing = new TrailingText();

  constructor(localNowSeconds: number) {
    this.listing = new PostfixListingStream(localNowSeconds, {
      names: ['qdir', 'postcat'],
      after: (section, line, n) => {
        if (section === 'qdir') this.qdirHead.push(line);
        else if (section === 'postcat') {
          this.cat.line(line, n);
          this.catHead.push(line);
        } else this.trailing.push(line);
      },
    });
  }

  line(text: string): void {
    this.listing.line(text);
  }

  end(stderr: string, code: number | null): PostfixQueueListing {
    const complete = this.listing.complete;
    const listing = this.listing.end(stderr, code);
    if (!complete) {
      listing.warnings.push('messages not attributed: the queue listing itself is incomplete');
      return listing;
    }
    const warnings = listing.warnings;
    const closed = this.listing.closedSections();
    const qdir = closed.get('qdir');
    const cat = closed.get('postcat');
    if (!qdir || !cat) {
      // What followed the last marker: the section left open.
      const open = qdir ? this.catHead : this.qdirHead;
      warnings.push(`${COMMAND_FAILED} postfix queue file read incomplete: ${open.empty ? failureText(stderr) : failureText(open.text)}`);
    } else {
      if (qdir.rc !== 0)
        warnings.push(`${COMMAND_FAILED} postconf -h queue_directory exited ${qdir.rc}: ${failureText(this.qdirHead.text)}`);
      else if (cat.rc !== 0) warnings.push(`${COMMAND_FAILED} postcat -e exited ${cat.rc}: ${failureText(this.catHead.text)}`);
      const env = this.cat.result();
      warnings.push(...env.warnings.labelled('postcat -e'));
      warnings.push(...attributePostfixMessages(listing.messages, env.envelopes));
      if (!this.trailing.blank) warnings.push(`unexpected output after postcat: ${this.trailing.printable()}`);
    }
    return { ...listing, warnings: capWarnings(warnings, 150) };
  }
}

export function parsePostfixAttributedOutput(
  stdout: string,
  stderr = '',
  code: number | null = 0,
  localNowSeconds = Date.now() / 1000,
): PostfixQueueListing {
  return feedSink(new PostfixAttributedStream(localNowSeconds), stdout, stderr, code);
}
