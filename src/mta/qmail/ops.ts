// qmail incident operations (no lab host: documented behaviour, qmHandle style). The rule by which
// a queued qmail message is tied to an SMTP AUTH account is in qmail-proof.ts (the scan uses it
// too; re-exported here), and is re-checked here at delete time.
//
// qmail has no queue tool that deletes, and qmail-send must not run while queue files are
// removed (qmHandle stops it first). The purge command is a fixed script; ids, expected senders
// and recipients and the auth id come on its stdin, hex-encoded (purge-stdin.ts), and are compared
// as hex with the server's bytes (QMAIL_VERDICT_AWK). A purge is:
//   1. re-check every id (the inode number qmail-qread prints): its info/<split>/<id> file
//      exists and names the sender the listing showed ("F<sender>\0"); kind bounce: empty, and
//      every recipient still to deliver (T records of local/remote) is one the listing showed —
//      inode numbers are reused, this is what keeps a new message under an old id safe;
//      kind auth: in addition, the mess file proves that account submitted it (qmail-proof.ts,
//      run on the server by QMAIL_PROOF_AWK and compared with the auth id byte for byte);
//   2. stop qmail-send the way it is supervised (qctl, qmail-supervise.ts) and wait until no
//      qmail-send runs: it exits only once its deliveries in progress end, so qmail-remote
//      attempts still hanging then are ended (deferred, retried later) — if it still does not
//      stop, nothing is touched. From the stop on, an EXIT trap starts it again whatever
//      happens (also on HUP/INT/TERM/PIPE), reported as "- resumed" / "- notresumed";
//   3. the same re-check once more, now that qmail-send is down; then remove the id's file from
//      every queue subdirectory (mess, info, local, remote: split by conf-split; intd, todo:
//      split or not, depending on the build; bounce);
//   4. start qmail-send again (the trap).
// There is no hold.

import { QMAIL_ID, qmailPath, qmailQueueDir } from './host.js';
import { sh } from '../../transport/quote.js';
import { PURGE_MARKER, parsePurgeOutput } from '../purge-protocol.js';
import { STDIN_IDS, prepareStdinPurge, purgeStdinText, stdinPrologue } from '../purge-stdin.js';
import { qmailProofFragment } from './proof.js';
import { qmailSuperviseFragment, type QmailSuperviseOptions } from './supervise.js';
import { RESTART_MARKER, beforeFragment, parseRestartOutput, restartLockFragment } from '../restart-fragments.js';
import { failureText, pathLine, splitLines } from '../util.js';
import type { MtaContext, MtaOperations, PurgeRequest, PurgeResult, ReadPlan, RestartResult } from '../types.js';


export const QMAIL_SUBDIRS = ['mess', 'info', 'local', 'remote', 'intd', 'todo', 'bounce'] as const;


/**
 * The verdict for every id, in one awk run (POSIX awk; LC_ALL=C). Input: the dump, per id
 * "@ <id>", then "I <hex of the info file>", "T <hex of a local/remote file>" (each), and for
 * kind auth "W <hex of the login the mess file proves>"; nothing after "@" when the info file is
 * gone. MS_REQ (environment): the request file; K: "auth" or "bounce". Prints one marker line per id.
 *
 * Comparison: the listing is qmail-qread's, which prints every byte outside 32..126 as "_"
 * (notqmail qmail-qread.c, out()), so a sender or recipient is compared after that same mapping
 * on both sides: byte for byte for printable ASCII, and a control character in the info file
 * matches the "_" the listing showed for it (and nothing printable but "_").
 * Recipients: the records of local/<split>/<id> and remote/<split>/<id> are "T<addr>\0" (still
 * to deliver) and "D<addr>\0" (done); only T records count.
 */
