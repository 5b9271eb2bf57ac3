// qmail queue read: `qmail-qstat` counts and `qmail-qread` listing (notqmail qmail-qread.c),
// `qmailctl stat` service lines, and the queue command; apart from qmail.ts so the mess-file
// attribution (qmail-mess.ts) builds on it without an import cycle.
//
//   14 Jan 2005 19:33:56 GMT  #1234567  2345  <alice@example.com>  bouncing
//   \tremote\tbob@example.net
//     done\tlocal\tcarol@example.org
//
// qmail-qread lists only preprocessed messages (queue/info); qmail-qstat's "messages in queue"
// also counts those still in queue/todo, so the adapter's reportedTotal is the difference.

import type { QueueListing, QueueMessage } from '../types.js';
import { LineWarnings, own } from '../stream-text.js';
import { feedLines } from '../stream-parts.js';
import { MessageStore, type QueueCounts } from '../message-store.js';
import { COMMAND_FAILED, capWarnings, ageFrom, monthIndex, printable, splitLines } from '../util.js';

export interface QmailQueueMessage extends QueueMessage {
  /** qmail-qread's " bouncing": a bounce for this message is being generated. */
  bouncing?: boolean;
  /** Recipients already delivered ("  done" lines). */
  delivered?: string[];
}

export interface QmailQueueListing extends QueueListing {
  messages: QmailQueueMessage[];
}

const QREAD_ENTRY = /^(\d{1,2}) (\w{3}) (\d{4}) (\d{1,2}):(\d{2}):(\d{2}) GMT {2}#(\d+) {2}(\d+) {2}<(.*)> ?( bouncing)?\s*$/;
const QREAD_RCPT = /^( {2}done)?\t(local|remote)\t(.*)$/;
const QREAD_DIAG = /^(warning|fatal): (.*)$/;

const LOCAL = 1;
const REMOTE = 2;

/**
 * The `qmail-qread` parser, fed line by line with each line's number in the whole output. `now`
 * (epoch, read when a message line arrives) gives ageSeconds; dates are printed in GMT.
 */
export class QmailQreadParser {
  private readonly store: MessageStore<QmailQueueMessage>;
  readonly warnings: LineWarnings;
  cur: QmailQueueMessage | null = null;
  /** The channels of each message's pending recipients (LOCAL | REMOTE), by index. */
  private readonly channels: number[] = [];
  private readonly keep: (s: string) => string;

  constructor(
    private readonly now: () => number | undefined,
    o: { copy?: boolean; countsOnly?: boolean } = {},
  ) {
    this.warnings = new LineWarnings();
    this.store = new MessageStore(o.countsOnly);
    // Counted messages are dropped when the next one starts: nothing of theirs to copy or collect.
    this.keep = o.copy && !o.countsOnly ? own : (x) => x;
  }

  line(line: string, n: number): void {
    if (line.trim() === '') return;
    const e = QREAD_ENTRY.exec(line);
    if (e) {
      const mon = monthIndex(e[2] ?? '');
      const t = mon < 0 ? null : Date.UTC(Number(e[3]), mon, Number(e[1]), Number(e[4]), Number(e[5]), Number(e[6])) / 1000;
      const sender = this.keep(e[9] ?? '');
      const msg: QmailQueueMessage = {
        id: this.keep(e[7] ?? ''),
        sender,
        recipients: [],
        size: Number(e[8]),
        ageSeconds: ageFrom(t, this.now()),
        frozen: false,
        held: false,
        bounce: sender === '',
      };
      if (e[10]) {
        msg.bouncing = true;
        msg.reason = 'bouncing';
      }
      this.store.push(msg);
      if (!this.store.counting) this.channels.push(0);
      this.cur = msg;
      return;
    }
    const r = QREAD_RCPT.exec(line);
    const c = this.cur;
    if (r && c) {
      if (this.store.counting) return;
      if (r[1]) (c.delivered ??= []).push(this.keep(r[3] ?? ''));
      else {
        c.recipients.push(this.keep(r[3] ?? ''));
        this.channels[this.channels.length - 1]! |= r[2] === 'local' ? LOCAL : REMOTE;
      }
      return;
    }
    const d = QREAD_DIAG.exec(line);
    if (d) {
      this.warnings.line(n, d[1] === 'fatal' ? `${COMMAND_FAILED} qmail-qread` : 'qmail-qread', line);
      return;
    }
    this.warnings.line(n, c ? 'qmail-qread: line not understood' : 'qmail-qread: line outside any message', line);
  }

