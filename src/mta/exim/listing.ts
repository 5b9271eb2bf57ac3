// Exim: the `exim -bp` listing and `exim -bpc` count, and the attributed read built on them (the
// spool -H envelope file is attribution.ts). Formats follow Exim's queue.c (queue_list).

import { raw, sh, shLines, type Sh } from '../../transport/quote.js';
import { EXIM_ID, eximBinary } from './host.js';
import {
  attributeEximMessage,
  attributionHeader,
  EximSpoolDumpParser,
  eximSpoolDumpScript,
  isSpoolDumpData,
  missingWarning,
} from './attribution.js';
import type { LineSink, MtaContext, QueueListing, QueueMessage } from '../types.js';
import { SectionStream } from '../sections.js';
import { FirstLines, LineWarnings, own, TrailingText } from '../stream-text.js';
import { feedLines } from '../stream-parts.js';
import { COMMAND_FAILED, capWarnings, failureText, rcEcho, splitLines } from '../util.js';

/** A -bp entry (localLogin: the login exim prints when an untrusted local user set the sender). */
export type EximQueueMessage = QueueMessage;

export interface EximQueueListing extends QueueListing {
  messages: EximQueueMessage[];
}

const ID_IN_LINE = new RegExp(`^(.*?)(?<![0-9A-Za-z-])(${EXIM_ID.source})(?![0-9A-Za-z-])(.*)$`);

const AGE = /^(\d+)([mhd])$/;
const AGE_PLACEHOLDER = /^T+$/;
const SIZE = /^(\d+(?:\.\d+)?)([KMG]?)$/;
const SIZE_PLACEHOLDER = /^s+$/;
const FROZEN = ' *** frozen ***';

/** "25m" / " 2h" / "3d" → seconds; placeholders and garbage → null. */
export function parseEximAge(text: string): number | null {
  const m = AGE.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  return n * (m[2] === 'm' ? 60 : m[2] === 'h' ? 3600 : 86400);
}

/** "2.9K" / "1.2M" / "512" → bytes (as precise as exim prints them); "sss" / blank → null. */
export function parseEximSize(text: string): number | null {
  const m = SIZE.exec(text.trim());
  if (!m) return null;
  const unit = m[2] === 'K' ? 1024 : m[2] === 'M' ? 1024 ** 2 : m[2] === 'G' ? 1024 ** 3 : 1;
  return Math.round(Number(m[1]) * unit);
}

function isAgeToken(t: string): boolean {
  return AGE.test(t) || AGE_PLACEHOLDER.test(t);
}
function isSizeToken(t: string): boolean {
  return SIZE.test(t) || SIZE_PLACEHOLDER.test(t);
}

interface HeadLine {
  id: string;
  age: number | null;
  size: number | null;
  rest: string;
}

/** A message line: [age] [size] id [ <sender> [(login)]] [*** frozen ***] (the regular expressions: the reference, and the path for odd lines). */
function parseHeadLineSlow(line: string): HeadLine | null {
  const m = ID_IN_LINE.exec(line);
  if (!m) return null;
  const prefix = m[1] ?? '';
  const tokens = prefix.trim() === '' ? [] : prefix.trim().split(/\s+/);
  let age: number | null = null;
  let size: number | null = null;
  if (tokens.length === 2) {
    if (!isAgeToken(tokens[0] ?? '') || !isSizeToken(tokens[1] ?? '')) return null;
    age = parseEximAge(tokens[0] ?? '');
    size = parseEximSize(tokens[1] ?? '');
  } else if (tokens.length === 1) {
    // A zero size prints as blanks; an unreadable header prints no age.
    const t = tokens[0] ?? '';
    if (isAgeToken(t)) age = parseEximAge(t);
    else if (isSizeToken(t)) size = parseEximSize(t);
    else return null;
  } else if (tokens.length === 0) {
    // Blank size and no age (unreadable header): the id starts early. Recipient lines are
    // indented 8+ columns, so anything deeper is a recipient that looks like an id.
    if (prefix.length > 7) return null;
  } else return null;
  return { id: m[2] ?? '', age, size, rest: m[3] ?? '' };
}

