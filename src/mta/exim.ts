// Exim: `exim -bp` listing, `exim -bpc` count, and the spool -H envelope file.
// Formats follow Exim's queue.c (queue_list) and spool_in.c (spool_read_header).

import { sh } from '../transport/quote.js';
import { eximOps } from './exim-ops.js';
import type { MtaAdapter, MtaContext, QueueListing, QueueMessage, ReadPlan } from './types.js';
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
} from './util.js';

/** A -bp entry (localLogin: the login exim prints when an untrusted local user set the sender). */
export type EximQueueMessage = QueueMessage;

export interface EximQueueListing extends QueueListing {
  messages: EximQueueMessage[];
}

const B62 = '[0-9A-Za-z]';
/** 6-11-4 since 4.97 (16VDhn-000000001bo-D342), 6-6-2 before (1WDQrg-0001Wf-1W). */
export const EXIM_ID = new RegExp(`${B62}{6}-(?:${B62}{11}-${B62}{4}|${B62}{6}-${B62}{2})`);
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

// ---------------------------------------------------------------------------
// Spool -H file.

export interface EximSpoolHeader {
  id: string;
  login: string | null;
  uid: number | null;
  gid: number | null;
  /** Envelope sender, '' for bounces. */
  sender: string;
  /** Epoch seconds. */
  receivedTime: number | null;
  warningCount: number | null;
  authId?: string;
  authSender?: string;
  /** Client IP without the port exim appends. */
  hostAddress?: string;
  hostPort?: number;
  /** Authenticator name (-host_auth). */
  hostAuth?: string;
  receivedProtocol?: string;
  ident?: string;
  /** Names whose values were written with the tainted "--" prefix. */
  tainted: string[];
  frozen: boolean;
  frozenAt?: number;
  localError: boolean;
  /** All envelope recipients, in spool order (delivered ones included). */
  recipients: string[];
  /** Addresses already delivered (the non-recipients tree). */
  delivered: string[];
  warnings: string[];
}

/** Split exim's "ip.port" into the address and port. */
function splitHostPort(value: string): { address: string; port?: number } {
  // exim 4.96+: "[127.0.0.1]:40250" / "[2001:db8::1]:25"
  const br = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(value);
  if (br) return { address: br[1] ?? value, port: Number(br[2]) };
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})\.(\d{1,5})$/.exec(value);
  if (v4) return { address: v4[1] ?? value, port: Number(v4[2]) };
  const v6 = /^([0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)\.(\d{1,5})$/.exec(value);
  if (v6) return { address: v6[1] ?? value, port: Number(v6[2]) };
  return { address: value };
}

/**
 * Strip exim's trailing per-recipient data, reading from the right as spool_in.c does:
 * "addr", "addr pno" (early 4.x), "addr a,pno,b" (3.x), or
 * "addr orcpt len,dsnflags errors_to len,pno#3" (current; addresses may contain spaces).
 */
export function recipientAddress(line: string): string {
  const isNum = (c: string | undefined): boolean => c !== undefined && /[\d,-]/.test(c);
  let p = line.length - 1;
  while (p >= 0 && /\d/.test(line[p] ?? '')) p--;
  if (p < 0 || p === line.length - 1) return line;
  if (line[p] === ',') {
    while (p >= 0 && /[\d,]/.test(line[p] ?? '')) p--;
    return line[p] === ' ' ? line.slice(0, p) : line;
  }
  if (line[p] === ' ') return line.slice(0, p);
  if (line[p] !== '#') return line;
  const flags = Number(line.slice(p + 1));
  // One "<text> <len>,<n>" block: returns the index where <text> starts.
  const block = (end: number): number | null => {
    let q = end;
    while (q > 0 && isNum(line[q - 1])) q--;
    const len = Number(line.slice(q, end).split(',')[0]);
    if (!Number.isFinite(len) || line[q - 1] !== ' ') return null;
    const startText = q - 1 - len;
    return startText >= 1 ? startText : null;
  };
  let end = p;
  if (flags & 1) {
    const s = block(end);
    if (s === null) return line;
    end = s - 1; // the space before errors_to
  } else end = p - 1;
  if (flags & 2) {
    const s = block(end);
    if (s === null) return line;
    end = s - 1; // the space before orcpt
  }
  return line.slice(0, Math.max(0, end));
}

