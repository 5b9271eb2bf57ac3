// Exim incident operations: purge / hold by re-checking each spool -H file on the server,
// then `exim -Mrm` (delete) or `exim -Mf` (freeze); restart through systemd / init script.
//
// Re-check per id, in the same command as the removal:
//   - the -H file exists (flat input/ or split input/<6th char of the id>/);
//   - kind auth: one of the envelope's hyphen lines is exactly "-auth_id <authId>" or
//     "--auth_id <authId>" (tainted), compared with grep -qxF (fixed strings, whole line);
//   - kind bounce: line 3 (the sender) is exactly "<>";
//   - with request.expect: line 3 is exactly "<sender>".
// Only the envelope (lines 5.. up to the first non-hyphen line, -acl values skipped by their
// byte length) is compared, so a header or recipient cannot pass for an -auth_id line.

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
import { pathLine } from './util.js';
import type { MtaContext, MtaOperations, PurgeRequest, PurgeResult, ReadPlan, RestartResult } from './types.js';

const B62 = '[0-9A-Za-z]';
/** 6-11-4 since 4.97 (16VDhn-000000001bo-D342), 6-6-2 before (1WDQrg-0001Wf-1W). */
export const EXIM_ID_SHAPE = new RegExp(`${B62}{6}-(?:${B62}{11}-${B62}{4}|${B62}{6}-${B62}{2})`);

function binaryOf(ctx: MtaContext): string {
  return ctx.binary && ctx.binary.trim() !== '' ? ctx.binary.trim() : 'exim';
}

/** The envelope's hyphen lines (from line 5), -acl values skipped; LC_ALL=C so length() is bytes. */
const ENVELOPE_AWK = `NR<5{next} s>0{s-=length($0)+1;next} !/^-/{exit} {print; if($0~/^--?acl[cm]? .* [0-9]+$/)s=$NF+1}`;

export function eximPurgeCommand(ctx: MtaContext, req: PurgeRequest, prep: PreparedPurge): { command: string; ids: string[] } {
  const bin = binaryOf(ctx);
  const spoolOverride = typeof ctx.vars?.spool_directory === 'string' && ctx.vars.spool_directory.trim() !== '' ? ctx.vars.spool_directory.trim() : undefined;
  const tool = req.mode === 'delete' ? '-Mrm' : '-Mf';
  const test =
    req.match.kind === 'auth'
      ? sh`LC_ALL=C awk "$aw" "$f" | grep -qxF -e ${`-auth_id ${req.match.authId}`} -e ${`--auth_id ${req.match.authId}`}`
      : `[ "$(sed -n 3p "$f")" = '<>' ]`;
  const head = [
    pathLine(),
    spoolOverride ? sh`sp=${spoolOverride}` : sh`sp=$(${bin} -bP spool_directory 2>/dev/null) || sp=''; sp=\${sp#*= }`,
    `if [ -z "$sp" ] || [ ! -d "$sp/input" ]; then echo "${PURGE_MARKER} - abort exim spool directory not found"; exit 0; fi`,
    `aw='${ENVELOPE_AWK}'`,
    // hp ID: the -H path (flat, else split by the id's 6th character), or '' when neither exists.
    `hp() { t=\${1#?????}; c=\${t%"\${t#?}"}; if [ -f "$sp/input/$1-H" ]; then echo "$sp/input/$1-H"; elif [ -f "$sp/input/$c/$1-H" ]; then echo "$sp/input/$c/$1-H"; fi; }`,
    `ok=''`,
    // chk ID [SENDER-LINE]
    `chk() { f=$(hp "$1"); if [ -z "$f" ]; then echo "${PURGE_MARKER} $1 skip gone: no spool -H file"; return; fi; ` +
      `if [ $# -gt 1 ] && [ "$(sed -n 3p "$f")" != "$2" ]; then echo "${PURGE_MARKER} $1 skip envelope sender changed: id reused?"; return; fi; ` +
      `if ${test}; then echo "${PURGE_MARKER} $1 match"; ok="$ok $1"; else echo "${PURGE_MARKER} $1 skip ${req.match.kind === 'auth' ? 'not submitted by this auth id' : 'not a null-sender message'}"; fi; }`,
  ];
  const lines = prep.ids.map((id) => {
    const exp = req.expect?.[id];
    return exp === undefined ? sh`chk ${id}` : sh`chk ${id} ${`<${exp.sender}>`}`;
  });
  const verify =
    req.mode === 'delete'
      ? `if [ -z "$(hp "$id")" ]; then echo "${PURGE_MARKER} $id done removed"; else echo "${PURGE_MARKER} $id fail -H file still in the spool"; fi`
      : `f=$(hp "$id"); if [ -n "$f" ] && LC_ALL=C awk "$aw" "$f" | grep -q '^-frozen '; then echo "${PURGE_MARKER} $id done frozen"; else echo "${PURGE_MARKER} $id fail not frozen"; fi`;
  const tail = [
    // Ids are validated ([0-9A-Za-z-], never a leading '-'): safe as unquoted words for xargs.
    `if [ -n "$ok" ]; then printf '%s\\n' $ok | xargs ${sh`${bin}`} ${tool} 2>&1 | sed 's/^/| /'; ` +
      `for id in $ok; do ${verify}; done; fi`,
  ];
  const fixed = head.join('\n').length + tail.join('\n').length + 2;
  const fit = fitCommand(prep.ids, lines, fixed, prep);
  return { command: [...head, ...fit.lines, ...tail].join('\n'), ids: fit.ids };
}

