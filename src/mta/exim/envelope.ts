// The exim envelope proof, TypeScript side: a spool -H file read as exim's spool_in.c reads it
// (spool_read_header). Its twin is scripts/envelope.awk, which the purge re-check runs on the
// server: change both together; test/mta/exim-proof.test.ts runs one table of -H files through
// both. Attribution (attribution.ts) reads the auth id here; the purge reads it there.
//
// Only the envelope (lines 5.. up to the first line not starting with "-") carries -auth_id and
// -frozen, so a header or a recipient cannot pass for one of its lines; an -acl value (it may
// hold newlines and text of the sender's choosing) is skipped by its length in bytes.

import { EXIM_ID } from './host.js';
import { lineWarning } from '../util.js';

export interface EximSpoolHeader {
  id: string;
  login: string | null;
  uid: number | null;
  gid: number | null;
  /** Envelope sender, '' for bounces (and when line 3 is not understood: see warnings). */
  sender: string;
  /** Epoch seconds. */
  receivedTime: number | null;
  warningCount: number | null;
  /** The last -auth_id / --auth_id line's value (exim keeps the last). */
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
  /** The file was understood and every recipient read (envelope.awk ev_complete). */
  complete: boolean;
  warnings: string[];
}

/** One line of a -H file; `acl`: part of an -acl value (skipped by the parser). */
export interface SpoolLine {
  text: string;
  acl: boolean;
  /** 1-based line number in the file. */
  no: number;
}

/**
 * Bytes an "-acl[cm] <name> <length>" line's value takes after the line (length + newline); 0
 * for any other line; -1 for an acl line without a length (exim refuses the file). envelope.awk ev_acl.
 */
export function eximAclBytes(line: string): number {
  if (!/^--?acl[cm]?( |$)/.test(line)) return 0;
  const m = /^--?acl[cm]? [^ ]+ ([0-9]+)$/.exec(line);
  return m ? Number(m[1]) + 1 : -1;
}

/**
 * The lines of a -H file, -acl values marked. The skip counts bytes and may end inside a line, as
 * exim's fread does; text given as a string is counted as its UTF-8 bytes.
 */