// The fast path: the same rules as parseHeadLineSlow, by character codes (no regex, no split per
// line: the -bp parse is the scan's hottest loop). test/mta/exim-stream.test.ts checks both agree.

/** "." in a regular expression does not match these: a line holding one is never a message line. */
const LINE_BREAK = /[\r\u2028\u2029]/;
const WS_CHAR = /\s/;

function isB62(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isIdChar(c: number): boolean {
  return isB62(c) || c === 45;
}
function b62Run(s: string, from: number, len: number): boolean {
  for (let i = from; i < from + len; i++) if (!isB62(s.charCodeAt(i))) return false;
  return true;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** End of the exim id at `p` standing alone (no id character either side), or -1. */
function idEndAt(s: string, p: number): number {
  if (!b62Run(s, p, 6) || s.charCodeAt(p + 6) !== 45) return -1;
  if (b62Run(s, p + 7, 11) && s.charCodeAt(p + 18) === 45 && b62Run(s, p + 19, 4)) return isIdChar(s.charCodeAt(p + 23)) ? -1 : p + 23;
  if (b62Run(s, p + 7, 6) && s.charCodeAt(p + 13) === 45 && b62Run(s, p + 14, 2)) return isIdChar(s.charCodeAt(p + 16)) ? -1 : p + 16;
  return -1;
}

/** An age token ("25m", "TTT") in s[a, b): seconds, null for the placeholder, undefined when it is not one. */
function ageAt(s: string, a: number, b: number): number | null | undefined {
  const last = s.charCodeAt(b - 1);
  if (last === 84) {
    for (let i = a; i < b; i++) if (s.charCodeAt(i) !== 84) return undefined;
    return null;
  }
  const unit = last === 109 ? 60 : last === 104 ? 3600 : last === 100 ? 86400 : 0;
  if (unit === 0 || b - a < 2) return undefined;
  for (let i = a; i < b - 1; i++) if (!isDigit(s.charCodeAt(i))) return undefined;
  return decimalAt(s, a, b - 1) * unit;
}

/** A size token ("2.9K", "512", "sss") in s[a, b): bytes, null for the placeholder, undefined when it is not one. */
function sizeAt(s: string, a: number, b: number): number | null | undefined {
  const last = s.charCodeAt(b - 1);
  if (last === 115) {
    for (let i = a; i < b; i++) if (s.charCodeAt(i) !== 115) return undefined;
    return null;
  }
  const unit = last === 75 ? 1024 : last === 77 ? 1024 ** 2 : last === 71 ? 1024 ** 3 : 1;
  const end = unit === 1 ? b : b - 1;
  let i = a;
  while (i < end && isDigit(s.charCodeAt(i))) i++;
  if (i === a) return undefined;
  if (i < end) {
    if (s.charCodeAt(i) !== 46) return undefined;
    const d = ++i;
    while (i < end && isDigit(s.charCodeAt(i))) i++;
    if (i === d || i !== end) return undefined;
  }
  return Math.round(decimalAt(s, a, end) * unit);
}

/**
 * Number(s.slice(a, b)) of a checked "digits[.digits]" without the slice: up to 15 characters the
 * digits are an exact integer and one division by an exact power of ten rounds as Number() does.
 */
function decimalAt(s: string, a: number, b: number): number {
  if (b - a > 15) return Number(s.slice(a, b));
  let m = 0;
  let scale = 1;
  let frac = false;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) frac = true;
    else {
      m = m * 10 + (c - 48);
      if (frac) scale *= 10;
    }
  }
  return m / scale;
}

// parseHeadLineFast's answer (module state, not an object per line: this is the hot loop).
let headStart = 0;
let headEnd = 0;
let headAge: number | null = null;
let headSize: number | null = null;
const NOT_HEAD = 0;
const HEAD = 1;
const ASK_SLOW = 2;

