// Who submitted a queued qmail message: the one rule by which a mess file is tied to an SMTP AUTH
// account, defined once, in two languages side by side: qmailSubmitter here (the scan's
// attribution, attribution.ts) and its awk twin scripts/proof.awk (the purge's delete-time
// re-check on the server: scripts/proof.sh's `who`, run by scripts/purge.sh). One table of cases
// runs through both: test/mta/qmail-proof.test.ts.

import { bareIp } from '../../logs/line.js';
import { scriptSource, type ScriptValue } from '../script.js';
import type { MtaContext } from '../types.js';

// ---------------------------------------------------------------------------
// Who submitted a queued message: the proof rule.
//
// The mess file (queue/mess/<split>/<inode>) starts with what qmail-queue wrote before copying its
// input (notqmail/notqmail:qmail-queue.c, receivedfmt):
//   Received: (qmail 12828 invoked from network); 3 Aug 2007 08:24:40 -0000
// "from network" means qmail-queue's real uid was qmaild, i.e. qmail-smtpd (or a QMAILQUEUE
// wrapper it started) queued it; a local program (a PHP script via sendmail/qmail-inject) shows
// "by uid N" and writes every later header itself, so it proves nothing. qmail-smtpd's own header
// is the first thing it hands to qmail-queue (smtp_data: received() right after qmail_open, in
// sagredo-dev/qmail:qmail-smtpd.c and sagredo-dev/qmail-auth-tls-forcetls:qmail-smtpd.c); a
// wrapper may put headers of its own (DKIM-Signature, X-Spam-*) in front of it. Format
// (notqmail/notqmail:received.c, sagredo-dev/qmail:received.c):
//   Received: from <remotehost> (HELO <helo>) (<remoteinfo>@<remoteip>)
//     by <local> with <protocol>; <date>
// safeput() prints every character outside [A-Za-z0-9.@%+/=:-] (notqmail also []) as '?', so the
// HELO, host name and remoteinfo hold no space and no parenthesis: the line's structure is fixed
// whatever the client sent (a HELO "x) (bob@example.test@1.2.3.4" prints as one token with '?'s).
// sagredo's received.c leaves "@<remoteip>" out while RELAYCLIENT is set, which it always is after
// AUTH. After a successful AUTH (sagredo-dev/qmail:qmail-smtpd.c smtp_auth, the same in the older
// netqmail auth patch) remoteinfo is the login and the protocol "ESMTPA", or with TLS "ESMTPSA
// (<cipher> encrypted, authenticated)"; SMTPUTF8 makes that "UTF8SMTPA…". Without AUTH,
// remoteinfo is TCPREMOTEINFO (identd: the client's own answer) or, in the same patches, the MAIL
// FROM AUTH= parameter (mailfrom_auth): the client's choice, so it only counts under an AUTH
// protocol. (notqmail/notqmail:qmail-smtpd.c has no SMTP AUTH at all: protocol always "SMTP".)
//
// The rule, read line by line (LF-separated, nothing normalised):
//   1. line 1 is qmail-queue's, "invoked from network" (or "by uid N" with N in qmail_smtpd_uids);
//   2. the first "Received:" field after it (other fields before it are skipped, each a
//      "name:" line plus continuation lines; line 2 may not be a continuation; a blank line, EOF
//      or any other line first: no proof) is exactly two lines, qmail-smtpd's, with an AUTH
//      protocol as above;
//   3. remoteinfo: "<login>@<IPv4|IPv6>" (stock received.c) gives <login>; a value whose last
//      "@…" is not an IP address is the whole login (sagredo's form); an IP address alone, a last
//      part "unknown" (TCPREMOTEIP unset) or a '?' anywhere (a character safeput replaced) is not
//      proof of any one login.
// Only the first QMAIL_PROOF_MAX_LINES lines are read; a line longer than QMAIL_PROOF_MAX_LINE
// bytes, or the need for a line past the limit, leaves the message unattributed.
//
// Not covered by the proof (qmail-smtpd's own bugs, not visible in the header): the netqmail
// auth patch whose RSET clears seenauth while remoteinfo still points into the login buffer (a
// later failed AUTH rewrites it), and spamcontrol's smtp_auth, which appends "A" to the protocol
// on a failed AUTH too. Other formats (IndiMail, Qsmtpd, qpsmtpd, s/qmail, a simscan or
// qmail-scanner Received header in front) are simply not attributed.
//
// Two implementations of the rule: qmailSubmitter (TypeScript, for the scan, which prints the
// lines it needs) and scripts/proof.awk (run on the server by the purge). They must agree; the
// tests run both over one table of mess files.

export const QMAIL_PROOF_MAX_LINES = 200;
export const QMAIL_PROOF_MAX_LINE = 4096;

