// Exim: the `exim -bp` listing and `exim -bpc` count, and the attributed read built on them (the
// spool -H envelope file is attribution.ts). Formats follow Exim's queue.c (queue_list).

import { raw, sh, shLines, type Sh } from '../../transport/quote.js';
import { eximBinary } from './host.js';
import {
  FROZEN,
  parseHeadLineSlow,
  LINE_BREAK,
  WS_CHAR,
  NOT_HEAD,
  HEAD,
  parseHeadLineFast,
  parseSenderPart,
  SPOOL_ERROR,
  RCPT,
  RCPT_BPA,
  RCPT_LOOSE,
  headAge,
  headEnd,
  headSize,
  headStart,
  EximBpcParser,
} from './bp-line.js';
export { parseEximAge, parseEximBpc, parseEximSize, parseHeadLine } from './bp-line.js';

import {
  attributeEximMessage,
  attributionHeader,
  EximSpoolDumpParser,
  eximSpoolDumpScript,
  isSpoolDumpData,
  missingWarning,
} from './attribution.js';
import type { LineSink, MtaContext, QueueListing, QueueMessage, StreamOptions } from '../types.js';
import { SectionStream } from '../sections.js';
import { addCounts, MessageStore, type QueueCounts } from '../message-store.js';
import { FirstLines, LineWarnings, own, TrailingText } from '../stream-text.js';
import { feedLines, feedSink } from '../stream-parts.js';
import { COMMAND_FAILED, capWarnings, failureText, rcEcho } from '../util.js';

/** A -bp entry (localLogin: the login exim prints when an untrusted local user set the sender). */
export type EximQueueMessage = QueueMessage;

export interface EximQueueListing extends QueueListing {
  messages: EximQueueMessage[];
}

/**
 * The `exim -bp` parser (also -bpa, -bpr, -bpu), fed line by line with each line's number in the
 * whole output. Never throws. A message keeps its own copies of what it holds, never the line.
 */
export class EximBpParser {
  private readonly messages: MessageStore<EximQueueMessage>;
  readonly warnings: LineWarnings;
  /** Recipients are kept (not when only counting). */
  private readonly withRecipients: boolean;
  /** The message recipient lines now belong to (null after a blank line). */
  private current: EximQueueMessage | null = null;
  /** Its recipients so far: given to it as an exactly sized array when it ends (a growing array keeps spare room). */
  private readonly rcpts: string[] = [];

  /** Copy what a message keeps (see own()): for lines cut from the transport's chunks, not from one whole text. */
  private readonly keep: (s: string) => string;

  constructor(o: { maxWarnings?: number; copy?: boolean; countsOnly?: boolean } = {}) {
    this.warnings = new LineWarnings(o.maxWarnings ?? 100);
    this.messages = new MessageStore(o.countsOnly);
    this.withRecipients = !o.countsOnly;
    // Counted messages are dropped as soon as the next one starts: nothing of theirs to copy.
    const copy = o.copy && !o.countsOnly;
    this.keep = copy ? own : (s) => s;
    this.keepSender = copy ? pooled(new Map()) : (s) => s;
  }

  /** Senders repeat (a hijacked account sends thousands): equal ones share one copy. */
  private readonly keepSender: (s: string) => string;

  get cur(): EximQueueMessage | null {
    return this.current;
  }

  private set cur(m: EximQueueMessage | null) {
    if (this.current && this.rcpts.length) {
      this.current.recipients = this.rcpts.slice();
      this.rcpts.length = 0;
    }
    this.current = m;
  }

  /** The kept messages, the last one's recipients given to it. */
  finish(): EximQueueMessage[] {
    this.cur = null;
    return this.messages.list;
  }

  /** What was counted instead of kept (null when keeping); after finish(). */
  counts(): QueueCounts | null {
    return this.messages.counts();
  }

  line(line: string, n: number): void {
    const len = line.length;
    let i = 0;
    while (i < len && line.charCodeAt(i) === 32) i++;
    if (i === len) {
      this.cur = null;
      return;
    }
    const c = line.charCodeAt(i);
    // \S as a regular expression sees it (tab, VT, FF, CR and Unicode spaces are blanks).
    const nonBlank = c > 32 ? c < 127 || !WS_CHAR.test(line[i] ?? '') : c !== 32 && (c < 9 || c > 13);
    if (!nonBlank && line.trim() === '') {
      this.cur = null;
      return;
    }
    // Message lines start within 6 columns (" 0m", a right-aligned size, or a blank size);
    // recipient lines are indented 7+, so a recipient shaped like a message line stays one.
    if (i <= 6 && nonBlank && this.head(line, n)) return;
    this.other(line, i, n);
  }

