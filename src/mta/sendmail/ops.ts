// Sendmail incident operations. Sendmail has no delete command, so a purge is:
//   1. pause the queue runners (runner-pause.ts runnerPauseFragment: the daemon SIGSTOPped for the
//      window, a queue runner holding a matched qf lock killed — sendmail -Q skips a locked job);
//   2. re-check every id on the server (request on stdin, hex-encoded; one awk over the qf files):
//      its qf file still exists, its S line is the sender the listing showed, byte for byte
//      (request.expect: a reused id is never touched), and for kind auth the mail-log join
//      (AUTH=server line of the same pid and relay → from= line of the id, the same rule as
//      attribution, done in awk on the server) still names the auth id; for kind bounce the S
//      line is the null sender and every R line (its undelivered recipients: sendmail drops the
//      delivered ones from the qf) is one of request.expect[id].recipients;
//   3. quarantine the matching ids with sendmail's own `sendmail -qI<id>… -Qmailsweep`
//      (qf → hf: no queue runner picks them up any more; a job another process locked again is
//      freed and tried again, 3 rounds at most);
//   4. delete: remove hf + df (+ xf) of the jobs WE quarantined (hf carries "qmailsweep");
//      hold: leave them quarantined (mailq -qQ lists them; sendmail -qQ -qI<id> -Q releases);
//   5. resume the runners (SIGCONT; also on error, and by a watchdog if the script is killed).
// The command text is fixed: no id, sender or auth id is in it.

import { SENDMAIL_ID, SENDMAIL_LOGS, SENDMAIL_PID_FILES, sendmailBinary } from './host.js';
import { sh } from '../../transport/quote.js';
import { PURGE_MARKER, parsePurgeOutput } from '../purge-protocol.js';
import { prepareStdinPurge, purgeStdinText, STDIN_IDS, stdinPrologue } from '../purge-stdin.js';
import { parseRestartOutput, pidFileProbe, restartPrologue, serviceRestartFragment, waitRunningFragment } from '../restart-fragments.js';
import { RESUME_DAEMON, runnerPauseFragment } from '../runner-pause.js';
import { AWK_HEX, AWK_HEX_BEGIN } from '../exim/ops.js';
import { pathLine } from '../util.js';
import type { MtaContext, MtaOperations, PurgeRequest, PurgeResult, ReadPlan, RestartResult } from '../types.js';

/** The quarantine reason mailsweep sets (and requires before deleting an hf file). */
export const SENDMAIL_QUARANTINE_REASON = 'mailsweep';



/**
 * The log join, in portable awk (mawk, gawk, busybox). Input: the mail log filtered to
 * AUTH=server and from= lines. ENVIRON: MS_IDS (space-separated ids), MS_AUTH (the auth id,
 * compared as a string, never as a pattern). Prints each wanted id whose LATEST from= line
 * joins (same pid, same relay, authenticated protocol or none named) to an AUTH=server line
 * naming exactly the auth id whose hex is MS_AUTH (compared as bytes, never as a pattern).
 * Mirrors parseSendmailAuthLog in sendmail.ts.
 */
