// Postfix incident operations: purge / hold re-checking each queue file with `postcat -e -q`,
// then `postsuper -d -` (delete) or `postsuper -h -` (hold) with the matching ids on stdin;
// restart through systemd / init script, checked with `postfix status`.
//
// The purge command is a fixed script: ids, expected senders and recipients and the auth id come
// on its stdin, hex-encoded (purge-stdin.ts, purgeStdinText), and are compared as hex with the hex
// of postcat's output (od), line by line, so every byte counts and nothing is re-quoted.
// postcat -e prints envelope records only (never headers or body), one "name: value" line each,
// in file order; smtpd writes the sasl_* attributes before the one sender record, recipients
// after it. Re-check per id, on the server at delete time:
//   - the queue file is present and postcat read it whole (ENVELOPE RECORDS … MESSAGE FILE END);
//   - exactly one "sender: " line (a value holding a newline cannot add a second one unseen);
//   - with request.expect: that sender is the expected one, either byte for byte or as showq
//     prints it (the listing comes from `postqueue -j`: quote_822_local, then printable() with
//     '?' for a control character: real postfix 3.7 lists "a\x1bb c"@x as "\"a?b c\"@x");
//   - kind auth: exactly one "named_attribute: sasl_username=<authId>" line, before the sender;
//   - kind bounce: the sender is empty, and every undelivered recipient ("recipient: " lines;
//     delivered ones are "done_recipient", original_recipient is not a delivery target) is one of
//     request.expect[id].recipients (in either form above), and there is at least one.
//
// A busy queue runner does not stop the purge, and nothing is paused (observed on the lab's
// bookworm-postfix, postfix 3.7.11, with smtp clients hanging on a relay that accepts TCP and
// never answers): `postsuper -d` removes a message in the active queue while an smtp process
// holds it open; when that attempt ends the agent defers it, qmgr finds no file and the id does
// not come back (a stale defer/<x>/<id> logfile is all that remains); messages qmgr holds in
// memory but has not handed out yet are dropped with "error: open active <id>: No such file".
// `postsuper -h` on such a message moves it to hold, and it stays there. What cannot be undone:
// an attempt already under way has the file open and may still complete that one delivery.

import { postfixTool, POSTFIX_ID } from './host.js';
import { sh } from '../../transport/quote.js';
import { PURGE_MARKER, parsePurgeOutput } from '../purge-protocol.js';
import { STDIN_IDS, hexOf, prepareStdinPurge, purgeStdinText, stdinPrologue } from '../purge-stdin.js';
import { parseRestartOutput, restartPrologue, serviceRestartFragment, waitRunningFragment } from '../restart-fragments.js';
import { pathLine } from '../util.js';
import type { MtaContext, MtaOperations, PurgeRequest, PurgeResult, ReadPlan, RestartResult } from '../types.js';


/**
 * The verdict for every id, in one awk run (POSIX awk: mawk, gawk, busybox; LC_ALL=C).
 * Input: the dump ("@ <id>" then `od -An -v -tx1` of `postcat -e -q <id>`, nothing when the
 * file is gone); MS_REQ (environment): the request file; K: "auth" or "bounce"; the P_* prefixes: hex of the record
 * names. Prints one marker line per id. No single quote inside (it goes into '…').
 */