  private head(line: string, n: number): boolean {
    const f = parseHeadLineFast(line);
    if (f === NOT_HEAD) return false;
    const len = line.length;
    const e = headEnd;
    if (f === HEAD && len - e >= 3 && line.charCodeAt(e) === 32 && line.charCodeAt(e + 1) === 60 && line.charCodeAt(len - 1) === 62) {
      // The usual " <sender>" (no login, not frozen), read in place.
      const sender = line.slice(e + 2, len - 1);
      const msg: EximQueueMessage = {
        id: this.keep(line.slice(headStart, e)),
        sender: this.keepSender(sender),
        recipients: [],
        size: headSize,
        ageSeconds: headAge,
        frozen: false,
        held: false,
        bounce: sender === '',
      };
      this.messages.push(msg);
      this.cur = msg;
      return true;
    }
    const h = f === HEAD ? { id: line.slice(headStart, e), age: headAge, size: headSize, rest: line.slice(e) } : parseHeadLineSlow(line);
    if (!h) return false;
    const sp = parseSenderPart(h.rest);
    if (!sp) this.warnings.line(n, 'exim -bp: sender part not understood', line);
    const msg: EximQueueMessage = {
      id: this.keep(h.id),
      sender: this.keepSender(sp?.sender ?? ''),
      recipients: [],
      size: h.size,
      ageSeconds: h.age,
      frozen: sp?.frozen ?? false,
      held: false,
      bounce: sp?.sender === '',
    };
    if (sp?.login !== undefined) msg.localLogin = this.keep(sp.login);
    if (sp && sp.sender === null) msg.reason = 'envelope not readable';
    this.messages.push(msg);
    this.cur = msg;
    return true;
  }

  /** Not a message line: a spool error of the current message, a recipient, or not understood. */
  private other(line: string, spaces: number, n: number): void {
    const cur = this.cur;
    if (line.includes('*** spool ')) {
      const spool = SPOOL_ERROR.exec(line);
      if (spool && cur) {
        // After a header (not envelope) error exim still appends the frozen marker here.
        let why = spool[1] ?? 'spool error';
        if (why.endsWith(FROZEN)) {
          cur.frozen = true;
          why = why.slice(0, -FROZEN.length);
        }
        cur.reason = this.keep(why);
        this.warnings.line(n, `exim -bp: message ${cur.id} unreadable`, line);
        return;
      }
    }
    // Recipients: 8 spaces, ' ' or 'D', space, address; -bpa extras: 7 spaces, '+D', space.
    if (cur && spaces >= 8 && line.length >= 11 && line.charCodeAt(9) === 32 && !LINE_BREAK.test(line)) {
      const mark = line.charCodeAt(8);
      if (mark === 32 || mark === 68) {
        if (mark === 32 && this.withRecipients) this.rcpts.push(this.keep(line.slice(10)));
        return;
      }
    }
    const strict = RCPT.exec(line) ?? RCPT_BPA.exec(line);
    const loose = strict ?? RCPT_LOOSE.exec(line);
    if (loose && cur) {
      const mark = (loose[1] ?? ' ').trim();
      if (mark === '' && this.withRecipients) this.rcpts.push(this.keep(loose[2] ?? ''));
      return;
    }
    this.warnings.line(n, cur ? 'exim -bp: line not understood' : 'exim -bp: line outside any message', line);
  }
}

/** own(), equal strings sharing one copy (up to 10,000 different ones). */
function pooled(pool: Map<string, string>): (s: string) => string {
  return (s) => {
    let k = pool.get(s);
    if (k === undefined) {
      k = own(s);
      if (pool.size < 10_000) pool.set(k, k);
    }
    return k;
  };
}

/** Parse `exim -bp` (also -bpa, -bpr, -bpu). Never throws; reportedTotal stays null (that is -bpc). */
export function parseEximBp(text: string): EximQueueListing {
  const p = new EximBpParser();
  feedLines(text, (line, n) => p.line(line, n));
  return { messages: p.finish(), reportedTotal: null, warnings: p.warnings.list() };
}

/**
 * The queue read (-bpc, -bp) and the attributed one (then the spool directory and the -H dump),
 * parsed as the output arrives: only the parsers' state and bounded heads of odd text are held.
 */