/**
 * Parse a spool `-H` file (or `exim -Mvh` output). Never throws; anything odd is a warning.
 * Unknown hyphen lines are skipped, as exim itself does; -acl values are skipped by length.
 */
export function parseEximSpoolHeader(text: string): EximSpoolHeader {
  const warnings: string[] = [];
  const out: EximSpoolHeader = {
    id: '',
    login: null,
    uid: null,
    gid: null,
    sender: '',
    receivedTime: null,
    warningCount: null,
    tainted: [],
    frozen: false,
    localError: false,
    recipients: [],
    delivered: [],
    warnings,
  };
  let pos = 0;
  let lineNo = 0;
  const nextLine = (): string | null => {
    if (pos >= text.length) return null;
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl;
    const line = text.slice(pos, end).replace(/\r$/, '');
    pos = nl < 0 ? text.length : nl + 1;
    lineNo++;
    return line;
  };

  const first = nextLine();
  const idm = first === null ? null : new RegExp(`^(${EXIM_ID.source})-H$`).exec(first);
  if (!idm) {
    warnings.push(first === null ? 'spool header: empty input' : lineWarning(1, 'spool header: first line is not "<id>-H"', first));
    if (first === null) return out;
  } else out.id = idm[1] ?? '';

  const owner = nextLine();
  const om = owner === null ? null : /^(.*) (-?\d+) (-?\d+)$/.exec(owner);
  if (om) {
    out.login = om[1] ?? null;
    out.uid = Number(om[2]);
    out.gid = Number(om[3]);
  } else if (owner !== null) warnings.push(lineWarning(lineNo, 'spool header: login/uid/gid line not understood', owner));

  const sender = nextLine();
  const sm = sender === null ? null : /^<(.*)>$/.exec(sender);
  if (sm) out.sender = sm[1] ?? '';
  else if (sender !== null) warnings.push(lineWarning(lineNo, 'spool header: sender line not understood', sender));

  const time = nextLine();
  const tm = time === null ? null : /^(\d+) (\d+)$/.exec(time);
  if (tm) {
    out.receivedTime = Number(tm[1]);
    out.warningCount = Number(tm[2]);
  } else if (time !== null) warnings.push(lineWarning(lineNo, 'spool header: time line not understood', time));

  // Hyphen lines ("--" = tainted value), up to the non-recipients tree.
  let line = nextLine();
  while (line !== null && line.startsWith('-')) {
    const tainted = line.startsWith('--');
    const body = line.slice(tainted ? 2 : 1);
    const sp = body.indexOf(' ');
    const name = sp < 0 ? body : body.slice(0, sp);
    const value = sp < 0 ? '' : body.slice(sp + 1);
    if (tainted) out.tainted.push(name);
    if (name === 'aclc' || name === 'aclm' || name === 'acl') {
      // "-aclc <name> <length>" then <length> bytes of value and a newline (may span lines).
      const len = /(\d+)$/.exec(value);
      if (len) {
        const count = Number(len[1]);
        const skipped = text.slice(pos, pos + count + 1);
        lineNo += (skipped.match(/\n/g) ?? []).length;
        pos = Math.min(text.length, pos + count + 1);
      } else warnings.push(lineWarning(lineNo, 'spool header: acl line without length', line));
    } else if (name === 'auth_id') out.authId = value;
    else if (name === 'auth_sender') out.authSender = value;
    else if (name === 'host_auth') out.hostAuth = value;
    else if (name === 'host_address') {
      const hp = splitHostPort(value);
      out.hostAddress = hp.address;
      if (hp.port !== undefined) out.hostPort = hp.port;
    } else if (name === 'received_protocol') out.receivedProtocol = value;
    else if (name === 'ident') out.ident = value;
    else if (name === 'frozen') {
      out.frozen = true;
      if (/^\d+$/.test(value)) out.frozenAt = Number(value);
    } else if (name === 'localerror') out.localError = true;
    line = nextLine();
  }

  // Non-recipients tree: "XX", or pre-order nodes "<L><R> address" with L/R in Y/N.
  if (line === null) {
    warnings.push('spool header: ends before the recipient list');
    return out;
  }
  if (line !== 'XX') {
    const readNode = (l: string | null): boolean => {
      const m = l === null ? null : /^([YN])([YN]) (.*)$/.exec(l);
      if (!m) {
        if (l !== null) warnings.push(lineWarning(lineNo, 'spool header: non-recipients tree line not understood', l));
        return false;
      }
      out.delivered.push(m[3] ?? '');
      if (m[1] === 'Y' && !readNode(nextLine())) return false;
      if (m[2] === 'Y' && !readNode(nextLine())) return false;
      return true;
    };
    if (!readNode(line)) return out;
  }

  const countLine = nextLine();
  const cm = countLine === null ? null : /^(\d+)$/.exec(countLine.trim());
  if (!cm) {
    if (countLine !== null) warnings.push(lineWarning(lineNo, 'spool header: recipient count not understood', countLine));
    else warnings.push('spool header: ends before the recipient count');
    return out;
  }
  const count = Number(cm[1]);
  for (let i = 0; i < count; i++) {
    const r = nextLine();
    if (r === null) {
      warnings.push(`spool header: expected ${count} recipients, found ${i}`);
      break;
    }
    out.recipients.push(recipientAddress(r));
  }
  const blank = nextLine();
  if (blank !== null && blank !== '') warnings.push(lineWarning(lineNo, 'spool header: expected a blank line before the headers', blank));
  return out;
}