/** Is this a message line (then headStart/headEnd: the id, headAge/headSize: the tokens before it), or ask the slow path. */
function parseHeadLineFast(line: string): typeof NOT_HEAD | typeof HEAD | typeof ASK_SLOW {
  if (LINE_BREAK.test(line)) return NOT_HEAD;
  // The id has a "-" 6 characters in: try each such place, leftmost first (the lazy prefix).
  let p = -1;
  let end = -1;
  for (let dash = line.indexOf('-', 6); dash >= 0; dash = line.indexOf('-', dash + 1)) {
    p = dash - 6;
    if (p > 0 && isIdChar(line.charCodeAt(p - 1))) continue;
    end = idEndAt(line, p);
    if (end >= 0) break;
  }
  if (end < 0) return NOT_HEAD;
  // Tokens of the prefix (ASCII whitespace separates them; anything else: the slow path).
  let tokens = 0;
  let a0 = 0;
  let b0 = 0;
  let a1 = 0;
  let b1 = 0;
  let inTok = false;
  for (let i = 0; i <= p; i++) {
    const c = i < p ? line.charCodeAt(i) : 32;
    if (c >= 128) return ASK_SLOW;
    const ws = c === 32 || (c >= 9 && c <= 13);
    if (!ws && !inTok) {
      if (tokens === 2) return NOT_HEAD;
      if (tokens === 0) a0 = i;
      else a1 = i;
      tokens++;
      inTok = true;
    } else if (ws && inTok) {
      if (tokens === 1) b0 = i;
      else b1 = i;
      inTok = false;
    }
  }
  let age: number | null = null;
  let size: number | null = null;
  if (tokens === 2) {
    const a = ageAt(line, a0, b0);
    const s = sizeAt(line, a1, b1);
    if (a === undefined || s === undefined) return NOT_HEAD;
    age = a;
    size = s;
  } else if (tokens === 1) {
    // A zero size prints as blanks; an unreadable header prints no age.
    const a = ageAt(line, a0, b0);
    if (a !== undefined) age = a;
    else {
      const s = sizeAt(line, a0, b0);
      if (s === undefined) return NOT_HEAD;
      size = s;
    }
  } else if (p > 7) return NOT_HEAD; // blank size, no age: deeper is a recipient that looks like an id
  headStart = p;
  headEnd = end;
  headAge = age;
  headSize = size;
  return HEAD;
}

/** A message line: [age] [size] id [ <sender> [(login)]] [*** frozen ***]. */
export function parseHeadLine(line: string): HeadLine | null {
  const f = parseHeadLineFast(line);
  if (f === ASK_SLOW) return parseHeadLineSlow(line);
  if (f === NOT_HEAD) return null;
  return { id: line.slice(headStart, headEnd), age: headAge, size: headSize, rest: line.slice(headEnd) };
}

interface SenderPart {
  sender: string | null;
  login?: string;
  frozen: boolean;
}

function parseSenderPart(rest: string): SenderPart | null {
  let s = rest;
  let frozen = false;
  if (s.endsWith(FROZEN)) {
    frozen = true;
    s = s.slice(0, -FROZEN.length);
  }
  if (s.trim() === '') return { sender: null, frozen };
  let login: string | undefined;
  const lm = /^ (<.*>) \(([^()]*)\)$/.exec(s);
  if (lm) {
    s = ` ${lm[1]}`;
    login = lm[2];
  }
  const sm = /^ <(.*)>$/.exec(s);
  if (!sm) return null;
  return login === undefined ? { sender: sm[1] ?? '', frozen } : { sender: sm[1] ?? '', login, frozen };
}

const SPOOL_ERROR = /^\s+(\*\*\* spool (?:read|format) error.*\*\*\*)\s*$/;
const RCPT = /^ {8}([ D]) (.+)$/;
const RCPT_BPA = /^ {7}(\+D) (.+)$/;
const RCPT_LOOSE = /^\s+(?:(\+?D)\s+)?(\S.*)$/;

/**
 * The `exim -bp` parser (also -bpa, -bpr, -bpu), fed line by line with each line's number in the
 * whole output. Never throws. A message keeps its own copies of what it holds, never the line.
 */