export const QMAIL_VERDICT_AWK = [
  // qm: the hex string with every byte outside 20..7e made "5f" (qmail-qread's "_").
  'function qm(h,  i, b, o) { o = ""; for (i = 1; i < length(h); i += 2) { b = substr(h, i, 2); o = o ((b < "20" || b > "7e") ? "5f" : b) } return o }',
  // recs: split a hex string into NUL-terminated records RC[1..n]; returns n.
  'function recs(h,  i, b, c, n) { split("", RC); n = 0; c = ""; for (i = 1; i < length(h); i += 2) { b = substr(h, i, 2); if (b == "00") { RC[++n] = c; c = "" } else c = c b } if (c != "") RC[++n] = c; return n }',
  'function say(v) { print M " " id " " v }',
  'function verdict(  n, snd, i, j, k, r, ok, nr, bad) {',
  ' if (ni == 0) return say("skip gone: no info file");',
  ' n = recs(info); if (n < 1 || substr(RC[1], 1, 2) != "46") return say("skip info file not readable");',
  ' snd = substr(RC[1], 3);',
  ' if (K != "auth" && snd != "") return say("skip not a null-sender message");',
  ' if (S[id] != "-" && qm(snd) != qm(substr(S[id], 2))) return say("skip envelope sender changed: id reused?");',
  ' if (K == "auth") { if (!hasw || w != A) return say("skip not submitted by this auth id"); return say("match") }',
  ' if (substr(R[id], 1, 1) != "r") return say("skip no expected recipients: cannot re-check it");',
  ' split(substr(R[id], 2), W, ","); nr = 0; bad = 0;',
  ' for (k = 1; k <= nt; k++) { n = recs(T[k]);',
  '  for (i = 1; i <= n; i++) { if (substr(RC[i], 1, 2) != "54") continue; nr++; r = qm(substr(RC[i], 3)); ok = 0;',
  '   for (j in W) if (substr(W[j], 1, 1) == "x" && qm(substr(W[j], 2)) == r) { ok = 1; break }',
  '   if (!ok) bad++ } }',
  ' if (nr == 0 || bad > 0) return say("skip recipients changed");',
  ' say("match") }',
  'BEGIN { D = ENVIRON["MS_REQ"]; while ((getline l < D) > 0) { split(l, f, " "); if (f[1] == "A") A = f[2]; else if (f[1] != ".") { S[f[1]] = f[2]; R[f[1]] = f[3] } }',
  ' id = "" }',
  '/^@ / { if (id != "") verdict(); id = $2; ni = 0; nt = 0; hasw = 0; w = ""; info = ""; split("", T); next }',
  '$1 == "I" { ni++; info = $2; next }',
  '$1 == "T" { T[++nt] = $2; next }',
  '$1 == "W" { hasw = 1; w = $2; next }',
  'END { if (id != "") verdict() }',
].join('\n');
if (QMAIL_VERDICT_AWK.includes("'")) throw new Error('QMAIL_VERDICT_AWK must not contain a single quote');

/** Seconds to wait for qmail-send to exit once in-progress qmail-remote deliveries were ended. */
export const QMAIL_AFTER_KILL_WAIT = 30;