export const POSTFIX_VERDICT_AWK = [
  'function clear() { nl = 0; cur = ""; split("", L) }',
  // hx: hex string -> bytes in B[1..n]; returns n.
  'function hx(h,  i, n) { split("", B); n = length(h) / 2; for (i = 1; i <= n; i++) B[i] = V[substr(h, 2 * i - 1, 2)]; return n }',
  // sq: showq's form of an internal address (quote_822_local, then printable(.., "?")), as hex.
  'function sq(h, u,  n, i, j, s, e, dot, m, out, c) {',
  ' n = hx(h); s = 1;',
  ' if (n > 0 && B[1] == 64) for (i = 1; i <= n; i++) if (B[i] == 58) { s = i + 1; break }',
  ' e = n + 1; for (i = s; i <= n; i++) if (B[i] == 64) e = i;',
  ' dot = (e > s && B[s] != 46 && B[e - 1] != 46);',
  ' for (i = s; dot && i < e; i++) { c = B[i];',
  '  if ((c == 46 && i + 1 < e && B[i + 1] == 46) || c == 32 || c < 32 || c == 127 || c == 40 || c == 41 || c == 60 || c == 62 || c == 64 || c == 44 || c == 59 || c == 58 || c == 92 || c == 34 || c == 91 || c == 93) dot = 0 }',
  ' split("", Q); m = 0;',
  ' if (dot) for (i = 1; i <= n; i++) Q[++m] = B[i];',
  ' else { for (i = 1; i < s; i++) Q[++m] = B[i]; Q[++m] = 34;',
  '  for (i = s; i < e; i++) { if (B[i] == 34 || B[i] == 92 || B[i] == 13) Q[++m] = 92; Q[++m] = B[i] }',
  '  Q[++m] = 34; for (i = e; i <= n; i++) Q[++m] = B[i] }',
  ' out = "";',
  ' for (i = 1; i <= m; i++) { c = Q[i];',
  '  if (c >= 32 && c <= 126) out = out X[c];',
  '  else if (u && c >= 194 && c <= 254 && i < m && Q[i + 1] >= 128 && Q[i + 1] < 192) { out = out X[c]; while (i < m && Q[i + 1] >= 128 && Q[i + 1] < 192) out = out X[Q[++i]] }',
  '  else out = out "3f" }',
  ' return out }',
  // same: the server value (hex) is the expected one, byte for byte or in showq's form.
  'function same(srv, want) { return srv == want || sq(srv, 1) == want || sq(srv, 0) == want }',
  'function say(v) { print M " " id " " v }',
  'function verdict(  i, x, ns, na, sl, al, spos, apos, nr, bad, r, k, w, j, ok) {',
  ' if (cur != "") { L[++nl] = cur; cur = "" }',
  ' if (nl == 0) return say("skip gone: not in the queue");',
  ' if (index(L[1], P_ENV) != 1 || index(L[nl], P_END) != 1) return say("skip queue file not readable");',
  ' ns = 0; na = 0; nr = 0; bad = 0; spos = 0; apos = 0;',
  ' split(substr(R[id], 2), W, ",");',
  ' for (i = 2; i < nl; i++) { x = L[i];',
  '  if (index(x, P_SENDER) == 1) { ns++; sl = substr(x, length(P_SENDER) + 1); spos = i }',
  '  else if (index(x, P_AUTH) == 1) { na++; al = substr(x, length(P_AUTH) + 1); apos = i }',
  '  else if (index(x, P_RCPT) == 1) { nr++; r = substr(x, length(P_RCPT) + 1); ok = 0;',
  '   for (j in W) if (substr(W[j], 1, 1) == "x" && same(r, substr(W[j], 2))) { ok = 1; break }',
  '   if (!ok) bad++ } }',
  ' if (ns != 1) return say("skip queue file not understood: " ns " sender records");',
  ' if (K != "auth" && sl != "") return say("skip not a null-sender message");',
  ' if (S[id] != "-" && !same(sl, substr(S[id], 2))) return say("skip envelope sender changed: id reused?");',
  ' if (K == "auth") { if (na != 1 || apos > spos || al != A) return say("skip not submitted by this auth id") }',
  ' else { if (substr(R[id], 1, 1) != "r") return say("skip no expected recipients: cannot re-check it");',
  '  if (nr == 0 || bad > 0) return say("skip recipients changed") }',
  ' say("match") }',
  'BEGIN { for (i = 0; i < 256; i++) { X[i] = sprintf("%02x", i); V[X[i]] = i }',
  ' D = ENVIRON["MS_REQ"]; while ((getline l < D) > 0) { split(l, f, " "); if (f[1] == "A") A = f[2]; else if (f[1] != ".") { S[f[1]] = f[2]; R[f[1]] = f[3] } }',
  ' id = "" }',
  '/^@ / { if (id != "") verdict(); clear(); id = $2; next }',
  '{ for (i = 1; i <= NF; i++) if ($i == "0a") { L[++nl] = cur; cur = "" } else cur = cur $i }',
  'END { if (id != "") verdict() }',
].join('\n');
if (POSTFIX_VERDICT_AWK.includes("'")) throw new Error('POSTFIX_VERDICT_AWK must not contain a single quote');

