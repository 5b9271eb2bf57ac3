// Exim spool -H envelope files: their parser, and the dump of every -H envelope that the
// attributed queue read carries. Apart from exim.ts because the -bp listing needs none of it.
// Format follows Exim's spool_in.c (spool_read_header).

import { sh } from '../../transport/quote.js';
import { EXIM_ID } from './host.js';
import type { MtaContext, QueueMessage } from '../types.js';
import { capWarnings, lineWarning, printable, rcEcho, splitLines } from '../util.js';


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

/** Shell lines printing the spool directory (section "spooldir") and every -H envelope ("spool"). */
export function eximSpoolDumpScript(ctx: MtaContext, bin: string): string {
  const override = ctx.spoolDirectory;
  const spoolDir = override
    ? sh`sp=${`spool_directory = ${override}`}; rc=0`
    : sh`sp=$(${bin} -bP spool_directory 2>&1); rc=$?`;
  return [
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
export function attributeEximMessages(messages: QueueMessage[], headers: Map<string, EximSpoolHeader>): string[] {
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