export const SENDMAIL_JOIN_AWK = [
  AWK_HEX,
  'function last(s, t,  i, p) { p = 0; while ((i = index(substr(s, p + 1), t)) > 0) p += i; return p }',
  'function norm(r) { sub(/[ ]*\\(may be forged\\)[ ]*$/, "", r); sub(/^[ ]+/, "", r); sub(/[ ]+$/, "", r); return r }',
  `BEGIN { ${AWK_HEX_BEGIN}; n = split(ENVIRON["MS_IDS"], a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1; who = ENVIRON["MS_AUTH"] }`,
  '{ if (!match($0, / [A-Za-z][A-Za-z0-9_.-]*\\[[0-9]+\\]: /)) next',
  '  pre = substr($0, RSTART + 1, RLENGTH - 1); body = substr($0, RSTART + RLENGTH)',
  '  prog = pre; sub(/\\[.*$/, "", prog)',
  '  if (prog !~ /^(sendmail|sm-mta|sm-msp-queue|sm-[A-Za-z0-9_.-]+)$/) next',
  '  pid = pre; sub(/^[^[]*\\[/, "", pid); sub(/\\].*$/, "", pid)',
  '  if (index(body, "AUTH=server, relay=") == 1) {',
  '    r = substr(body, 20); i = index(r, ", authid="); if (!i) next',
  '    rest = substr(r, i + 9); j = last(rest, ", mech="); if (!j) next',
  '    arelay[pid] = norm(substr(r, 1, i - 1)); aid[pid] = substr(rest, 1, j - 1); next',
  '  }',
  '  if (!match(body, /^[0-9A-Za-z]+: from=/)) next',
  '  q = substr(body, 1, index(body, ":") - 1); if (!(q in want)) next',
  '  rest = substr(body, RLENGTH + 1); k = last(rest, ", relay="); relay = ""; has = 0',
  '  if (k) { relay = substr(rest, k + 8); if (index(relay, ",") == 0) has = 1; relay = norm(relay) }',
  '  p = last(rest, ", proto="); proto = ""',
  '  if (p) { proto = substr(rest, p + 8); sub(/,.*$/, "", proto) }',
  '  authp = (proto == "" || toupper(proto) ~ /^E?SMTPS?A$/)',
  '  res[q] = ((pid in aid) && has && arelay[pid] == relay && authp && aid[pid] != "" && hx(aid[pid]) == who) ? 1 : 0',
  '}',
  'END { for (q in res) if (res[q]) print q }',
].join('\n');

/**
 * The re-check of every located id, in portable awk. Input: "<id> <S> <R> <qf path>" lines (the
 * request's fields, purge-stdin.ts purgeStdinText). ENVIRON: MS_KIND auth|bounce, MS_JOINED
 * " id id … " (kind auth: the ids the log join ties to the auth id), MS_OK file for the
 * "<id> <qf path>" lines of the matched ids. Prints one marker line (match / skip) per id.
 */
export const SENDMAIL_CHECK_AWK = [
  AWK_HEX,
  `function skip(id, why) { print "${PURGE_MARKER} " id " skip " why }`,
  `BEGIN { ${AWK_HEX_BEGIN}; kind = ENVIRON["MS_KIND"]; joined = ENVIRON["MS_JOINED"]; okf = ENVIRON["MS_OK"] }`,
  '{ id = $1; es = $2; er = $3; f = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", f)',
  '  split("", want); if (er != "-") { n = split(substr(er, 2), w, ","); for (k = 1; k <= n; k++) want[w[k]] = 1 }',
  '  snd = ""; hs = 0; nu = 0; rbad = 0',
  '  while ((getline line < f) > 0) {',
  '    if (!hs && line ~ /^S/) { snd = substr(line, 2); hs = 1; continue }',
  // R<flags>:<address>, the address maybe in angle brackets (older qf files: R<address>).
  '    if (line ~ /^R/) { a = substr(line, 2); if (a ~ /^[A-Za-z]*:/) sub(/^[A-Za-z]*:/, "", a); if (a ~ /^<.*>$/) a = substr(a, 2, length(a) - 2)',
  '      nu++; if (!(("x" hx(a)) in want)) rbad = 1; continue }',
  '    if (line ~ /^H/ || line == ".") break }',
  '  close(f)',
  '  if (!hs) { skip(id, "qf file has no sender line (being written?)"); next }',
  // mailq cuts long senders (no closing ">" then: the listing keeps the "<"): a prefix match.
  '  if (es != "-") { e = substr(es, 2); h = hx(snd)',
  '    if (substr(e, 1, 2) == "3c") ok = (index(h, e) == 1); else ok = (h == "3c" e "3e" || h == e)',
  '    if (!ok) { skip(id, "envelope sender changed: id reused?"); next } }',
  '  if (kind == "auth" && index(joined, " " id " ") == 0) { skip(id, "not submitted by this auth id (mail log join)"); next }',
  '  if (kind == "bounce") {',
  '    if (snd != "<>" && snd != "") { skip(id, "not a null-sender message"); next }',
  '    if (er == "-") { skip(id, "no expected recipients: cannot re-check"); next } }',
  '  if (er != "-" && nu == 0) { skip(id, "recipients changed: none is left undelivered"); next }',
  '  if (er != "-" && rbad) { skip(id, "recipients changed: an undelivered recipient is not among the expected ones"); next }',
  `  print "${PURGE_MARKER} " id " match"; print id, f > okf`,
  '}',
].join('\n');