  /** The messages, each with its queue (the channels its pending recipients wait in). */
  finish(): QmailQueueMessage[] {
    this.store.list.forEach((m, i) => {
      const ch = this.channels[i] ?? 0;
      if (ch === LOCAL) m.queue = 'local';
      else if (ch === REMOTE) m.queue = 'remote';
      else if (ch !== 0) m.queue = 'local+remote';
    });
    this.channels.length = 0;
    return this.store.list;
  }

  /** What was counted instead of kept (null when keeping). */
  counts(): QueueCounts | null {
    return this.store.counts();
  }
}

/** Parse `qmail-qread`. `nowSeconds` (epoch) gives ageSeconds; dates are printed in GMT. */
export function parseQmailQread(text: string, nowSeconds?: number): QmailQueueListing {
  const p = new QmailQreadParser(() => nowSeconds);
  feedLines(text, (line, n) => p.line(line, n));
  return { messages: p.finish(), reportedTotal: null, warnings: p.warnings.list() };
}

export interface QmailQstat {
  /** "messages in queue: N" (all messages, preprocessed or not). */
  inQueue: number | null;
  /** "messages in queue but not yet preprocessed: N". */
  notPreprocessed: number | null;
  warnings: string[];
}

/** One supervised service as `qmailctl stat` shows it (svstat or runit's `sv stat`). */
export interface QmailService {
  /** The service directory as printed (printable). */
  service: string;
  state: 'up' | 'down' | 'finish' | 'fail' | 'not running' | 'unknown';
  pid?: number;
  seconds?: number;
  /** The rest of the line (", normally up", "want down", runit's log part, the error). */
  note?: string;
}

// daemontools / daemontools-encore svstat: "<dir>: up (pid N) S seconds[, normally down][, want down]",
// "<dir>: down S seconds[, normally up]", "<dir>: supervise not running", "<dir>: unable to …".
const SVSTAT = /^(\S+): (up|down) (?:\(pid (\d+)(?: pgid \d+)?\) )?(\d+) seconds?(?:, (.+))?$/;
const SVSTAT_OTHER = /^(\S+): (supervise not running|unable to .+|bad format in .+)$/;
// runit sv stat: "run: <dir>: (pid N) Ss[; run: log: (pid M) Ss]", "down: <dir>: Ss, normally up", "fail: <dir>: …".
const SV_STAT = /^(run|down|finish|fail|warning): (\S+?): (?:\(pid (\d+)\) )?(?:(\d+)s\b)?[,;]? ?(.*)$/;

/** A `qmailctl stat` service line, or null. */
export function parseQmailServiceLine(line: string): QmailService | null {
  const t = line.trim();
  let m = SVSTAT.exec(t);
  if (m) {
    const s: QmailService = { service: printable(m[1] ?? ''), state: m[2] === 'up' ? 'up' : 'down' };
    if (m[3] !== undefined) s.pid = Number(m[3]);
    s.seconds = Number(m[4]);
    if (m[5] !== undefined) s.note = printable(m[5]);
    return s;
  }
  m = SVSTAT_OTHER.exec(t);
  if (m)
    return m[2] === 'supervise not running'
      ? { service: printable(m[1] ?? ''), state: 'not running' }
      : { service: printable(m[1] ?? ''), state: 'unknown', note: printable(m[2] ?? '') };
  m = SV_STAT.exec(t);
  if (m) {
    const state = ({ run: 'up', down: 'down', finish: 'finish', fail: 'fail', warning: 'unknown' } as const)[m[1] as 'run'];
    const s: QmailService = { service: printable(m[2] ?? ''), state };
    if (m[3] !== undefined) s.pid = Number(m[3]);
    if (m[4] !== undefined) s.seconds = Number(m[4]);
    if ((m[5] ?? '') !== '') s.note = printable(m[5] ?? '');
    return s;
  }
  return null;
}

