// qmail incident operations (no lab host: documented behaviour, qmHandle style).
//
// qmail has no queue tool that deletes, and qmail-send must not run while queue files are
// removed (qmHandle stops it first). A purge is therefore:
//   1. re-check every id (the inode number qmail-qread prints): its info/<split>/<id> file
//      exists and names the sender the listing showed ("F<sender>\0"); kind bounce: empty;
//   2. stop qmail-send (qmailctl stop, else svc -d /service/qmail-send, else the init
//      script) and wait until no qmail-send runs — if it does not stop, nothing is touched;
//   3. remove the id's file from every queue subdirectory (mess, info, local, remote: split
//      by conf-split; intd, todo: split or not, depending on the build; bounce), re-checking
//      the info file once more now that qmail-send is down;
//   4. start qmail-send again.
// qmail records no SMTP AUTH user in the queue, so kind auth is matched by the expected
// sender per id only (request.expect is required), and there is no hold.

import { sh } from '../transport/quote.js';
import {
  PURGE_MARKER,
  RESTART_MARKER,
  beforeFragment,
  fitCommand,
  parsePurgeOutput,
  parseRestartOutput,
  preparePurge,
  type PreparedPurge,
} from './common-ops.js';
import type { MtaContext, MtaOperations, PurgeRequest, PurgeResult, ReadPlan, RestartResult } from './types.js';

/** qmail-qread's "#<inode>". */
export const QMAIL_ID_SHAPE = /[0-9]{1,20}/;
export const QMAIL_SUBDIRS = ['mess', 'info', 'local', 'remote', 'intd', 'todo', 'bounce'] as const;

function qmailHome(ctx: MtaContext): string {
  const v = ctx.vars?.qmailDir;
  return (typeof v === 'string' && v.trim() !== '' ? v.trim() : '/var/qmail').replace(/\/+$/, '');
}

function queueDir(ctx: MtaContext): string {
  const v = ctx.vars?.queue_directory;
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : `${qmailHome(ctx)}/queue`;
}

/** Shell fragments to stop / start qmail-send: qmailctl, daemontools, or the init script. */
const CONTROL = [
  `qctl() { if command -v qmailctl >/dev/null 2>&1; then qmailctl "$1"; ` +
    `elif [ -d /service/qmail-send ] && command -v svc >/dev/null 2>&1; then if [ "$1" = stop ]; then svc -d /service/qmail-send; elif [ "$1" = start ]; then svc -u /service/qmail-send; else svc -t /service/qmail-send; fi; ` +
    `elif [ -x /etc/init.d/qmail ]; then /etc/init.d/qmail "$1"; else echo "no qmailctl, /service/qmail-send or /etc/init.d/qmail"; return 1; fi; }`,
  `qsend() { pgrep -x qmail-send 2>/dev/null | head -n 1; }`,
];