const SAFE = '[\\][A-Za-z0-9.@%+/=:?-]';
const DATE822 = '[0-9][0-9]? [A-Z][a-z][a-z] [0-9][0-9][0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] [-+][0-9][0-9][0-9][0-9]';
const QQ_LINE = new RegExp(`^Received: \\(qmail [0-9]+ invoked (?:from network|by uid ([0-9]+))\\); ${DATE822}$`);
const SMTPD_FROM = new RegExp(`^Received: from ${SAFE}*(?: \\(HELO ${SAFE}*\\))? \\((${SAFE}*)\\)$`);
const AUTH_PROTOCOL = '(?:ESMTP|(?:UTF8)+SMTP)(?:A|SA \\([A-Za-z0-9_-]+ encrypted, authenticated\\))';
const SMTPD_BY = new RegExp(`^  by ${SAFE}* with ${AUTH_PROTOCOL}; ${DATE822}$`);
const SMTPD_BY_ANY = new RegExp(`^  by ${SAFE}* with [^;]*; ${DATE822}$`);
const IPV4 = /^[0-9][0-9]?[0-9]?\.[0-9][0-9]?[0-9]?\.[0-9][0-9]?[0-9]?\.[0-9][0-9]?[0-9]?$/;

function isIp(t: string): boolean {
  if (IPV4.test(t)) return true;
  return t.length <= 45 && /^[0-9A-Fa-f.:]+$/.test(t) && t.split(':').length - 1 >= 2;
}

/** Why a message has no authId (for counts in warnings). */
export type QmailNoProof =
  | 'empty'
  | 'not-qmail-queue'
  | 'local-uid'
  | 'no-smtpd-header'
  | 'not-smtpd-format'
  | 'not-authenticated'
  | 'unprintable-login'
  | 'ambiguous'
  | 'undecided';

export interface QmailProof {
  /** The authenticated login, when the header proves one. */
  authId?: string;
  /** The client address, when qmail-smtpd printed it (stock received.c). */
  clientIp?: string;
  /** Why there is no authId. */
  why?: QmailNoProof;
  /** With why 'local-uid': the uid qmail-queue ran as. */
  uid?: string;
}

const EOF = Symbol('eof');
const MORE = Symbol('more');

/**
 * The rule above over a mess file's first lines (LF-split, as read). `atEof`: the lines end
 * where the file ends; otherwise running out of lines leaves the message undecided.
 * `uids`: qmail_smtpd_uids. Pure; never throws.
 */
export function qmailSubmitter(lines: readonly string[], atEof: boolean, uids: readonly string[] = []): QmailProof {
  const line = (i: number): string | typeof EOF | typeof MORE => {
    if (i >= lines.length) return atEof ? EOF : MORE;
    if (i >= QMAIL_PROOF_MAX_LINES) return MORE;
    const l = lines[i] ?? '';
    return l.length > QMAIL_PROOF_MAX_LINE ? MORE : l;
  };
  const no = (why: QmailNoProof): QmailProof => ({ why });
  const first = line(0);
  if (first === EOF) return no('empty');
  if (first === MORE) return no('undecided');
  const q = QQ_LINE.exec(first);
  if (!q) return no('not-qmail-queue');
  if (q[1] !== undefined && !uids.includes(q[1])) return { why: 'local-uid', uid: q[1] };
  let i = 1;
  for (; ; i++) {
    const l = line(i);
    if (l === EOF) return no('no-smtpd-header');
    if (l === MORE) return no('undecided');
    if (l === '') return no('no-smtpd-header');
    if (l[0] === ' ' || l[0] === '\t') {
      if (i === 1) return no('no-smtpd-header');
      continue;
    }
    if (/^[Rr][Ee][Cc][Ee][Ii][Vv][Ee][Dd][ \t]*:/.test(l)) break;
    if (!/^[!-9;-~]+:/.test(l)) return no('no-smtpd-header');
  }
  const r1 = line(i) as string;
  const r2 = line(i + 1);
  if (r2 === EOF) return no('not-smtpd-format');
  if (r2 === MORE) return no('undecided');
  const next = line(i + 2);
  if (next === MORE) return no('undecided');
  if (next !== EOF && (next[0] === ' ' || next[0] === '\t')) return no('not-smtpd-format');
  const m = SMTPD_FROM.exec(r1);
  if (!m) return no('not-smtpd-format');
  if (!SMTPD_BY.test(r2)) return no(SMTPD_BY_ANY.test(r2) ? 'not-authenticated' : 'not-smtpd-format');
  const p = m[1] ?? '';
  if (p === '') return no('ambiguous');
  if (p.includes('?')) return no('unprintable-login');
  const at = p.lastIndexOf('@');
  const login = at >= 0 ? p.slice(0, at) : '';
  const tail = at >= 0 ? p.slice(at + 1) : p;
  if (isIp(tail)) return at >= 0 && login !== '' ? { authId: login, clientIp: bareIp(tail) ?? tail } : no('ambiguous');
  if (tail === 'unknown') return no('ambiguous');
  return { authId: p };
}

/** The awk twin of qmailSubmitter: prints the proven login, or nothing (scripts/proof.awk). */
export const QMAIL_PROOF_SCRIPT = 'qmail/scripts/proof.awk';

/**
 * The settings of scripts/proof.sh (`who ID`: the login the mess file of ID proves): the awk
 * twin, its limits, and qmail_smtpd_uids (validated digits).
 */
export function qmailProofSettings(ctx: MtaContext): Record<string, ScriptValue> {
  return {
    MS_PROOF_AWK: scriptSource(QMAIL_PROOF_SCRIPT),
    MS_PROOF_LINES: QMAIL_PROOF_MAX_LINES,
    MS_PROOF_WIDTH: QMAIL_PROOF_MAX_LINE,
    MS_SMTPD_UIDS: ctx.qmailSmtpdUids.join(' '),
  };
}