const QSTAT_TOTAL = /^messages in queue: (\d+)$/;
const QSTAT_TODO = /^messages in queue but not yet preprocessed: (\d+)$/;

/** The `qmail-qstat` parser (also inside `qmailctl stat`, whose service lines are recognised and skipped). */
export class QmailQstatParser {
  inQueue: number | null = null;
  notPreprocessed: number | null = null;
  readonly warnings = new LineWarnings();
  private k = 0;

  /** `n`: the line's number in the section. */
  line(line: string): void {
    const n = ++this.k;
    const t = line.trim();
    if (t === '') return;
    let m = QSTAT_TOTAL.exec(t);
    if (m) {
      this.inQueue = Number(m[1]);
      return;
    }
    m = QSTAT_TODO.exec(t);
    if (m) {
      this.notPreprocessed = Number(m[1]);
      return;
    }
    if (parseQmailServiceLine(t)) return;
    this.warnings.line(n, 'qmail-qstat: line not understood', line);
  }
}

/** Parse `qmail-qstat` (also inside `qmailctl stat`, whose service lines are recognised and skipped). */
export function parseQmailQstat(text: string): QmailQstat {
  const p = new QmailQstatParser();
  for (const line of splitLines(text)) p.line(line);
  return { inQueue: p.inQueue, notPreprocessed: p.notPreprocessed, warnings: p.warnings.list() };
}

export interface QmailQueueText extends QmailQueueListing {
  /** The service lines of `qmailctl stat`, when there were any. */
  services?: QmailService[];
}

/**
 * Saved qmail queue output for `mailsweep parse`: `qmail-qstat`, `qmailctl stat` (service lines,
 * then qmail-qstat's), `qmail-qread`, or counts followed by a listing. Service lines are reported
 * in `services`, never counted. reportedTotal: "messages in queue" when there is no listing; with
 * a listing, the preprocessed count (what qmail-qread lists), as the scan reports it.
 */
export function parseQmailQueueText(text: string, nowSeconds?: number): QmailQueueText {
  const services: QmailService[] = [];
  const warnings: string[] = [];
  let inQueue: number | null = null;
  let todo: number | null = null;
  let listing = false;
  // What is not a count or a service line goes to qmail-qread's parser, on its own line number.
  const rest = splitLines(text).map((line) => {
    const t = line.trim();
    if (t === '') return '';
    let m = QSTAT_TOTAL.exec(t);
    if (m) {
      inQueue = Number(m[1]);
      return '';
    }
    m = QSTAT_TODO.exec(t);
    if (m) {
      todo = Number(m[1]);
      return '';
    }
    const s = parseQmailServiceLine(t);
    if (s) {
      services.push(s);
      return '';
    }
    listing = true;
    return line;
  });
  const l = listing ? parseQmailQread(rest.join('\n'), nowSeconds) : { messages: [], warnings: [] as string[] };
  const total = inQueue as number | null;
  const pre = todo as number | null;
  let reportedTotal: number | null = total;
  if (total !== null && l.messages.length > 0) {
    reportedTotal = total - (pre ?? 0);
    if (pre) warnings.push(`${pre} message(s) not yet preprocessed: counted by qmail-qstat, not listed by qmail-qread`);
  }
  for (const s of services) if (s.state !== 'up') warnings.push(`service ${s.service} is ${s.state}${s.note ? ` (${s.note})` : ''}`);
  warnings.push(...l.warnings);
  const out: QmailQueueText = { messages: l.messages, reportedTotal, warnings: capWarnings(warnings) };
  if (services.length > 0) out.services = services;
  return out;
}

// ---------------------------------------------------------------------------
// Adapter: qmail-qstat, marker, qmail-qread.