// ---------------------------------------------------------------------------
// Adapter.

function binaryOf(ctx: MtaContext): string {
  return ctx.binary && ctx.binary.trim() !== '' ? ctx.binary : 'exim';
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
// Attribution: the envelope part of every spool -H file, dumped in the same round trip.
//
// Each -H file is printed up to its first blank line (the end of the envelope; the headers
// follow), as "__MAILSWEEP_H__ <path>" and then every line prefixed with "|", so nothing a
// sender or recipient wrote can pass for a marker. Both spool layouts are covered (flat
// input/ and split input/<c>/) because find recurses.

export const SPOOL_MARKER = '__MAILSWEEP_H__';

/**
 * Portable awk (mawk, gawk, busybox, BSD; run with LC_ALL=C so length() counts bytes): marker
 * per file, envelope lines prefixed. An "-aclc <name> <len>" value spans <len>+1 bytes that
 * may hold blank lines: those are passed through, not taken for the end of the envelope.
 */
const SPOOL_AWK =
  `FNR==1{p=1;s=0;print "${SPOOL_MARKER} " FILENAME} ` +
  `p&&s>0{print "|" $0;s-=length($0)+1;next} ` +
  `p&&$0==""{p=0} ` +
  `p{print "|" $0;if($0~/^--?acl[cm]? .* [0-9]+$/)s=$NF+1}`;

function spoolDirOf(ctx: MtaContext): string | undefined {
  const v = ctx.vars?.spool_directory;
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

export function eximAttributedCommand(ctx: MtaContext): string {
  const bin = binaryOf(ctx);
  const override = spoolDirOf(ctx);
  const spoolDir = override
    ? sh`sp=${`spool_directory = ${override}`}; rc=0`
    : sh`sp=$(${bin} -bP spool_directory 2>&1); rc=$?`;
  return [
    sh`${bin} -bpc 2>&1; ` + rcEcho('bpc') + sh`; ${bin} -bp 2>&1; ` + rcEcho('bp'),
    `${spoolDir}; printf '%s\\n' "$sp"; echo "__MAILSWEEP_RC__ spooldir $rc"`,
    'sp=${sp#*= }',
    `if [ "$rc" -ne 0 ]; then echo "spool directory unknown"; false; ` +
      `elif [ -d "$sp/input" ]; then ( find "$sp/input" -type f -name '*-H' -exec env LC_ALL=C awk '${SPOOL_AWK}' {} + ) 2>&1; ` +
      `else echo "no directory $sp/input"; false; fi; ${rcEcho('spool')}`,
  ].join('\n');
}

export interface EximSpoolDump {
  /** Parsed -H envelopes by message id. */
  headers: Map<string, EximSpoolHeader>;
  warnings: string[];
}

const SPOOL_FILE = new RegExp(`(?:^|/)(${EXIM_ID.source})-H$`);

/** Parse the spool dump (marker + "|"-prefixed envelope lines per -H file). Never throws. */
export function parseEximSpoolDump(text: string): EximSpoolDump {
  const headers = new Map<string, EximSpoolHeader>();
  const warnings: string[] = [];
  let curId: string | null = null;
  let curLine = 0;
  let buf: string[] = [];
  const flush = (): void => {
    if (curId === null) return;
    const h = parseEximSpoolHeader(`${buf.join('\n')}\n`);
    if (h.id !== curId) warnings.push(`line ${curLine}: spool file ${curId}-H starts with "${printable(h.id || '?')}": not used`);
    else if (headers.has(curId)) warnings.push(`line ${curLine}: spool file ${curId}-H seen twice: first kept`);
    else {
      headers.set(curId, h);
      for (const w of h.warnings.slice(0, 3)) warnings.push(`line ${curLine}: ${curId}-H: ${w}`);
    }
    curId = null;
    buf = [];
  };
  splitLines(text).forEach((line, i) => {
    const n = i + 1;
    if (line.startsWith('|')) {
      if (curId !== null) buf.push(line.slice(1));
      return;
    }
    if (line.startsWith(`${SPOOL_MARKER} `)) {
      flush();
      const m = SPOOL_FILE.exec(line.slice(SPOOL_MARKER.length + 1));
      if (m) {
        curId = m[1] ?? null;
        curLine = n;
      } else warnings.push(lineWarning(n, 'spool dump: not an exim -H file name', line));
      return;
    }
    if (line.trim() !== '') warnings.push(lineWarning(n, 'spool dump', line));
  });
  flush();
  return { headers, warnings: capWarnings(warnings) };
}

/** True when exim recorded SMTP authentication (not a local submission's login name). */
function smtpAuthenticated(h: EximSpoolHeader): boolean {
  if (h.hostAuth !== undefined && h.hostAuth !== '') return true;
  return h.hostAddress !== undefined && /a$/i.test(h.receivedProtocol ?? '');
}

/**
 * Attach authId / authSender / clientIp from the -H envelopes to the listing's messages.
 * authId is exim's $authenticated_id (-auth_id or tainted --auth_id) of an SMTP-authenticated
 * message; for local submissions exim stores the caller's login there, which is not an
 * SMTP-AUTH account and is left out (exim -bp shows it as localLogin when untrusted).
 */
export function attributeEximMessages(messages: EximQueueMessage[], headers: Map<string, EximSpoolHeader>): string[] {
  const missing: string[] = [];
  for (const m of messages) {
    const h = headers.get(m.id);
    if (!h) {
      missing.push(m.id);
      continue;
    }
    if (h.hostAddress !== undefined && h.hostAddress !== '') m.clientIp = h.hostAddress;
    if (smtpAuthenticated(h)) {
      if (h.authId !== undefined && h.authId !== '') m.authId = h.authId;
      if (h.authSender !== undefined && h.authSender !== '') m.authSender = h.authSender;
    }
  }
  if (missing.length === 0) return [];
  const shown = missing.slice(0, 5).join(', ');
  return [`${missing.length} message(s) without a readable spool -H file, not attributed: ${shown}${missing.length > 5 ? ', …' : ''}`];
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
        const diag = splitLines(spool.text).filter((x) => !x.startsWith('|') && !x.startsWith(SPOOL_MARKER));
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

export const exim = {
  name: 'exim',
  ops: eximOps,
  parseListing: (text: string): QueueListing => parseEximBp(text),
  queue(ctx: MtaContext): ReadPlan<QueueListing> {
    const bin = binaryOf(ctx);
    return {
      command: sh`${bin} -bpc 2>&1; ` + rcEcho('bpc') + sh`; ${bin} -bp 2>&1; ` + rcEcho('bp'),
      parse: (stdout, stderr, code) => parseEximQueueOutput(stdout, stderr, code),
    };
  },
  attributedQueue(ctx: MtaContext): ReadPlan<QueueListing> {
    return {
      command: eximAttributedCommand(ctx),
      parse: (stdout, stderr, code) => parseEximAttributedOutput(stdout, stderr, code),
    };
  },
} satisfies MtaAdapter;