export function qmailPurgeCommand(ctx: MtaContext, req: PurgeRequest, sup: QmailSuperviseOptions = {}): string {
  const q = qmailQueueDir(ctx);
  const auth = req.match.kind === 'auth';
  const dirs = QMAIL_SUBDIRS.join(' ');
  const verdicts = (out: string) =>
    `MS_REQ="$t" LC_ALL=C awk -v K=${auth ? 'auth' : 'bounce'} -v M=${PURGE_MARKER} '${QMAIL_VERDICT_AWK}' >"${out}"`;
  return [
    qmailPath(ctx),
    ...stdinPrologue(),
    sh`q=${q}`,
    `if [ ! -d "$q/info" ] || [ ! -d "$q/mess" ]; then echo "${PURGE_MARKER} - abort qmail queue $q not found"; exit 0; fi`,
    qmailSuperviseFragment(sup),
    // inf ID: the info file (info/<split>/ID), or nothing.
    `inf() { for f in "$q"/info/*/"$1" "$q/info/$1"; do if [ -f "$f" ]; then echo "$f"; return; fi; done; }`,
    ...(auth ? qmailProofFragment(ctx) : []),
    // hx: stdin as hex, no separators. dump: for each id on stdin, what the verdict reads
    // (QMAIL_VERDICT_AWK); every file goes to hx by redirection (the loop's stdin is the id list).
    `hx() { od -An -v -tx1 | tr -d ' \\n'; }`,
    `dump() { while read -r id; do echo "@ $id"; f=$(inf "$id"); [ -n "$f" ] || continue; ` +
      `printf 'I '; hx <"$f"; echo; ` +
      `for ch in local remote; do for g in "$q/$ch"/*/"$id" "$q/$ch/$id"; do if [ -f "$g" ]; then printf 'T '; hx <"$g"; echo; fi; done; done; ` +
      (auth ? `printf 'W '; who "$id" </dev/null | head -n 1 | tr -d '\\n' | hx; echo; ` : '') +
      `done; }`,
    // 1. Re-check while qmail-send runs: nothing is stopped unless some id matches.
    `${STDIN_IDS} | dump >"$t.d"; ${verdicts('$t.v')} "$t.d"`,
    `cat "$t.v"`,
    `ok=$(sed -n 's/^${PURGE_MARKER} \\([0-9]*\\) match$/\\1/p' "$t.v" | tr '\\n' ' ')`,
    `[ -n "$ok" ] || exit 0`,
    // 2. Stop qmail-send. From here on it is started again whatever happens: the EXIT trap
    // (also on HUP/INT/TERM/PIPE) runs resume, which runs at most once and cannot be cut short.
    `resumed=''`,
    `resume() { [ -z "$resumed" ] || return 0; resumed=1; trap '' HUP INT TERM PIPE; ` +
      `qctl start >"$t.r" 2>&1; rrc=$?; sed 's/^/| /' "$t.r" 2>/dev/null; p=$(qsend); ` +
      `if [ -n "$p" ] && [ "$p" != "$qp" ]; then echo "${PURGE_MARKER} - resumed qmail-send running, pid $p ($qsv_how)"; ` +
      `elif [ -n "$p" ]; then echo "${PURGE_MARKER} - notresumed qmail-send pid $p is the one asked to stop (still finishing deliveries?): check that it runs again"; ` +
      `elif [ "$rrc" -eq 0 ] && [ -z "$qp" ]; then echo "${PURGE_MARKER} - resumed qctl start exited 0 ($qsv_how)"; ` +
      `else echo "${PURGE_MARKER} - notresumed qmail-send is not running after qctl start (exit $rrc, $qsv_how)"; fi; }`,
    `fin() { resume; fin_files; }`,
    `qp=$(qsend)`,
    `qctl stop >"$t.s" 2>&1; src=$?; sed 's/^/| /' "$t.s"`,
    // qmail-send exits only once its deliveries in progress end (notqmail qmail-send.c: the main
    // loop runs while !flagexitasap || !del_canexit()); a qmail-remote hanging on a stalled peer
    // holds it for up to timeoutremote (1200 s). Those are ended (the delivery is deferred and
    // retried later); qmail-local deliveries are left to finish.
    `if [ -n "$qp" ] && [ -n "$(qsend)" ]; then rr=''; for r in $(pgrep -P "$qp" -x qmail-rspawn 2>/dev/null); do rr="$rr $(pgrep -P "$r" -x qmail-remote 2>/dev/null | tr '\\n' ' ')"; done; ` +
      `set -- $rr; if [ $# -gt 0 ]; then kill -TERM "$@" 2>/dev/null; echo "${PURGE_MARKER} - paused ended $# qmail-remote delivery attempt(s) in progress so that qmail-send could stop (the messages stay queued and are retried)"; ` +
      `i=0; while [ -n "$(qsend)" ] && [ "$i" -lt ${QMAIL_AFTER_KILL_WAIT * 2} ]; do i=$((i+1)); sleep 0.5; done; fi; fi`,
    // Stopped: the pid asked to stop is gone (qctl's exit code counts only when none was seen).
    `if [ -n "$(qsend)" ] || { [ "$src" -ne 0 ] && [ -z "$qp" ]; }; then for id in $ok; do echo "${PURGE_MARKER} $id fail qmail-send did not stop (qctl stop exited $src): nothing removed"; done; exit 0; fi`,
    `echo "${PURGE_MARKER} - paused qmail-send stopped for the removal (\${qsv_how:-qctl stop})"`,
    // 3. The same re-check again, now that nothing else reads or writes the queue; then remove.
    `printf '%s\\n' $ok | dump >"$t.d"; ${verdicts('$t.w')} "$t.d"`,
    `while read -r m id v rest; do case "$v" in match) ;; *) echo "${PURGE_MARKER} $id skip changed while qmail-send was stopped: \${rest}"; continue;; esac; ` +
      `for sub in ${dirs}; do for f in "$q/$sub/$id" "$q/$sub"/*/"$id"; do if [ -f "$f" ] || [ -L "$f" ]; then rm -f "$f"; fi; done; done; left=''; ` +
      `for sub in ${dirs}; do for f in "$q/$sub/$id" "$q/$sub"/*/"$id"; do if [ -f "$f" ] || [ -L "$f" ]; then left="$left \${f#"$q"/}"; fi; done; done; ` +
      `if [ -z "$left" ]; then echo "${PURGE_MARKER} $id done removed"; else echo "${PURGE_MARKER} $id fail files left:$left"; fi; done <"$t.w"`,
    // 4. resume runs from the EXIT trap.
    `exit 0`,
  ].join('\n');
}