export function eximSpoolLines(input: string | Uint8Array): SpoolLine[] {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const out: SpoolLine[] = [];
  let skip = 0;
  let envelope = true;
  let start = 0;
  for (let no = 1; start < buf.length; no++) {
    const nl = buf.indexOf(0x0a, start);
    const end = nl < 0 ? buf.length : nl;
    let line = buf.subarray(start, end);
    start = end + 1;
    if (skip > 0) {
      if (line.length + 1 <= skip) {
        skip -= line.length + 1;
        out.push({ text: line.toString('utf8'), acl: true, no });
        continue;
      }
      out.push({ text: line.subarray(0, skip).toString('utf8'), acl: true, no });
      line = line.subarray(skip);
      skip = 0;
    }
    const text = line.toString('utf8');
    out.push({ text, acl: false, no });
    if (envelope && no >= 5) {
      if (text.startsWith('-')) skip = Math.max(0, eximAclBytes(text));
      else envelope = false;
    }
  }
  return out;
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
 * envelope.awk ev_raddr.
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
    const len = line.slice(q, end).split(',')[0] ?? '';
    if (!/^\d+$/.test(len) || line[q - 1] !== ' ') return null;
    const startText = q - 1 - Number(len);
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

/** A hyphen line's value into the header (unknown names are skipped, as exim itself does). */
function applyHyphenLine(out: EximSpoolHeader, line: string): void {
  const tainted = line.startsWith('--');
  const body = line.slice(tainted ? 2 : 1);
  const sp = body.indexOf(' ');
  const name = sp < 0 ? body : body.slice(0, sp);
  const value = sp < 0 ? '' : body.slice(sp + 1);
  if (tainted) out.tainted.push(name);
  if (name === 'auth_id' && sp >= 0) out.authId = value;
  else if (name === 'auth_sender') out.authSender = value;
  else if (name === 'host_auth') out.hostAuth = value;
  else if (name === 'host_address') {
    const hp = splitHostPort(value);
    out.hostAddress = hp.address;
    if (hp.port !== undefined) out.hostPort = hp.port;
  } else if (name === 'received_protocol') out.receivedProtocol = value;
  else if (name === 'ident') out.ident = value;
  else if (name === 'frozen' && sp >= 0) {
    out.frozen = true;
    if (/^\d+$/.test(value)) out.frozenAt = Number(value);
  } else if (name === 'localerror') out.localError = true;
}

/**
 * Parse a spool `-H` file: its text or bytes, or its lines with -acl values already marked (the
 * attributed queue's dump, where the server counted the bytes). Never throws; anything odd is a
 * warning. Lines end at "\n" only: a CR is part of the line, as it is for exim.
 */
/** Line 1: "<id>-H" (compiled once: this runs for every -H file of a queue). */
const ID_LINE = new RegExp(`^(${EXIM_ID.source})-H$`);

export function parseEximSpoolHeader(input: string | Uint8Array | readonly SpoolLine[]): EximSpoolHeader {
  const lines = typeof input === 'string' || input instanceof Uint8Array ? eximSpoolLines(input) : input;
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
    complete: false,
    warnings,
  };
  let i = 0;
  let lineNo = 0;
  const nextLine = (): string | null => {
    while (i < lines.length && lines[i]!.acl) i++;
    if (i >= lines.length) return null;
    const l = lines[i++]!;
    lineNo = l.no;
    return l.text;
  };

  const first = nextLine();
  const idm = first === null ? null : ID_LINE.exec(first);
  if (!idm) {
    warnings.push(first === null ? 'spool header: empty input' : lineWarning(1, 'spool header: first line is not "<id>-H"', first));
    if (first === null) return out;
  } else out.id = idm[1] ?? '';

  const owner = nextLine();
  const om = owner === null ? null : /^(.*) (-?\d+) (-?\d+)$/s.exec(owner);
  if (om) {
    out.login = om[1] ?? null;
    out.uid = Number(om[2]);
    out.gid = Number(om[3]);
  } else if (owner !== null) warnings.push(lineWarning(lineNo, 'spool header: login/uid/gid line not understood', owner));

  const sender = nextLine();
  const sm = sender === null ? null : /^<(.*)>$/s.exec(sender);
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
    if (eximAclBytes(line) < 0) {
      warnings.push(lineWarning(lineNo, 'spool header: acl line without a length', line));
      return out;
    }
    applyHyphenLine(out, line);
    line = nextLine();
  }

  // Non-recipients tree: "XX", or pre-order nodes "<L><R> address" with L/R in Y/N.
  if (line === null) {
    warnings.push('spool header: ends before the recipient list');
    return out;
  }
  if (line !== 'XX') {
    const readNode = (l: string | null): boolean => {
      if (l === null || !/^[YN][YN] /.test(l)) {
        if (l !== null) warnings.push(lineWarning(lineNo, 'spool header: non-recipients tree line not understood', l));
        return false;
      }
      out.delivered.push(l.slice(3));
      if (l[0] === 'Y' && !readNode(nextLine())) return false;
      if (l[1] === 'Y' && !readNode(nextLine())) return false;
      return true;
    };
    if (!readNode(line)) return out;
  }

  const countLine = nextLine();
  const cm = countLine === null ? null : /^(\d+)$/.exec(countLine);
  if (!cm) {
    if (countLine !== null) warnings.push(lineWarning(lineNo, 'spool header: recipient count not understood', countLine));
    else warnings.push('spool header: ends before the recipient count');
    return out;
  }
  const count = Number(cm[1]);
  for (let n = 0; n < count; n++) {
    const r = nextLine();
    if (r === null) {
      warnings.push(`spool header: expected ${count} recipients, found ${n}`);
      return out;
    }
    out.recipients.push(recipientAddress(r));
  }
  out.complete = true;
  const blank = nextLine();
  if (blank !== null && blank !== '') warnings.push(lineWarning(lineNo, 'spool header: expected a blank line before the headers', blank));
  return out;
}

/**
 * True when exim recorded SMTP authentication: an authenticator (-host_auth), or a TCP client with
 * an authenticated protocol (esmtpa, esmtpsa). For a local submission exim puts the caller's login
 * in -auth_id: that is not an SMTP AUTH account, and neither the scan nor the purge takes it for
 * one (its awk twin: ev_smtpauth in scripts/envelope.awk).
 */
export function smtpAuthenticated(h: Pick<EximSpoolHeader, 'hostAuth' | 'hostAddress' | 'receivedProtocol'>): boolean {
  if (h.hostAuth !== undefined && h.hostAuth !== '') return true;
  return h.hostAddress !== undefined && /a$/i.test(h.receivedProtocol ?? '');
}