class EximQueueSink implements LineSink<EximQueueListing> {
  private n = 0;
  private readonly sections: SectionStream;
  /**
   * The whole output read as -bp, for when the command did not run as built (the old fallback).
   * It reads only up to the end of the -bpc section (normally a count and the marker): from there
   * the -bp section's parser sees the same lines in the same state, so the fallback is this one's
   * messages and warnings followed by the -bp section's. Only if the -bpc part left it inside a
   * message (not exim's output) does it read on, to the end.
   */
  private readonly whole: EximBpParser;
  private wholeReads = true;
  private wholeToEnd = false;
  private readonly out = new FirstLines();
  private readonly bpc = new EximBpcParser();
  private readonly bp: EximBpParser;
  /**
   * The -H dump: each envelope attributes its listed messages as it is parsed (the -bp section has
   * closed by then), so only which ids had one is kept, not the envelopes.
   */
  private readonly spool: EximSpoolDumpParser<true> | null;
  /** Attribution strings shared between messages (attributionHeader). */
  private readonly pool = new Map<string, string>();
  /** The listing's messages by id, built when the dump starts. */
  private byId: Map<string, EximQueueMessage | EximQueueMessage[]> | null = null;
  private readonly spoolDiag = new FirstLines((l) => !isSpoolDumpData(l));
  private readonly texts = new Map<string | null, FirstLines>();
  private readonly trailing = new TrailingText();

  constructor(
    private readonly attributed: boolean,
    countsOnly = false,
  ) {
    // The attributed read attributes messages: it always keeps them.
    const o = { copy: true, countsOnly: countsOnly && !attributed };
    this.whole = new EximBpParser(o);
    this.bp = new EximBpParser(o);
    const expected = attributed ? ['bpc', 'bp', 'spooldir', 'spool'] : ['bpc', 'bp'];
    for (const s of [...expected, null]) this.texts.set(s, new FirstLines());
    this.spool = attributed
      ? new EximSpoolDumpParser(
          (h) => {
            const m = this.index().get(h.id);
            const a = m && attributionHeader(h, this.pool);
            if (a) for (const x of Array.isArray(m) ? m : [m]) attributeEximMessage(x, a);
            return true as const;
          },
          (id) => {
            const m = this.index().get(id);
            return m ? (Array.isArray(m) ? m[0]! : m).id : own(id);
          },
        )
      : null;
    this.sections = new SectionStream(expected, (section, line, n) => this.route(section, line, n));
  }

  line(text: string): void {
    const n = ++this.n;
    this.out.push(text);
    if (this.wholeReads) this.whole.line(text, n);
    this.sections.push(text);
    if (this.wholeReads && !this.wholeToEnd && this.sections.closed.has('bpc')) {
      if (this.whole.cur === null) this.wholeReads = false;
      else this.wholeToEnd = true;
    }
  }

  private route(section: string | null, line: string, n: number): void {
    this.texts.get(section)?.push(line);
    if (section === 'bp') this.bp.line(line, n);
    else if (section === 'bpc') this.bpc.line(line);
    else if (section === 'spool') {
      this.spool?.line(line, n);
      this.spoolDiag.push(line);
    } else if (section === null) this.trailing.push(line);
  }

  private index(): Map<string, EximQueueMessage | EximQueueMessage[]> {
    if (this.byId) return this.byId;
    const byId = new Map<string, EximQueueMessage | EximQueueMessage[]>();
    for (const m of this.bp.finish()) {
      const had = byId.get(m.id);
      if (!had) byId.set(m.id, m);
      else if (Array.isArray(had)) had.push(m);
      else byId.set(m.id, [had, m]);
    }
    return (this.byId = byId);
  }

  private text(section: string): string {
    return this.texts.get(section)?.text ?? '';
  }

