// Sendmail incident operations. Sendmail has no delete command, so a purge is:
//   1. re-check every id on the server: its qf file still exists, its S line is the sender
//      the listing showed (request.expect: a reused id is never touched), and for kind auth
//      the mail-log join (AUTH=server line of the same pid and relay → from= line of the id,
//      the same rule as attribution, done in awk on the server) still names the auth id;
//      for kind bounce the S line is the null sender;
//   2. quarantine the matching ids with sendmail's own `sendmail -qI<id>… -Qmailsweep`
//      (qf → hf: no queue runner picks them up any more; a job that is being delivered is
//      locked and left alone by sendmail);
//   3. delete: remove hf + df (+ xf) of the jobs WE quarantined (hf carries "qmailsweep");
//      hold: leave them quarantined (mailq -qQ lists them; sendmail -qQ -qI<id> -Q releases).

import { sh } from '../transport/quote.js';
import {
  PURGE_MARKER,
  fitCommand,
  parsePurgeOutput,
  parseRestartOutput,
  pidFileProbe,
  preparePurge,
  restartPrologue,
  serviceRestartFragment,
  waitRunningFragment,
  type PreparedPurge,
} from './common-ops.js';
import { mailLogsOf, pathLine } from './util.js';
import type { MtaContext, MtaOperations, PurgeRequest, PurgeResult, ReadPlan, RestartResult } from './types.js';

/** 14 characters since 8.12 (12 before); mailq's own parser accepts 6-20. */
export const SENDMAIL_ID_SHAPE = /[0-9A-Za-z]{8,20}/;
/** The quarantine reason mailsweep sets (and requires before deleting an hf file). */
export const SENDMAIL_QUARANTINE_REASON = 'mailsweep';


function sendmailOf(ctx: MtaContext): string {
  const b = ctx.binary?.trim();
  if (!b) return 'sendmail';
  if (/(^|\/)mailq$/.test(b)) return b.includes('/') ? `${b.slice(0, b.lastIndexOf('/') + 1)}sendmail` : 'sendmail';
  return b;
}

/**
 * The log join, in portable awk (mawk, gawk, busybox). Input: the mail log filtered to
 * AUTH=server and from= lines. ENVIRON: MS_IDS (space-separated ids), MS_AUTH (the auth id,
 * compared as a string, never as a pattern). Prints each wanted id whose LATEST from= line
 * joins (same pid, same relay, authenticated protocol or none named) to an AUTH=server line
 * naming exactly MS_AUTH. Mirrors parseSendmailAuthLog in sendmail.ts.
 */
export const SENDMAIL_JOIN_AWK = [
  'function last(s, t,  i, p) { p = 0; while ((i = index(substr(s, p + 1), t)) > 0) p += i; return p }',
  'function norm(r) { sub(/[ ]*\\(may be forged\\)[ ]*$/, "", r); sub(/^[ ]+/, "", r); sub(/[ ]+$/, "", r); return r }',
  'BEGIN { n = split(ENVIRON["MS_IDS"], a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1; who = ENVIRON["MS_AUTH"] }',
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
  '  res[q] = ((pid in aid) && has && arelay[pid] == relay && authp && aid[pid] != "" && aid[pid] == who) ? 1 : 0',
  '}',
  'END { for (q in res) if (res[q]) print q }',
].join('\n');