/** `sup`: the qmail-supervise fragment's settings (tests only). */
export function qmailPurge(ctx: MtaContext, req: PurgeRequest, sup: QmailSuperviseOptions = {}): ReadPlan<PurgeResult> {
  const prep = prepareStdinPurge(req, QMAIL_ID, 'qmail', (r) => r.match.kind === 'auth');
  if (req.mode === 'hold' && !prep.refusal) {
    // qmail cannot hold one message: refuse rather than do something else.
    for (const id of prep.ids) prep.skipped.push({ id, reason: 'qmail has no hold for single messages: not touched' });
    prep.ids = [];
  }
  const pre = prep.skipped;
  const ids = prep.ids;
  const parse = (stdout: string, stderr: string, code: number | null): PurgeResult =>
    parsePurgeOutput(stdout, stderr, code, { sent: ids, preSkipped: pre, tool: 'queue file removal' });
  if (ids.length === 0) return { command: 'true', parse };
  return { command: qmailPurgeCommand(ctx, req, sup), stdin: purgeStdinText(req, ids), parse };
}

/**
 * Restart qmail-send the way it is supervised (qmail-supervise.ts), report how, and check that
 * a qmail-send runs afterwards with a NEW pid. `sup`: the fragment's settings (tests only).
 */
export function qmailRestart(ctx: MtaContext, sup: QmailSuperviseOptions = {}): ReadPlan<RestartResult> {
  return {
    command: [
      qmailPath(ctx),
      restartLockFragment(),
      qmailSuperviseFragment(sup),
      beforeFragment('qsv_pid'),
      `o=$(mktemp 2>/dev/null || echo /tmp/mailsweep-restart.$$)`,
      `qctl restart </dev/null >"$o" 2>&1 9>&-; rrc=$?`,
      `case "$qsv_how" in ''|none) echo "${RESTART_MARKER} how none";; *) echo "${RESTART_MARKER} how $(qsv_clean "$qsv_how")";; esac`,
      `sed 's/^/| /' "$o" | tail -n 20; rm -f "$o"`,
      `echo "${RESTART_MARKER} rc $rrc"`,
      // A new pid: qmail-send finishes the deliveries in progress before it exits.
      `pid=''; i=0; n=$((qsv_W * 2)); [ "$rrc" -eq 0 ] || n=10; case "$qsv_how" in ''|none) n=1;; esac`,
      `while [ "$i" -lt "$n" ]; do pid=$(qsv_pid); if [ -n "$pid" ] && [ "$pid" != "$b" ]; then break; fi; i=$((i+1)); sleep 0.5; done`,
      `if [ -n "$pid" ]; then echo "${RESTART_MARKER} running $pid"; else echo "${RESTART_MARKER} down"; fi`,
    ].join('\n'),
    parse: (stdout, stderr, code) => qmailRestartResult(stdout, stderr, code),
  };
}

/** parseRestartOutput, plus qmail's own checks: the pid changed; why nothing was found. */
export function qmailRestartResult(stdout: string, stderr: string, code: number | null): RestartResult {
  const r = parseRestartOutput(stdout, stderr, code, 'qmail-send');
  const marker = (k: string): string | undefined => new RegExp(`^${RESTART_MARKER} ${k} ([0-9]+)$`, 'm').exec(stdout)?.[1];
  const tool = splitLines(stdout).filter((l) => l.startsWith('| ')).map((l) => l.slice(2)).join('\n');
  if (/^__MAILSWEEP_RESTART__ how none$/m.test(stdout))
    return { ok: false, detail: `qmail-send: no way to restart found: ${failureText(tool)}` };
  const before = marker('before');
  if (r.ok && before !== undefined && before === marker('running'))
    return { ok: false, detail: `${r.detail}: not restarted (qmail-send exits only once its deliveries in progress end; check it)` };
  return r;
}

export const qmailOps: MtaOperations = { restart: qmailRestart, purge: qmailPurge };