  end(stderr: string, code: number | null): EximQueueListing {
    const closed = this.sections.closed;
    const warnings = [...this.sections.warnings];
    const bpc = closed.get('bpc');
    const bp = closed.get('bp');
    if (!bpc || !bp) {
      // The command did not run as built (no shell, killed, or not our output at all): the whole output as -bp.
      const w = new LineWarnings();
      w.append(this.whole.warnings);
      if (!this.wholeToEnd && !this.wholeReads) w.append(this.bp.warnings);
      const both = !this.wholeToEnd && !this.wholeReads;
      const messages = both ? [...this.whole.finish(), ...this.bp.finish()] : this.whole.finish();
      const counts = addCounts(this.whole.counts(), both ? this.bp.counts() : null);
      warnings.push(`${COMMAND_FAILED} exim queue listing incomplete (exit ${code ?? 'none'}): ${failureText(stderr || this.out.text)}`);
      warnings.push(...w.list());
      if (this.attributed) {
        warnings.push('messages not attributed: the queue listing itself is incomplete');
        return { messages, reportedTotal: null, warnings: capWarnings(warnings, 150) };
      }
      return { messages, reportedTotal: null, warnings, ...(counts ? { counts } : {}) };
    }
    let reportedTotal: number | null = null;
    if (bpc.rc !== 0) warnings.push(`${COMMAND_FAILED} exim -bpc exited ${bpc.rc}: ${failureText(this.text('bpc'))}`);
    else {
      reportedTotal = this.bpc.count;
      warnings.push(...this.bpc.warnings.list('exim -bpc', bpc.firstLine - 1));
    }
    if (bp.rc !== 0) {
      warnings.push(`${COMMAND_FAILED} exim -bp exited ${bp.rc}: ${failureText(this.text('bp'))}`);
      reportedTotal = null;
    }
    warnings.push(...this.bp.warnings.list('exim -bp'));
    const messages = this.bp.finish();
    if (!this.attributed) {
      if (!this.trailing.blank) warnings.push(`unexpected output after the listing: ${this.trailing.printable()}`);
      if (stderr.trim() !== '') warnings.push(`stderr: ${failureText(stderr)}`);
      const counts = addCounts(this.bp.counts());
      return { messages, reportedTotal, warnings, ...(counts ? { counts } : {}) };
    }
    const dir = closed.get('spooldir');
    const spool = closed.get('spool');
    if (!dir || !spool) {
      // What arrived of the section that never closed.
      const open = this.texts.get(dir ? 'spool' : 'spooldir');
      warnings.push(`${COMMAND_FAILED} exim spool read incomplete: ${failureText(open && !open.empty ? open.text : stderr)}`);
      // A dump cut short attributes nothing: take back what its envelopes gave as they came.
      for (const m of messages) {
        delete m.clientIp;
        delete m.authId;
        delete m.authSender;
      }
    } else {
      if (dir.rc !== 0) warnings.push(`${COMMAND_FAILED} exim -bP spool_directory exited ${dir.rc}: ${failureText(this.text('spooldir'))}`);
      const dump = (this.spool as EximSpoolDumpParser<true>).end();
      // Only the diagnostics (awk/find errors), not the envelope data, go into the message.
      if (spool.rc !== 0) warnings.push(`${COMMAND_FAILED} exim spool read exited ${spool.rc}: ${failureText(this.spoolDiag.text)}`);
      warnings.push(...dump.warnings.list('exim spool'));
      warnings.push(...missingWarning(messages.filter((m) => !dump.headers.has(m.id)).map((m) => m.id)));
      if (!this.trailing.blank) warnings.push(`unexpected output after the spool: ${this.trailing.printable()}`);
    }
    if (stderr.trim() !== '') warnings.push(`stderr: ${failureText(stderr)}`);
    return { messages, reportedTotal, warnings: capWarnings(warnings, 150) };
  }
}

/** The streaming parser of the queue read (`eximQueueCommand`). */
export function eximQueueSink(_now?: number, o: StreamOptions = {}): LineSink<EximQueueListing> {
  return new EximQueueSink(false, o.countsOnly);
}

/** The streaming parser of the attributed read (`eximAttributedCommand`). */
export function eximAttributedSink(): LineSink<EximQueueListing> {
  return new EximQueueSink(true);
}

/** Combine the -bpc and -bp sections of the adapter's command into one listing. */
export function parseEximQueueOutput(stdout: string, stderr = '', code: number | null = 0): EximQueueListing {
  return feedSink(eximQueueSink(), stdout, stderr, code);
}

// ---------------------------------------------------------------------------
// Attribution: the -bp listing plus the envelope part of every spool -H file (attribution.ts),
// in the same round trip.

/** `exim -bpc` then `exim -bp`, each followed by its exit code. */
export function eximQueueCommand(ctx: MtaContext): Sh {
  const bin = eximBinary(ctx);
  return sh`${bin} -bpc 2>&1; ${raw(rcEcho('bpc'))}; ${bin} -bp 2>&1; ${raw(rcEcho('bp'))}`;
}

/** The listing, then the spool directory and every -H envelope (scripts/spool-dump.sh). */
export function eximAttributedCommand(ctx: MtaContext): Sh {
  return shLines(eximQueueCommand(ctx), eximSpoolDumpScript(ctx));
}

export function parseEximAttributedOutput(stdout: string, stderr = '', code: number | null = 0): EximQueueListing {
  return feedSink(eximAttributedSink(), stdout, stderr, code);
}
