// Who submitted a queued qmail message: the one rule by which a mess file is tied to an SMTP AUTH
// account. Its own module because two callers need the same rule: the scan (qmail.ts, through
// qmailSubmitter) and the purge's delete-time re-check (qmail-ops.ts, through QMAIL_PROOF_AWK).

import { bareIp } from '../../logs/line.js';
import { sh } from '../../transport/quote.js';
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
// lines it needs) and QMAIL_PROOF_AWK (run on the server by the purge). They must agree; the
// tests run both over the same mess files.

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
  for (;; i++) {
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

/**
 * The same rule as qmailSubmitter, for POSIX awk (mawk, gawk, busybox, BSD; run with LC_ALL=C)
 * on one mess file: prints the proven login, or nothing. `U` in the environment: " uid uid ".
 */
export const QMAIL_PROOF_AWK = [
  'function ip(t,  c) {',
  ' if (t ~ /^[0-9][0-9]?[0-9]?[.][0-9][0-9]?[0-9]?[.][0-9][0-9]?[0-9]?[.][0-9][0-9]?[0-9]?$/) return 1;',
  ' if (length(t) > 45 || t !~ /^[0-9A-Fa-f.:]+$/) return 0;',
  ' c = t; return gsub(/:/, "", c) >= 2 }',
  'function decide(  p, i, j, l, t) {',
  ' if (r1 !~ R1 || r2 !~ R2) return;',
  ' match(r1, /[(][^()]*[)]$/); p = substr(r1, RSTART + 1, RLENGTH - 2);',
  ' if (p == "" || index(p, "?") > 0) return;',
  ' j = 0; for (i = 1; i <= length(p); i++) if (substr(p, i, 1) == "@") j = i;',
  ' if (j > 0) { l = substr(p, 1, j - 1); t = substr(p, j + 1) } else { l = ""; t = p }',
  ' if (ip(t)) { if (j > 0 && l != "") print l; return }',
  ' if (t == "unknown") return;',
  ' print p }',
  'BEGIN { S = "[][A-Za-z0-9.@%+/=:?-]";',
  ` D = "${DATE822}";`,
  ' QQ = "^Received: [(]qmail [0-9]+ invoked (from network|by uid [0-9]+)[)]; " D "$";',
  ' R1 = "^Received: from " S "*( [(]HELO " S "*[)])? [(]" S "*[)]$";',
  ' R2 = "^  by " S "* with (ESMTP|(UTF8)+SMTP)(A|SA [(][A-Za-z0-9_-]+ encrypted, authenticated[)]); " D "$";',
  ' U = " " ENVIRON["U"] " "; st = 0 }',
  `NR > ${QMAIL_PROOF_MAX_LINES} || length($0) > ${QMAIL_PROOF_MAX_LINE} { st = 9; exit }`,
  'NR == 1 { if ($0 !~ QQ) { st = 9; exit }',
  ' if ($0 ~ /invoked by uid/) { x = $0; sub(/^Received: [(]qmail [0-9]+ invoked by uid /, "", x); sub(/[)].*$/, "", x);',
  '  if (index(U, " " x " ") == 0) { st = 9; exit } }',
  ' next }',
  'st == 0 { if ($0 == "") { st = 9; exit }',
  ' if ($0 ~ /^[ \t]/) { if (NR == 2) { st = 9; exit } next }',
  ' if (tolower($0) ~ /^received[ \t]*:/) { r1 = $0; st = 1; next }',
  ' if ($0 !~ /^[!-9;-~]+:/) { st = 9; exit }',
  ' next }',
  'st == 1 { r2 = $0; st = 2; next }',
  'st == 2 { if ($0 !~ /^[ \t]/) decide(); st = 9; exit }',
  'END { if (st == 2) decide() }',
].join('\n');
if (QMAIL_PROOF_AWK.includes("'")) throw new Error('QMAIL_PROOF_AWK must not contain a single quote');

/**
 * `who ID`: the login the mess file of ID proves (QMAIL_PROOF_AWK), or nothing; needs $q (the
 * queue directory). NULs become \\001 so that no awk cuts a line short at one.
 */
export function qmailProofFragment(ctx: MtaContext): string[] {
  return [
    // U: qmail_smtpd_uids (validated digits).
    sh`U=${ctx.qmailSmtpdUids.join(' ')}`,
    `who() { m=''; for f in "$q"/mess/*/"$1" "$q/mess/$1"; do if [ -f "$f" ]; then m=$f; break; fi; done; ` +
      `[ -n "$m" ] || return 0; head -n ${QMAIL_PROOF_MAX_LINES + 1} "$m" | LC_ALL=C tr '\\000' '\\001' | U="$U" LC_ALL=C awk '${QMAIL_PROOF_AWK}'; }`,
  ];
}
