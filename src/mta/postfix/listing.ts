// Postfix: `postqueue -j` (JSON lines, 3.1+) and `postqueue -p` / `mailq` (text, any version).

import type { QueueListing, QueueMessage } from '../types.js';
import { COMMAND_FAILED, ageFrom } from '../util.js';
import { exact, feedLines, ListBuilder, WarningList } from '../stream-parts.js';
import { YearlessClock } from '../yearless.js';
import { MessageStore, type QueueCounts } from '../message-store.js';

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
  private readonly store: MessageStore<PostfixQueueMessage>;
  readonly warnings = new WarningList();
  constructor(
    private readonly nowSeconds?: number,
    countsOnly = false,
  ) {
    this.store = new MessageStore(countsOnly);
  }

  /** The kept messages (none when counting: see counts()). */
  get messages(): PostfixQueueMessage[] {
    return this.store.list;
  }

  counts(): QueueCounts | null {
    return this.store.counts();
  }

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
    this.store.push(msg);
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
  /** Keep no messages, count them (see message-store.ts). */
  countsOnly?: boolean;
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
  private readonly store: MessageStore<PostfixQueueMessage>;
  readonly warnings = new WarningList();
  reportedTotal: number | null = null;
  private cur: PostfixQueueMessage | null = null;
  /** The recipients of the message read last, given to it when the next one starts (or at the end). */
  private readonly recipients = new ListBuilder<string>();
  private recipientsOf: PostfixQueueMessage | undefined;
  private readonly dates: YearlessClock | null;

  constructor(opts: PostqueuePOptions = {}) {
    this.store = new MessageStore(opts.countsOnly);
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
        if (!this.store.counting) this.recipients.add(line.trim());
        return;
      }
    }
    this.warnings.line(n, cur ? 'postqueue -p: line not understood' : 'postqueue -p: line outside any message', line);
  }

  /** The messages (the last one given its recipients). */
  done(): PostfixQueueMessage[] {
    this.closeRecipients();
    return this.store.list;
  }

  /** The message read last is complete: its recipients to an array of their own size. */
  private closeRecipients(): void {
    if (this.recipientsOf && this.recipients.length > 0) this.recipientsOf.recipients = this.recipients.take();
    this.recipientsOf = undefined;
  }

  /** What was counted instead of kept (null when keeping). */
  counts(): QueueCounts | null {
    return this.store.counts();
  }

  private entry(e: RegExpExecArray, line: string, n: number): void {
    this.closeRecipients();
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
    this.store.push(msg);
    this.cur = msg;
    this.recipientsOf = msg;
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