export class EximBpParser {
  readonly messages: EximQueueMessage[] = [];
  readonly warnings: LineWarnings;
  /** The message recipient lines now belong to (null after a blank line). */
  private current: EximQueueMessage | null = null;
  /** Its recipients so far: given to it as an exactly sized array when it ends (a growing array keeps spare room). */
  private readonly rcpts: string[] = [];

  /** Copy what a message keeps (see own()): for lines cut from the transport's chunks, not from one whole text. */
  private readonly keep: (s: string) => string;

  constructor(o: { maxWarnings?: number; copy?: boolean } = {}) {
    this.warnings = new LineWarnings(o.maxWarnings ?? 100);
    this.keep = o.copy ? own : (s) => s;
    this.keepSender = o.copy ? pooled(new Map()) : (s) => s;
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

  /** The messages, the last one's recipients given to it. */
  finish(): EximQueueMessage[] {
    this.cur = null;
    return this.messages;
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
        if (mark === 32) this.rcpts.push(this.keep(line.slice(10)));
        return;
      }
    }
    const strict = RCPT.exec(line) ?? RCPT_BPA.exec(line);
    const loose = strict ?? RCPT_LOOSE.exec(line);
    if (loose && cur) {
      const mark = (loose[1] ?? ' ').trim();
      if (mark === '') this.rcpts.push(this.keep(loose[2] ?? ''));
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

const BPC_COUNT = /^\s*\d+\s*$/;

/** The `exim -bpc` parser: a single number (warnings number the non-blank lines, as they always have). */
class EximBpcParser {
  count: number | null = null;
  readonly warnings: LineWarnings;
  private k = 0;
  constructor(maxWarnings = 100) {
    this.warnings = new LineWarnings(maxWarnings);
  }
  line(line: string): void {
    if (line.trim() === '') return;
    const k = ++this.k;
    if (this.count === null && BPC_COUNT.test(line)) this.count = Number(line.trim());
    else this.warnings.line(k, 'exim -bpc: line not understood', line);
  }
}

/** Parse `exim -bpc`: a single number. */
export function parseEximBpc(text: string): { count: number | null; warnings: string[] } {
  const p = new EximBpcParser(Infinity);
  for (const line of splitLines(text)) p.line(line);
  return { count: p.count, warnings: p.warnings.list() };
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
  private readonly whole = new EximBpParser({ copy: true });
  private wholeReads = true;
  private wholeToEnd = false;
  private readonly out = new FirstLines();
  private readonly bpc = new EximBpcParser();
  private readonly bp = new EximBpParser({ copy: true });
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

  constructor(private readonly attributed: boolean) {
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
      const messages = this.wholeToEnd || this.wholeReads ? this.whole.finish() : [...this.whole.finish(), ...this.bp.finish()];
      warnings.push(`${COMMAND_FAILED} exim queue listing incomplete (exit ${code ?? 'none'}): ${failureText(stderr || this.out.text)}`);
      warnings.push(...w.list());
      if (this.attributed) {
        warnings.push('messages not attributed: the queue listing itself is incomplete');
        return { messages, reportedTotal: null, warnings: capWarnings(warnings, 150) };
      }
      return { messages, reportedTotal: null, warnings };
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
      return { messages, reportedTotal, warnings };
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
export function eximQueueSink(): LineSink<EximQueueListing> {
  return new EximQueueSink(false);
}

/** The streaming parser of the attributed read (`eximAttributedCommand`). */
export function eximAttributedSink(): LineSink<EximQueueListing> {
  return new EximQueueSink(true);
}

function feedWhole<T>(sink: LineSink<T>, stdout: string, stderr: string, code: number | null): T {
  feedLines(stdout, (line) => sink.line(line));
  return sink.end(stderr, code);
}

/** Combine the -bpc and -bp sections of the adapter's command into one listing. */
export function parseEximQueueOutput(stdout: string, stderr = '', code: number | null = 0): EximQueueListing {
  return feedWhole(eximQueueSink(), stdout, stderr, code);
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
  return feedWhole(eximAttributedSink(), stdout, stderr, code);
}
