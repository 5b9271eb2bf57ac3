// Postfix incident operations: purge / hold re-checking each queue file with `postcat -e -q`,
// then `postsuper -d -` (delete) or `postsuper -h -` (hold) with the matching ids on stdin;
// restart through systemd / init script, checked with `postfix status`.
//
// Re-check per id, in the same command as the removal (postcat -e prints envelope records
// only: never headers or body, so message content cannot pass for a record):
//   - kind auth: a line exactly "named_attribute: sasl_username=<authId>" (grep -qxF);
//   - kind bounce: the sender record is empty (a line exactly "sender: ");
//   - with request.expect: a line exactly "sender: <sender>".

import { sh } from '../transport/quote.js';
import {
  PURGE_MARKER,
  fitCommand,
  parsePurgeOutput,
  parseRestartOutput,
  preparePurge,
  restartPrologue,
  serviceRestartFragment,
  waitRunningFragment,
  type PreparedPurge,
} from './common-ops.js';
import { pathLine } from './util.js';
import type { MtaContext, MtaOperations, PurgeRequest, PurgeResult, ReadPlan, RestartResult } from './types.js';

/** Short (hex) and long (enable_long_queue_ids) queue ids. */
export const POSTFIX_ID_SHAPE = /[0-9A-Za-z]{5,32}/;

function toolOf(ctx: MtaContext, tool: string): string {
  const b = ctx.binary?.trim();
  if (!b || !b.includes('/')) return tool;
  return `${b.slice(0, b.lastIndexOf('/') + 1)}${tool}`;
}

function configArg(ctx: MtaContext): string {
  const c = ctx.vars?.configDir;
  return typeof c === 'string' && c.trim() !== '' ? sh` -c ${c.trim()}` : '';
}

export function postfixPurgeCommand(ctx: MtaContext, req: PurgeRequest, prep: PreparedPurge): { command: string; ids: string[] } {
  const cfg = configArg(ctx);
  const postcat = sh`${toolOf(ctx, 'postcat')}` + cfg;
  const postsuper = sh`${toolOf(ctx, 'postsuper')}` + cfg;
  const test =
    req.match.kind === 'auth'
      ? sh`printf '%s\\n' "$e" | grep -qxF -e ${`named_attribute: sasl_username=${req.match.authId}`}`
      : `printf '%s\\n' "$e" | grep -qx 'sender: '`;
  const postconf = sh`${toolOf(ctx, 'postconf')}` + cfg;
  const qdOverride = typeof ctx.vars?.queue_directory === 'string' && ctx.vars.queue_directory.trim() !== '' ? ctx.vars.queue_directory.trim() : undefined;
  const head = [
    pathLine(),
    qdOverride ? sh`qd=${qdOverride}` : `qd=$(${postconf} -h queue_directory 2>/dev/null)`,
    `if [ -z "$qd" ] || [ ! -d "$qd" ]; then echo "${PURGE_MARKER} - abort postfix queue directory not found"; exit 0; fi`,
    // The queue files present, by name (= queue id), in one pass: postcat -q on a missing id
    // retries for about a second, far too slow for hundreds of gone or deleted ids.
    `present() { ( cd "$qd" && find incoming active deferred hold maildrop -type f 2>/dev/null ) | sed 's#.*/##' | tr '\n' ' '; }`,
    `have=" $(present) "`,
    `ok=''`,
    // chk ID [SENDER-LINE]: gone when no queue file has its name; postcat re-reads the envelope.
    `chk() { case "$have" in *" $1 "*) ;; *) echo "${PURGE_MARKER} $1 skip gone: not in the queue"; return;; esac; ` +
      `e=$(${postcat} -e -q "$1" 2>&1) || { echo "${PURGE_MARKER} $1 skip gone: not in the queue"; return; }; ` +
      `printf '%s\\n' "$e" | grep -q '^[*][*][*] ENVELOPE RECORDS ' || { echo "${PURGE_MARKER} $1 skip queue file not readable"; return; }; ` +
      `if [ $# -gt 1 ] && ! printf '%s\\n' "$e" | grep -qxF -e "$2"; then echo "${PURGE_MARKER} $1 skip envelope sender changed: id reused?"; return; fi; ` +
      `if ${test}; then echo "${PURGE_MARKER} $1 match"; ok="$ok $1"; else echo "${PURGE_MARKER} $1 skip ${req.match.kind === 'auth' ? 'not submitted by this auth id' : 'not a null-sender message'}"; fi; }`,
  ];
  const lines = prep.ids.map((id) => {
    const exp = req.expect?.[id];
    return exp === undefined ? sh`chk ${id}` : sh`chk ${id} ${`sender: ${exp.sender}`}`;
  });
  const verify =
    req.mode === 'delete'
      ? `case "$have" in *" $id "*) echo "${PURGE_MARKER} $id fail still in the queue";; *) echo "${PURGE_MARKER} $id done removed";; esac`
      : `if ${postcat} -e -q "$id" 2>/dev/null | grep -q '^[*][*][*] ENVELOPE RECORDS hold/'; then echo "${PURGE_MARKER} $id done held"; else echo "${PURGE_MARKER} $id fail not in the hold queue"; fi`;
  const tail = [
    `if [ -n "$ok" ]; then printf '%s\\n' $ok | ${postsuper} ${req.mode === 'delete' ? '-d' : '-h'} - 2>&1 | sed 's/^/| /'; ` +
      `have=" $(present) "; for id in $ok; do ${verify}; done; fi`,
  ];
  const fixed = head.join('\n').length + tail.join('\n').length + 2;
  const fit = fitCommand(prep.ids, lines, fixed, prep);
  return { command: [...head, ...fit.lines, ...tail].join('\n'), ids: fit.ids };
}

/** postsuper's own words: "postsuper: ID: removed" / "postsuper: ID: placed on hold". */
export function postfixConfirmed(mode: 'delete' | 'hold'): (id: string, lines: string[]) => boolean {
  const want = mode === 'delete' ? 'removed' : 'placed on hold';
  return (id, lines) => lines.some((l) => new RegExp(`^postsuper(?:\\[\\d+\\])?: ${id}: ${want}$`).test(l));
}

export function postfixPurge(ctx: MtaContext, req: PurgeRequest): ReadPlan<PurgeResult> {
  const prep = preparePurge(req, POSTFIX_ID_SHAPE, 'postfix');
  const pre = prep.skipped;
  const { command, ids } = prep.ids.length === 0 ? { command: 'true', ids: [] as string[] } : postfixPurgeCommand(ctx, req, prep);
  const tool = `postsuper ${req.mode === 'delete' ? '-d' : '-h'}`;
  return {
    command,
    parse: (stdout, stderr, code) => {
      const r = parsePurgeOutput(stdout, stderr, code, { sent: ids, preSkipped: pre, confirmed: postfixConfirmed(req.mode), tool });
      // postsuper's summary ("Deleted: N messages" / "Placed on hold: N messages") must agree.
      const summary = new RegExp(`^\\| postsuper(?:\\[\\d+\\])?: ${req.mode === 'delete' ? 'Deleted' : 'Placed on hold'}: (\\d+) messages?$`, 'm').exec(stdout);
      if (summary && Number(summary[1]) !== r.done.length)
        r.warnings.push(`postsuper reports ${summary[1]} message(s), ${r.done.length} verified`);
      return r;
    },
  };
}

export function postfixRestart(ctx: MtaContext): ReadPlan<RestartResult> {
  const postfix = sh`${toolOf(ctx, 'postfix')}` + configArg(ctx);
  const postconf = sh`${toolOf(ctx, 'postconf')}` + configArg(ctx);
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