export function qmailPurgeCommand(ctx: MtaContext, req: PurgeRequest, prep: PreparedPurge): { command: string; ids: string[] } {
  const q = queueDir(ctx);
  const head = [
    `PATH="$PATH:${qmailHome(ctx).replace(/[^A-Za-z0-9_./-]/g, '')}/bin:/usr/sbin:/sbin:/usr/local/sbin:/usr/local/bin"; export PATH`,
    sh`q=${q}`,
    `if [ ! -d "$q/info" ] || [ ! -d "$q/mess" ]; then echo "${PURGE_MARKER} - abort qmail queue $q not found"; exit 0; fi`,
    ...CONTROL,
    // inf ID: the info file (info/<split>/ID), or nothing.
    `inf() { for f in "$q"/info/*/"$1" "$q/info/$1"; do if [ -f "$f" ]; then echo "$f"; return; fi; done; }`,
    // same ID SENDER: the info file's sender is exactly SENDER (the file is "F<sender>\\0").
    `same() { f=$(inf "$1"); [ -n "$f" ] && [ "$(tr '\\000' '\\n' <"$f" | head -n 1)" = "F$2" ]; }`,
    `ok=''`,
    `chk() { if [ -z "$(inf "$1")" ]; then echo "${PURGE_MARKER} $1 skip gone: no info file"; return; fi; ` +
      `if ! same "$1" "$2"; then echo "${PURGE_MARKER} $1 skip ${req.match.kind === 'bounce' ? 'not a null-sender message' : 'envelope sender changed: id reused?'}"; return; fi; ` +
      `echo "${PURGE_MARKER} $1 match"; ok="$ok $1"; }`,
  ];
  const lines = prep.ids.map((id) => {
    const sender = req.match.kind === 'bounce' ? '' : (req.expect?.[id]?.sender ?? '');
    return sh`chk ${id} ${sender}`;
  });
  const dirs = QMAIL_SUBDIRS.join(' ');
  // Phase 2 runs the same "chk ID SENDER" lines again with chk redefined as the remover:
  // the sender travels only as a quoted argument, never through a list that is re-split.
  const remover =
    `    chk() { case "$ok " in *" $1 "*) ;; *) return;; esac; ` +
    `if ! same "$1" "$2"; then echo "${PURGE_MARKER} $1 skip changed while qmail-send was stopped"; return; fi; ` +
    `for sub in ${dirs}; do rm -f "$q/$sub/$1" "$q/$sub"/*/"$1"; done; left=''; ` +
    `for sub in ${dirs}; do for f in "$q/$sub/$1" "$q/$sub"/*/"$1"; do [ -e "$f" ] && left="$left \${f#"$q"/}"; done; done; ` +
    `if [ -z "$left" ]; then echo "${PURGE_MARKER} $1 done removed"; else echo "${PURGE_MARKER} $1 fail files left:$left"; fi; }`;
  const fixed = head.join('\n').length + remover.length + 600;
  // Every id line appears twice (check, then remove): budget for both.
  const fit = fitCommand(prep.ids, lines.map((l) => l + l), fixed, prep);
  const idLines = lines.slice(0, fit.ids.length);
  const tail = [
    `if [ -n "$ok" ]; then`,
    `  qctl stop 2>&1 | sed 's/^/| /'; i=0; while [ -n "$(qsend)" ] && [ "$i" -lt 40 ]; do i=$((i+1)); sleep 0.5; done`,
    `  if [ -n "$(qsend)" ]; then for id in $ok; do echo "${PURGE_MARKER} $id fail qmail-send did not stop: nothing removed"; done; else`,
    remover,
    ...idLines,
    `  fi`,
    `  qctl start 2>&1 | sed 's/^/| /'`,
    `fi`,
  ];
  return { command: [...head, ...idLines, ...tail].join('\n'), ids: fit.ids };
}

export function qmailPurge(ctx: MtaContext, req: PurgeRequest): ReadPlan<PurgeResult> {
  const prep = preparePurge(req, QMAIL_ID_SHAPE, 'qmail', (r) => r.match.kind === 'auth');
  if (req.mode === 'hold' && !prep.refusal) {
    // qmail cannot hold one message: refuse rather than do something else.
    for (const id of prep.ids) prep.skipped.push({ id, reason: 'qmail has no hold for single messages: not touched' });
    prep.ids = [];
  }
  const pre = prep.skipped;
  const { command, ids } = prep.ids.length === 0 ? { command: 'true', ids: [] as string[] } : qmailPurgeCommand(ctx, req, prep);
  return {
    command,
    parse: (stdout, stderr, code) => parsePurgeOutput(stdout, stderr, code, { sent: ids, preSkipped: pre, tool: 'queue file removal' }),
  };
}

export function qmailRestart(ctx: MtaContext): ReadPlan<RestartResult> {
  const probe = `pgrep -x qmail-send 2>/dev/null | head -n 1`;
  return {
    command: [
      `PATH="$PATH:${qmailHome(ctx).replace(/[^A-Za-z0-9_./-]/g, '')}/bin:/usr/sbin:/sbin:/usr/local/sbin:/usr/local/bin"; export PATH`,
      ...CONTROL,
      beforeFragment(probe),
      `o=$(mktemp 2>/dev/null || echo /tmp/mailsweep-restart.$$)`,
      `if command -v qmailctl >/dev/null 2>&1; then how='qmailctl restart'; elif [ -d /service/qmail-send ]; then how='svc -t /service/qmail-send'; elif [ -x /etc/init.d/qmail ]; then how='/etc/init.d/qmail restart'; else how=none; fi`,
      `echo "${RESTART_MARKER} how $how"`,
      `if [ "$how" != none ]; then qctl restart </dev/null >"$o" 2>&1; rrc=$?; sed 's/^/| /' "$o" | tail -n 20; fi; rm -f "$o"`,
      `echo "${RESTART_MARKER} rc \${rrc:-1}"`,
      `pid=''; i=0; while [ "$i" -lt 40 ]; do pid=$( ${probe} ); [ -n "$pid" ] && break; i=$((i+1)); sleep 0.5; done`,
      `if [ -n "$pid" ]; then echo "${RESTART_MARKER} running $pid"; else echo "${RESTART_MARKER} down"; fi`,
    ].join('\n'),
    parse: (stdout, stderr, code) => parseRestartOutput(stdout, stderr, code, 'qmail-send'),
  };
}

export const qmailOps: MtaOperations = { restart: qmailRestart, purge: qmailPurge };
