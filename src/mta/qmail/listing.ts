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

import { qmailBinDir } from './host.js';
import type { LineSink, MtaContext, QueueListing, QueueMessage } from '../types.js';
import { raw, sh, shLines, type Sh } from '../../transport/quote.js';
import { SectionStream, type ClosedSection } from '../sections.js';
import { FirstLines, LineWarnings, own, TrailingText } from '../stream-text.js';
import { feedLines } from '../stream-parts.js';
import { COMMAND_FAILED, capWarnings, NOW_COMMAND, ageFrom, failureText, monthIndex, printable, rcEcho, splitLines } from '../util.js';

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
  readonly messages: QmailQueueMessage[] = [];
  readonly warnings: LineWarnings;
  cur: QmailQueueMessage | null = null;
  /** The channels of each message's pending recipients (LOCAL | REMOTE), by index. */
  private readonly channels: number[] = [];
  private readonly keep: (s: string) => string;

  constructor(
    private readonly now: () => number | undefined,
    o: { copy?: boolean } = {},
  ) {
    this.warnings = new LineWarnings();
    this.keep = o.copy ? own : (x) => x;
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
      this.messages.push(msg);
      this.channels.push(0);
      this.cur = msg;
      return;
    }
    const r = QREAD_RCPT.exec(line);
    const c = this.cur;
    if (r && c) {
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
    this.messages.forEach((m, i) => {
      const ch = this.channels[i] ?? 0;
      if (ch === LOCAL) m.queue = 'local';
      else if (ch === REMOTE) m.queue = 'remote';
      else if (ch !== 0) m.queue = 'local+remote';
    });
    this.channels.length = 0;
    return this.messages;
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

export function qmailQueueCommand(ctx: MtaContext): Sh {
  const dir = qmailBinDir(ctx);
  const qstat = `${dir}/qmail-qstat`;
  const qread = `${dir}/qmail-qread`;
  return shLines(sh`${raw(NOW_COMMAND)}`, sh`${qstat} 2>&1; ${raw(rcEcho('qstat'))}`, sh`${qread} 2>&1; ${raw(rcEcho('qread'))}`);
}

/**
 * The attributed read's part after the listing (attribution.ts): its section's lines, then, once
 * the listing is complete, its warnings and the messages' attribution.
 */
export interface QmailListingTail {
  line(line: string, n: number): void;
  finish(o: {
    messages: QmailQueueMessage[];
    section: ClosedSection | undefined;
    /** What arrived of its section when it never closed (failureText of it, or of stderr when it is empty). */
    openText: FirstLines;
    trailing: TrailingText;
    stderr: string;
    warnings: string[];
  }): void;
}

/**
 * The queue read (NOW, qstat, qread) and the attributed one (then the mess files: `tail`),
 * parsed as the output arrives. A streaming sink; the batch parsers are it fed whole.
 */
export class QmailQueueSink implements LineSink<QmailQueueListing> {
  private n = 0;
  private readonly sections: SectionStream;
  /**
   * The whole output read as qmail-qread, for when the command did not run as built: it reads up
   * to the end of the qstat section; from there the qread section's parser sees the same lines in
   * the same state (outside any message), so the fallback is its messages then that parser's. If
   * qstat's part left it inside a message (not qmail-qstat's output), it reads on to the end.
   */
  private readonly whole: QmailQreadParser;
  private wholeReads = true;
  private wholeToEnd = false;
  private readonly qstat = new QmailQstatParser();
  private readonly qread: QmailQreadParser;
  private readonly out = new FirstLines();
  private readonly texts = new Map<string | null, FirstLines>();
  private readonly trailing = new TrailingText();

  constructor(
    private readonly localNowSeconds: number,
    private readonly tail: QmailListingTail | null = null,
  ) {
    const expected = tail ? ['qstat', 'qread', 'mess'] : ['qstat', 'qread'];
    for (const x of [...expected, null]) this.texts.set(x, new FirstLines());
    const now = () => this.sections.nowSeconds ?? this.localNowSeconds;
    this.whole = new QmailQreadParser(now, { copy: true });
    this.qread = new QmailQreadParser(now, { copy: true });
    this.sections = new SectionStream(expected, (section, line, n) => this.route(section, line, n));
  }

  line(text: string): void {
    const n = ++this.n;
    this.out.push(text);
    // The whole output as qmail-qread: its NOW line is a line like any other.
    if (this.wholeReads) this.whole.line(text, n);
    this.sections.push(text);
    if (this.wholeReads && !this.wholeToEnd && this.sections.closed.has('qstat')) {
      if (this.whole.cur === null) this.wholeReads = false;
      else this.wholeToEnd = true;
    }
  }

  private route(section: string | null, line: string, n: number): void {
    this.texts.get(section)?.push(line);
    if (section === 'qread') this.qread.line(line, n);
    else if (section === 'qstat') this.qstat.line(line);
    else if (section === 'mess') this.tail?.line(line, n);
    else if (section === null) this.trailing.push(line);
  }

  end(stderr: string, code: number | null): QmailQueueListing {
    // qmail-qread prints GMT dates: the server's zone does not matter, only its clock.
    const closed = this.sections.closed;
    const warnings = [...this.sections.warnings];
    if (stderr.trim() !== '') warnings.push(`stderr: ${failureText(stderr)}`);
    const qstat = closed.get('qstat');
    const qread = closed.get('qread');
    if (!qstat || !qread) {
      const w = new LineWarnings();
      w.append(this.whole.warnings);
      const both = !this.wholeToEnd && !this.wholeReads;
      if (both) w.append(this.qread.warnings);
      const messages = both ? [...this.whole.finish(), ...this.qread.finish()] : this.whole.finish();
      warnings.push(`${COMMAND_FAILED} qmail queue listing incomplete (exit ${code ?? 'none'}): ${failureText(stderr || this.out.text)}`);
      warnings.push(...w.list());
      if (this.tail) {
        warnings.push('messages not attributed: the queue listing itself is incomplete');
        return { messages, reportedTotal: null, warnings: capWarnings(warnings, 150) };
      }
      return { messages, reportedTotal: null, warnings };
    }
    let reportedTotal: number | null = null;
    const s = this.qstat;
    if (qstat.rc !== 0 || s.inQueue === null) {
      warnings.push(`${COMMAND_FAILED} qmail-qstat exited ${qstat.rc}: ${failureText(this.texts.get('qstat')?.text ?? '')}`);
    } else {
      reportedTotal = s.inQueue - (s.notPreprocessed ?? 0);
      if (s.notPreprocessed)
        warnings.push(`${s.notPreprocessed} message(s) not yet preprocessed: counted by qmail-qstat, not listed by qmail-qread`);
    }
    warnings.push(...s.warnings.list('qmail-qstat', qstat.firstLine - 1));
    if (qread.rc !== 0) {
      warnings.push(`${COMMAND_FAILED} qmail-qread exited ${qread.rc}: ${failureText(this.texts.get('qread')?.text ?? '')}`);
      reportedTotal = null;
    }
    warnings.push(...this.qread.warnings.list('qmail-qread'));
    const messages = this.qread.finish();
    if (!this.tail) {
      if (!this.trailing.blank) warnings.push(`unexpected output after the listing: ${this.trailing.printable()}`);
      return { messages, reportedTotal, warnings };
    }
    this.tail.finish({
      messages,
      section: closed.get('mess'),
      openText: this.texts.get('mess') ?? new FirstLines(),
      trailing: this.trailing,
      stderr,
      warnings,
    });
    return { messages, reportedTotal, warnings: capWarnings(warnings, 150) };
  }
}

export function parseQmailQueueOutput(
  stdout: string,
  stderr = '',
  code: number | null = 0,
  localNowSeconds = Date.now() / 1000,
): QmailQueueListing {
  const sink = new QmailQueueSink(localNowSeconds);
  feedLines(stdout, (line) => sink.line(line));
  return sink.end(stderr, code);
}
