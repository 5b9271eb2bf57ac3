// Exim: the `exim -bp` listing and `exim -bpc` count, and the attributed read built on them (the
// spool -H envelope file is attribution.ts). Formats follow Exim's queue.c (queue_list).

import { raw, sh, shLines, type Sh } from '../../transport/quote.js';
import { EXIM_ID, eximBinary } from './host.js';
import { attributeEximMessages, isSpoolDumpData, eximSpoolDumpScript, parseEximSpoolDump } from './attribution.js';
import type { MtaContext, QueueListing, QueueMessage } from '../types.js';
import {
  COMMAND_FAILED,
  capWarnings,
  failureText,
  lineWarning,
  printable,
  rcEcho,
  shiftWarnings,
  splitLines,
  splitSections,
} from '../util.js';

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
export function parseEximBp(text: string): EximQueueListing {
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

/** Parse `exim -bpc`: a single number. */
export function parseEximBpc(text: string): { count: number | null; warnings: string[] } {
  const lines = splitLines(text).filter((l) => l.trim() !== '');
  const warnings: string[] = [];
  let count: number | null = null;
  lines.forEach((line, i) => {
    if (count === null && /^\s*\d+\s*$/.test(line)) count = Number(line.trim());
    else warnings.push(lineWarning(i + 1, 'exim -bpc: line not understood', line));
  });
  return { count, warnings };
}

/** The -bpc and -bp sections of a split output combined into one listing (no trailing check). */
function combineBpSections(
  split: ReturnType<typeof splitSections>,
  stdout: string,
  stderr: string,
  code: number | null,
): { listing: EximQueueListing; complete: boolean } {
  const warnings = [...split.warnings];
  const bpc = split.sections.get('bpc');
  const bp = split.sections.get('bp');
  if (!bpc || !bp) {
    // The command did not run as built (no shell, killed, or not our output at all).
    const listing = parseEximBp(stdout);
    warnings.push(`${COMMAND_FAILED} exim queue listing incomplete (exit ${code ?? 'none'}): ${failureText(stderr || stdout)}`);
    return {
      listing: { messages: listing.messages, reportedTotal: null, warnings: [...warnings, ...listing.warnings] },
      complete: false,
    };
  }
  let reportedTotal: number | null = null;
  if (bpc.rc !== 0) warnings.push(`${COMMAND_FAILED} exim -bpc exited ${bpc.rc}: ${failureText(bpc.text)}`);
  else {
    const c = parseEximBpc(bpc.text);
    reportedTotal = c.count;
    warnings.push(...shiftWarnings(c.warnings, bpc.firstLine, 'exim -bpc'));
  }
  const listing = parseEximBp(bp.text);
  if (bp.rc !== 0) {
    warnings.push(`${COMMAND_FAILED} exim -bp exited ${bp.rc}: ${failureText(bp.text)}`);
    reportedTotal = null;
  }
  warnings.push(...shiftWarnings(listing.warnings, bp.firstLine, 'exim -bp'));
  return { listing: { messages: listing.messages, reportedTotal, warnings }, complete: true };
}

/** Combine the -bpc and -bp sections of the adapter's command into one listing. */
export function parseEximQueueOutput(stdout: string, stderr = '', code: number | null = 0): EximQueueListing {
  const split = splitSections(stdout, ['bpc', 'bp']);
  const { listing, complete } = combineBpSections(split, stdout, stderr, code);
  if (!complete) return listing;
  const warnings = listing.warnings;
  if (split.trailing.trim() !== '') warnings.push(`unexpected output after the listing: ${printable(split.trailing)}`);
  if (stderr.trim() !== '') warnings.push(`stderr: ${failureText(stderr)}`);
  return listing;
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
  const split = splitSections(stdout, ['bpc', 'bp', 'spooldir', 'spool']);
  const { listing, complete } = combineBpSections(split, stdout, stderr, code);
  const warnings = listing.warnings;
  if (complete) {
    const dir = split.sections.get('spooldir');
    const spool = split.sections.get('spool');
    if (!dir || !spool) warnings.push(`${COMMAND_FAILED} exim spool read incomplete: ${failureText(split.trailing || stderr)}`);
    else {
      if (dir.rc !== 0) warnings.push(`${COMMAND_FAILED} exim -bP spool_directory exited ${dir.rc}: ${failureText(dir.text)}`);
      const dump = parseEximSpoolDump(spool.text);
      if (spool.rc !== 0) {
        // Only the diagnostics (awk/find errors), not the envelope data, go into the message.
        const diag = splitLines(spool.text).filter((x) => !isSpoolDumpData(x));
        warnings.push(`${COMMAND_FAILED} exim spool read exited ${spool.rc}: ${failureText(diag.join('\n'))}`);
      }
      warnings.push(...shiftWarnings(dump.warnings, spool.firstLine, 'exim spool'));
      warnings.push(...attributeEximMessages(listing.messages, dump.headers));
      if (split.trailing.trim() !== '') warnings.push(`unexpected output after the spool: ${printable(split.trailing)}`);
    }
    if (stderr.trim() !== '') warnings.push(`stderr: ${failureText(stderr)}`);
  } else warnings.push('messages not attributed: the queue listing itself is incomplete');
  return { messages: listing.messages, reportedTotal: listing.reportedTotal, warnings: capWarnings(warnings, 150) };
}