/** exim's own words: "Message X has been removed" (…"or did not exist"), "is now frozen", "is already frozen". */
export function eximConfirmed(mode: 'delete' | 'hold'): (id: string, lines: string[]) => boolean {
  return (id, lines) =>
    lines.some((l) =>
      mode === 'delete'
        ? l.startsWith(`Message ${id} has been removed`)
        : l === `Message ${id} is now frozen` || l === `Message ${id} is already frozen`,
    );
}

export function eximPurge(ctx: MtaContext, req: PurgeRequest): ReadPlan<PurgeResult> {
  const prep = preparePurge(req, EXIM_ID_SHAPE, 'exim');
  const skippedBefore = prep.skipped;
  const { command, ids } =
    prep.ids.length === 0 ? { command: 'true', ids: [] as string[] } : eximPurgeCommand(ctx, req, prep);
  const tool = `exim ${req.mode === 'delete' ? '-Mrm' : '-Mf'}`;
  return {
    command,
    parse: (stdout, stderr, code) =>
      parsePurgeOutput(stdout, stderr, code, { sent: ids, preSkipped: skippedBefore, confirmed: eximConfirmed(req.mode), tool }),
  };
}

/** Debian/Ubuntu: exim4; RHEL, cPanel, source builds: exim. */
export const EXIM_UNITS = ['exim4', 'exim'] as const;
export const EXIM_PID_FILES = ['/run/exim4/exim.pid', '/var/run/exim4/exim.pid', '/run/exim.pid', '/var/run/exim.pid', '/var/spool/exim/exim-daemon.pid', '/var/spool/exim4/exim-daemon.pid'];

/** Pid of the listening daemon: a pid file, else the oldest exim process running -bd. */
function eximProbe(): string {
  return `{ ${pidFileProbe(EXIM_PID_FILES)}; } | head -n 1 | grep . || pgrep -o -f '^[^ ]*exim[^ ]* .*-bd' 2>/dev/null`;
}

export function eximRestart(_ctx: MtaContext): ReadPlan<RestartResult> {
  const probe = eximProbe();
  return {
    command: [
      ...restartPrologue(probe),
      serviceRestartFragment(EXIM_UNITS),
      waitRunningFragment(probe),
    ].join('\n'),
    parse: (stdout, stderr, code) => parseRestartOutput(stdout, stderr, code, 'exim'),
  };
}

export const eximOps: MtaOperations = { restart: eximRestart, purge: eximPurge };