/** Basenames of sendmail's binaries (/proc/PID/exe; Debian's is /usr/lib/sm.bin/sendmail). */
export function sendmailExeNames(ctx: MtaContext): string[] {
  const own = sendmailBinary(ctx).replace(/^.*\//, '');
  return [...new Set(['sendmail', 'sendmail-mta', 'sendmail.sendmail', 'sm-mta', ...(/^[A-Za-z0-9._-]+$/.test(own) ? [own] : [])])];
}

/** The daemon for the purge's pause: the inventory's `mta_pid_file` when set, else the usual pid files. */
function sendmailPurgeProbe(ctx: MtaContext): string {
  const f = ctx.pidFile;
  return pidFileProbe(f !== undefined && /^\/[A-Za-z0-9._/-]+$/.test(f) ? [f] : SENDMAIL_PID_FILES);
}

/** The fixed purge script (its size does not depend on the request; the request is on stdin). */
export function sendmailPurgeCommand(ctx: MtaContext, req: PurgeRequest): string {
  const sendmail = sh`${sendmailBinary(ctx)}`;
  const qdOverride = ctx.queueDirectory;
  const auth = req.match.kind === 'auth';
  const M = PURGE_MARKER;
  const reason = SENDMAIL_QUARANTINE_REASON;
  const lines: string[] = [
    pathLine('/usr/lib'),
    // Queue directory (a "q*" pattern for several queues is expanded by the shell, on purpose).
    qdOverride
      ? sh`qd=${qdOverride}`
      : `qd=$(sed -n 's/^O QueueDirectory=//p' /etc/mail/sendmail.cf 2>/dev/null | head -n 1); [ -n "$qd" ] || qd=/var/spool/mqueue`,
    `for d in $qd; do [ -d "$d" ] && qok=1; done; if [ -z "\${qok:-}" ]; then echo "${M} - abort sendmail queue directory $qd not found"; exit 0; fi`,
    ...stdinPrologue(),
    // loc ID: directory and subdir ("" or "qf/") holding a file with prefix $2 (qf or hf).
    `loc() { for d in $qd; do for s in '' qf/; do if [ -f "$d/$s$2$1" ]; then ld=$d; ls=$s; return 0; fi; done; done; return 1; }`,
    `joined=' '`,
  ];
  if (auth) {
    lines.push(
      sh`l=''; for f in ${(ctx.mailLog ?? SENDMAIL_LOGS)}; do if [ -f "$f" ]; then l=$f; break; fi; done`,
      `if [ -z "$l" ]; then echo "${M} - abort no mail log found: the auth join cannot be re-checked"; exit 0; fi`,
      `ja='${SENDMAIL_JOIN_AWK}'`,
      `lf=$l; [ -f "$l.1" ] && lf="$l.1 $l"`,
      // Ids and the auth id's hex come from the request file: environment values, never code.
      `joined=" $(grep -hF -e 'AUTH=server, ' -e ': from=' $lf | MS_IDS="$(${STDIN_IDS} | tr '\n' ' ')" MS_AUTH="$(sed -n 's/^A //p' "$t")" LC_ALL=C awk "$ja" | tr '\n' ' ') "`,
    );
  }
  const after =
    req.mode === 'hold'
      ? `echo "${M} $id done quarantined"`
      : `rm -f "$ld/\${ls}hf$id" "$ld/df$id" "$ld/df/df$id" "$ld/xf$id" "$ld/xf/xf$id"; ` +
        `if [ -e "$ld/\${ls}hf$id" ] || [ -e "$ld/df$id" ] || [ -e "$ld/df/df$id" ]; then echo "${M} $id fail queue files still there"; else echo "${M} $id done removed"; fi`;
  lines.push(
    `ca='${SENDMAIL_CHECK_AWK}'`,
    runnerPauseFragment({ probe: sendmailPurgeProbe(ctx), exe: sendmailExeNames(ctx) }),
    // Pause first: what is re-checked stays true until the quarantine has run.
    `ms_pause`,
    `: >"$t.loc"; while read -r id es er; do case "$id" in A|.|'') continue;; *[!0-9A-Za-z]*) continue;; esac; ` +
      `if loc "$id" qf; then echo "$id $es $er $ld/\${ls}qf$id" >>"$t.loc"; elif loc "$id" hf; then echo "${M} $id skip already quarantined"; else echo "${M} $id skip gone: no qf file"; fi; done <"$t"`,
    `: >"$t.ok"; LC_ALL=C MS_KIND=${auth ? 'auth' : 'bounce'} MS_JOINED="$joined" MS_OK="$t.ok" awk "$ca" "$t.loc"`,
    `if [ -s "$t.ok" ]; then`,
    `  cp "$t.ok" "$t.todo"; r=0`,
    `  while [ -s "$t.todo" ] && [ "$r" -lt 3 ]; do r=$((r+1))`,
    `    ms_free "$t.todo"`,
    // Ids are validated ([0-9A-Za-z]): safe as words for xargs.
    `    cut -d' ' -f1 "$t.todo" | sed 's/^/-qI/' | xargs ${sendmail} -Q${reason} 2>&1 | sed 's/^/| /'`,
    `    : >"$t.left"; while read -r id f; do if loc "$id" qf; then echo "$id $f" >>"$t.left"; fi; done <"$t.todo"; mv "$t.left" "$t.todo"`,
    `  done`,
    `  while read -r id f; do if loc "$id" qf; then echo "${M} $id fail not quarantined (locked by a process that is not the MTA's, or taken again): left in the queue"; ` +
      `elif ! loc "$id" hf; then echo "${M} $id fail gone while quarantining (delivered?)"; ` +
      `elif ! grep -qx 'q${reason}' "$ld/\${ls}hf$id"; then echo "${M} $id fail quarantined with another reason: not touched"; ` +
      `else ${after}; fi; done <"$t.ok"`,
    `fi`,
  );
  return lines.join('\n');
}

export function sendmailPurge(ctx: MtaContext, req: PurgeRequest): ReadPlan<PurgeResult> {
  // kind auth needs the listed sender per id (qf S line); for bounces it is '<>' anyway.
  const prep = prepareStdinPurge(req, SENDMAIL_ID, 'sendmail', (r) => r.match.kind === 'auth');
  const ids = prep.ids;
  return {
    command: ids.length === 0 ? 'true' : sendmailPurgeCommand(ctx, req),
    ...(ids.length === 0 ? {} : { stdin: purgeStdinText(req, ids) }),
    parse: (stdout, stderr, code) =>
      parsePurgeOutput(stdout, stderr, code, { sent: ids, preSkipped: prep.skipped, tool: `sendmail -Q${SENDMAIL_QUARANTINE_REASON}` }),
  };
}


export function sendmailRestart(_ctx: MtaContext): ReadPlan<RestartResult> {
  const probe = pidFileProbe(SENDMAIL_PID_FILES);
  return {
    command: [
      ...restartPrologue(probe),
      // A purge killed outright (SIGKILL: no trap) may have left the daemon SIGSTOPped until its
      // watchdog fires: a stopped daemon ignores the init script's SIGTERM. Wake it first.
      RESUME_DAEMON,
      serviceRestartFragment(['sendmail']),
      waitRunningFragment(probe),
    ].join('\n'),
    parse: (stdout, stderr, code) => parseRestartOutput(stdout, stderr, code, 'sendmail'),
  };
}

export const sendmailOps: MtaOperations = { restart: sendmailRestart, purge: sendmailPurge };