export function postfixPurgeCommand(ctx: MtaContext, req: PurgeRequest): string {
  const postcat = postfixTool(ctx, 'postcat');
  const postsuper = postfixTool(ctx, 'postsuper');
  const postconf = postfixTool(ctx, 'postconf');
  const qdOverride = ctx.queueDirectory;
  const kind = req.match.kind === 'auth' ? 'auth' : 'bounce';
  const prefixes = {
    P_ENV: hexOf('*** ENVELOPE RECORDS '),
    P_END: hexOf('*** MESSAGE FILE END '),
    P_SENDER: hexOf('sender: '),
    P_AUTH: hexOf('named_attribute: sasl_username='),
    P_RCPT: hexOf('recipient: '),
  };
  const vars = Object.entries(prefixes).map(([k, v]) => `-v ${k}=${v}`).join(' ');
  const verify =
    req.mode === 'delete'
      ? `case "$have" in *" $id "*) echo "${PURGE_MARKER} $id fail still in the queue";; *) echo "${PURGE_MARKER} $id done removed";; esac`
      : `if ${postcat} -e -q "$id" 2>/dev/null </dev/null | grep -q '^[*][*][*] ENVELOPE RECORDS hold/'; then echo "${PURGE_MARKER} $id done held"; else echo "${PURGE_MARKER} $id fail not in the hold queue"; fi`;
  return [
    pathLine(),
    ...stdinPrologue(),
    qdOverride ? sh`qd=${qdOverride}` : `qd=$(${postconf} -h queue_directory 2>/dev/null </dev/null)`,
    `if [ -z "$qd" ] || [ ! -d "$qd" ]; then echo "${PURGE_MARKER} - abort postfix queue directory not found"; exit 0; fi`,
    // The queue files present, by name (= queue id), in one pass: postcat -q on a missing id
    // retries for about a second, far too slow for hundreds of gone or deleted ids.
    `present() { ( cd "$qd" && find incoming active deferred hold maildrop -type f 2>/dev/null ) | sed 's#.*/##' | tr '\\n' ' '; }`,
    `have=" $(present) "`,
    // The dump: "@ ID", then postcat's envelope as hex bytes (nothing when the file is gone).
    `${STDIN_IDS} | while read -r id; do echo "@ $id"; case "$have" in *" $id "*) ${postcat} -e -q "$id" 2>/dev/null </dev/null | od -An -v -tx1;; esac; done >"$t.d"`,
    `MS_REQ="$t" LC_ALL=C awk -v K=${kind} -v M=${PURGE_MARKER} ${vars} '${POSTFIX_VERDICT_AWK}' "$t.d" >"$t.v"`,
    `cat "$t.v"`,
    `ok=$(sed -n 's/^${PURGE_MARKER} \\([0-9A-Za-z]*\\) match$/\\1/p' "$t.v" | tr '\\n' ' ')`,
    `if [ -n "$ok" ]; then printf '%s\\n' $ok | ${postsuper} ${req.mode === 'delete' ? '-d' : '-h'} - 2>&1 | sed 's/^/| /'; ` +
      `have=" $(present) "; for id in $ok; do ${verify}; done; fi`,
  ].join('\n');
}

/** postsuper's own words: "postsuper: ID: removed" / "postsuper: ID: placed on hold". */
export function postfixConfirmed(mode: 'delete' | 'hold'): (id: string, lines: string[]) => boolean {
  const want = mode === 'delete' ? 'removed' : 'placed on hold';
  return (id, lines) => lines.some((l) => new RegExp(`^postsuper(?:\\[\\d+\\])?: ${id}: ${want}$`).test(l));
}

export function postfixPurge(ctx: MtaContext, req: PurgeRequest): ReadPlan<PurgeResult> {
  const prep = prepareStdinPurge(req, POSTFIX_ID, 'postfix');
  const pre = prep.skipped;
  const ids = prep.ids;
  const tool = `postsuper ${req.mode === 'delete' ? '-d' : '-h'}`;
  const parse = (stdout: string, stderr: string, code: number | null): PurgeResult => {
    const r = parsePurgeOutput(stdout, stderr, code, { sent: ids, preSkipped: pre, confirmed: postfixConfirmed(req.mode), tool });
    // postsuper's summary ("Deleted: N messages" / "Placed on hold: N messages") must agree.
    const summary = new RegExp(`^\\| postsuper(?:\\[\\d+\\])?: ${req.mode === 'delete' ? 'Deleted' : 'Placed on hold'}: (\\d+) messages?$`, 'm').exec(stdout);
    if (summary && Number(summary[1]) !== r.done.length) r.warnings.push(`postsuper reports ${summary[1]} message(s), ${r.done.length} verified`);
    return r;
  };
  if (ids.length === 0) return { command: 'true', parse };
  return { command: postfixPurgeCommand(ctx, req), stdin: purgeStdinText(req, ids), parse };
}

export function postfixRestart(ctx: MtaContext): ReadPlan<RestartResult> {
  const postfix = postfixTool(ctx, 'postfix');
  const postconf = postfixTool(ctx, 'postconf');
  // master's pid file under the queue directory; `postfix status` says whether it runs.
  const probe = `q=$(${postconf} -h queue_directory 2>/dev/null); p=$(head -n 1 "$q/pid/master.pid" 2>/dev/null | tr -d ' '); if [ -n "$p" ] && kill -0 "$p" 2>/dev/null && ${postfix} status >/dev/null 2>&1; then echo "$p"; fi`;
  return {
    command: [
      ...restartPrologue(probe),
      serviceRestartFragment(['postfix']),
      waitRunningFragment(probe),
    ].join('\n'),
    parse: (stdout, stderr, code) => parseRestartOutput(stdout, stderr, code, 'postfix'),
  };
}

export const postfixOps: MtaOperations = { restart: postfixRestart, purge: postfixPurge };
