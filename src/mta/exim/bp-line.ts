// Exim `-bp` and `-bpc` lines: a message line's age, size, id, sender and frozen mark, read by character codes
// (the regular expressions stay the reference and the path for odd lines); recipient and spool-error
// lines. Formats follow Exim's queue.c (queue_list).
import { EXIM_ID } from './host.js';
import { LineWarnings } from '../stream-text.js';
import { splitLines } from '../util.js';

const ID_IN_LINE = new RegExp(`^(.*?)(?<![0-9A-Za-z-])(${EXIM_ID.source})(?![0-9A-Za-z-])(.*)$`);

const AGE = /^(\d+)([mhd])$/;
const AGE_PLACEHOLDER = /^T+$/;
const SIZE = /^(\d+(?:\.\d+)?)([KMG]?)$/;
const SIZE_PLACEHOLDER = /^s+$/;
export const FROZEN = ' *** frozen ***';

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
export function parseHeadLineSlow(line: string): HeadLine | null {
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
export const LINE_BREAK = /[\r\u2028\u2029]/;
export const WS_CHAR = /\s/;

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
// parseHeadLineFast's results (ESM exports are live bindings: importers read the latest values).
export let headStart = 0;
export let headEnd = 0;
export let headAge: number | null = null;
export let headSize: number | null = null;
export const NOT_HEAD = 0;
export const HEAD = 1;
const ASK_SLOW = 2;

/** Is this a message line (then headStart/headEnd: the id, headAge/headSize: the tokens before it), or ask the slow path. */
export function parseHeadLineFast(line: string): typeof NOT_HEAD | typeof HEAD | typeof ASK_SLOW {
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

export function parseSenderPart(rest: string): SenderPart | null {
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

export const SPOOL_ERROR = /^\s+(\*\*\* spool (?:read|format) error.*\*\*\*)\s*$/;
export const RCPT = /^ {8}([ D]) (.+)$/;
export const RCPT_BPA = /^ {7}(\+D) (.+)$/;
export const RCPT_LOOSE = /^\s+(?:(\+?D)\s+)?(\S.*)$/;

const BPC_COUNT = /^\s*\d+\s*$/;

/** The `exim -bpc` parser: a single number (warnings number the non-blank lines, as they always have). */
export class EximBpcParser {
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
