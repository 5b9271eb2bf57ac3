// The exim -bp parser as it was before the streaming rewrite (regular expressions, whole text):
// the reference the fast parser must agree with, line for line (test/mta/stream.test.ts).
import { EXIM_ID } from '../../src/mta/exim/host.js';
import type { QueueMessage } from '../../src/mta/types.js';
import { capWarnings, lineWarning, splitLines } from '../../src/mta/util.js';

type EximQueueMessage = QueueMessage;
interface EximQueueListing {
  messages: EximQueueMessage[];
  reportedTotal: number | null;
  warnings: string[];
}

const ID_IN_LINE = new RegExp(`^(.*?)(?<![0-9A-Za-z-])(${EXIM_ID.source})(?![0-9A-Za-z-])(.*)$`);

const AGE = /^(\d+)([mhd])$/;
const AGE_PLACEHOLDER = /^T+$/;
const SIZE = /^(\d+(?:\.\d+)?)([KMG]?)$/;
const SIZE_PLACEHOLDER = /^s+$/;
const FROZEN = ' *** frozen ***';

/** "25m" / " 2h" / "3d" → seconds; placeholders and garbage → null. */
function parseEximAge(text: string): number | null {
  const m = AGE.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  return n * (m[2] === 'm' ? 60 : m[2] === 'h' ? 3600 : 86400);
}

/** "2.9K" / "1.2M" / "512" → bytes (as precise as exim prints them); "sss" / blank → null. */
function parseEximSize(text: string): number | null {
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

/** A message line: [age] [size] id [ <sender> [(login)]] [*** frozen ***]. */
function parseHeadLine(line: string): HeadLine | null {
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

/** Parse `exim -bp` (also -bpa, -bpr, -bpu). Never throws; reportedTotal stays null (that is -bpc). */
export function referenceEximBp(text: string): EximQueueListing {
  const messages: EximQueueMessage[] = [];
  const warnings: string[] = [];
  let cur: EximQueueMessage | null = null;
  splitLines(text).forEach((line, i) => {
    const n = i + 1;
    if (line.trim() === '') {
      cur = null;
      return;
    }
    // Message lines start within 6 columns (" 0m", a right-aligned size, or a blank size);
    // recipient lines are indented 7+, so a recipient shaped like a message line stays one.
    const head = /^ {0,6}\S/.test(line) ? parseHeadLine(line) : null;
    if (head) {
      const sp = parseSenderPart(head.rest);
      if (!sp) {
        warnings.push(lineWarning(n, 'exim -bp: sender part not understood', line));
      }
      const sender = sp?.sender ?? '';
      const msg: EximQueueMessage = {
        id: head.id,
        sender,
        recipients: [],
        size: head.size,
        ageSeconds: head.age,
        frozen: sp?.frozen ?? false,
        held: false,
        bounce: sp?.sender === '',
      };
      if (sp?.login !== undefined) msg.localLogin = sp.login;
      if (sp && sp.sender === null) msg.reason = 'envelope not readable';
      messages.push(msg);
      cur = msg;
      return;
    }
    const spool = /^\s+(\*\*\* spool (?:read|format) error.*\*\*\*)\s*$/.exec(line);
    if (spool && cur) {
      // After a header (not envelope) error exim still appends the frozen marker here.
      let why = spool[1] ?? 'spool error';
      if (why.endsWith(FROZEN)) {
        cur.frozen = true;
        why = why.slice(0, -FROZEN.length);
      }
      cur.reason = why;
      warnings.push(lineWarning(n, `exim -bp: message ${cur.id} unreadable`, line));
      return;
    }
    // Recipients: 8 spaces, ' ' or 'D', space, address; -bpa extras: 7 spaces, '+D', space.
    const strict = /^ {8}([ D]) (.+)$/.exec(line) ?? /^ {7}(\+D) (.+)$/.exec(line);
    const loose = strict ?? /^\s+(?:(\+?D)\s+)?(\S.*)$/.exec(line);
    if (loose && cur) {
      const mark = (loose[1] ?? ' ').trim();
      if (mark === '') cur.recipients.push(loose[2] ?? '');
      return;
    }
    warnings.push(lineWarning(n, cur ? 'exim -bp: line not understood' : 'exim -bp: line outside any message', line));
  });
  return { messages, reportedTotal: null, warnings: capWarnings(warnings) };
}