export function sendmailPurgeCommand(ctx: MtaContext, req: PurgeRequest, prep: PreparedPurge): { command: string; ids: string[] } {
  const sendmail = sh`${sendmailOf(ctx)}`;
  const qdOverride = typeof ctx.vars?.queue_directory === 'string' && ctx.vars.queue_directory.trim() !== '' ? ctx.vars.queue_directory.trim() : undefined;
  const auth = req.match.kind === 'auth';
  const authId = req.match.kind === 'auth' ? req.match.authId : '';
  const head: string[] = [
    pathLine('/usr/lib'),
    // Queue directory (a "q*" pattern for several queues is expanded by the shell, on purpose).
    qdOverride
      ? sh`qd=${qdOverride}`
      : `qd=$(sed -n 's/^O QueueDirectory=//p' /etc/mail/sendmail.cf 2>/dev/null | head -n 1); [ -n "$qd" ] || qd=/var/spool/mqueue`,
    `for d in $qd; do [ -d "$d" ] && qok=1; done; if [ -z "\${qok:-}" ]; then echo "${PURGE_MARKER} - abort sendmail queue directory $qd not found"; exit 0; fi`,
    // loc ID: directory and subdir ("" or "qf/") holding a file with prefix $2 (qf or hf).
    `loc() { for d in $qd; do for s in '' qf/; do if [ -f "$d/$s$2$1" ]; then ld=$d; ls=$s; return 0; fi; done; done; return 1; }`,
  ];
  if (auth) {
    head.push(
      sh`l=''; for f in ${mailLogsOf(ctx)}; do if [ -f "$f" ]; then l=$f; break; fi; done`,
      `if [ -z "$l" ]; then echo "${PURGE_MARKER} - abort no mail log found: the auth join cannot be re-checked"; exit 0; fi`,
      `ja='${SENDMAIL_JOIN_AWK}'`,
      `lf=$l; [ -f "$l.1" ] && lf="$l.1 $l"`,
      // Ids are validated ([0-9A-Za-z]), MS_AUTH is quoted: it is compared as a string in awk.
      sh`joined=" $(grep -hF -e 'AUTH=server, ' -e ': from=' $lf | MS_IDS=${prep.ids.join(' ')} MS_AUTH=${authId} LC_ALL=C awk "$ja" | tr '\\n' ' ') "`,
    );
  }
  const kindTest = auth
    ? `case "$joined" in *" $1 "*) ;; *) echo "${PURGE_MARKER} $1 skip not submitted by this auth id (mail log join)"; return;; esac`
    : `if [ "$sl" != 'S<>' ] && [ "$sl" != 'S' ]; then echo "${PURGE_MARKER} $1 skip not a null-sender message"; return; fi`;
  head.push(
    `ok=''`,
    // chk ID [SENDER]: qf still there, its S line the expected sender, then the kind's test.
    `chk() { if ! loc "$1" qf; then if loc "$1" hf; then echo "${PURGE_MARKER} $1 skip already quarantined"; else echo "${PURGE_MARKER} $1 skip gone: no qf file"; fi; return; fi; ` +
      `sl=$(sed -n '/^S/{p;q;}' "$ld/\${ls}qf$1"); ` +
      // mailq cuts long senders (no closing ">" then: the listing keeps the "<"): a prefix match.
      `if [ $# -gt 1 ]; then case "$2" in '<'*) case "$sl" in "S$2"*) se=1;; *) se=0;; esac;; *) se=0; [ "$sl" = "S<$2>" ] || [ "$sl" = "S$2" ] && se=1;; esac; ` +
      `if [ "$se" = 0 ]; then echo "${PURGE_MARKER} $1 skip envelope sender changed: id reused?"; return; fi; fi; ` +
      `${kindTest}; echo "${PURGE_MARKER} $1 match"; ok="$ok $1"; }`,
  );
  const lines = prep.ids.map((id) => {
    const exp = req.expect?.[id];
    return exp === undefined ? sh`chk ${id}` : sh`chk ${id} ${exp.sender}`;
  });
  const reason = SENDMAIL_QUARANTINE_REASON;
  const after =
    req.mode === 'hold'
      ? `echo "${PURGE_MARKER} $id done quarantined"`
      : `rm -f "$ld/\${ls}hf$id" "$ld/df$id" "$ld/df/df$id" "$ld/xf$id" "$ld/xf/xf$id"; ` +
        `if [ -e "$ld/\${ls}hf$id" ] || [ -e "$ld/df$id" ] || [ -e "$ld/df/df$id" ]; then echo "${PURGE_MARKER} $id fail queue files still there"; else echo "${PURGE_MARKER} $id done removed"; fi`;
  const tail = [
    `if [ -n "$ok" ]; then printf -- '-qI%s\\n' $ok | xargs ${sendmail} -Q${reason} 2>&1 | sed 's/^/| /'; ` +
      `for id in $ok; do if loc "$id" qf; then echo "${PURGE_MARKER} $id fail not quarantined (being delivered?): left in the queue"; ` +
      `elif ! loc "$id" hf; then echo "${PURGE_MARKER} $id fail gone while quarantining (delivered?)"; ` +
      `elif ! grep -qx 'q${reason}' "$ld/\${ls}hf$id"; then echo "${PURGE_MARKER} $id fail quarantined with another reason: not touched"; ` +
      `else ${after}; fi; done; fi`,
  ];
  const fixed = head.join('\n').length + tail.join('\n').length + 2;
  const fit = fitCommand(prep.ids, lines, fixed, prep);
  return { command: [...head, ...fit.lines, ...tail].join('\n'), ids: fit.ids };
}

export function sendmailPurge(ctx: MtaContext, req: PurgeRequest): ReadPlan<PurgeResult> {
  // kind auth needs the listed sender per id (qf S line); for bounces it is '<>' anyway.
  const prep = preparePurge(req, SENDMAIL_ID_SHAPE, 'sendmail', (r) => r.match.kind === 'auth');
  const pre = prep.skipped;
  const { command, ids } = prep.ids.length === 0 ? { command: 'true', ids: [] as string[] } : sendmailPurgeCommand(ctx, req, prep);
  return {
    command,
    parse: (stdout, stderr, code) =>
      parsePurgeOutput(stdout, stderr, code, { sent: ids, preSkipped: pre, tool: `sendmail -Q${SENDMAIL_QUARANTINE_REASON}` }),
  };
}

export const SENDMAIL_PID_FILES = ['/run/sendmail/mta/sendmail.pid', '/var/run/sendmail/mta/sendmail.pid', '/run/sendmail.pid', '/var/run/sendmail.pid'];

export function sendmailRestart(_ctx: MtaContext): ReadPlan<RestartResult> {
  const probe = pidFileProbe(SENDMAIL_PID_FILES);
  return {
    command: [
      ...restartPrologue(probe),
      serviceRestartFragment(['sendmail']),
      waitRunningFragment(probe),
    ].join('\n'),
    parse: (stdout, stderr, code) => parseRestartOutput(stdout, stderr, code, 'sendmail'),
  };
}

export const sendmailOps: MtaOperations = { restart: sendmailRestart, purge: sendmailPurge };
