// Shared pieces of the incident operations (purge / hold / restart): request validation,
// the per-id marker protocol the server-side scripts print, and its pure parser.
//
// Every purge command re-checks each message ON THE SERVER right before touching it and
// prints one verdict line per id:
//
//   __MAILSWEEP_PURGE__ <id> match                 the re-check passed; handed to the MTA's tool
//   __MAILSWEEP_PURGE__ <id> skip <reason words>   left alone (gone, no longer matching, …)
//   __MAILSWEEP_PURGE__ <id> done <what>           deleted / held, verified after the tool ran
//   __MAILSWEEP_PURGE__ <id> fail <reason words>   the tool ran but the message is still there
//   __MAILSWEEP_PURGE__ - abort <reason words>     nothing was touched (spool unknown, …)
//
// The MTA tool's own output is passed through prefixed with "| ", so nothing it prints
// (or a sender/recipient inside it) can pass for a marker. Ids are validated against the
// MTA's id shape before they are put in a command, so a marker id is always shell-safe.

import { sh } from '../transport/quote.js';
import type { PurgeRequest, PurgeResult, RestartResult } from './types.js';
import { capWarnings, failureText, pathLine, printable, splitLines } from './util.js';

export const PURGE_MARKER = '__MAILSWEEP_PURGE__';
export const RESTART_MARKER = '__MAILSWEEP_RESTART__';

/**
 * The command goes to the server as ONE argument of `sh -c` (Linux caps a single argument at
 * 128 KiB): ids that would make it longer than this are not attempted, and say so.
 */
export const MAX_PURGE_COMMAND_BYTES = 96 * 1024;

export interface PreparedPurge {
  /** Ids that go into the command, in request order, without duplicates. */
  ids: string[];
  /** Ids refused before anything is sent (bad shape, no expected sender, …). */
  skipped: { id: string; reason: string }[];
  /** A request-wide refusal: every id is skipped with it and no command touches anything. */
  refusal?: string;
}

/** Control characters make a value impossible to compare as one exact line (grep -F splits on \n). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why an auth id cannot be matched exactly, or null when it can. */
export function authIdProblem(authId: string): string | null {
  if (authId === '') return 'empty auth id';
  if (CONTROL.test(authId)) return 'auth id contains a control character (newline, tab, …): cannot be matched as one exact line';
  return null;
}

/** Why an expected sender cannot be compared exactly, or null when it can. */
export function senderProblem(sender: string): string | null {
  if (CONTROL.test(sender)) return 'expected sender contains a control character';
  return null;
}

/**
 * Dedupe, check the id shape, and apply the request-wide checks (auth id, expected senders).
 * `needSender(id)` says whether this MTA needs `req.expect[id].sender` for the re-check.
 */
export function preparePurge(
  req: PurgeRequest,
  idShape: RegExp,
  mtaLabel: string,
  needSender: (req: PurgeRequest) => boolean = () => false,
): PreparedPurge {
  const ids: string[] = [];
  const skipped: { id: string; reason: string }[] = [];
  const seen = new Set<string>();
  let refusal: string | undefined;
  if (req.match.kind === 'auth') {
    const p = authIdProblem(req.match.authId);
    if (p) refusal = p;
  } else if (req.match.kind !== 'bounce') refusal = `unknown match kind ${printable(String((req.match as { kind: unknown }).kind))}`;
  if (req.mode !== 'delete' && req.mode !== 'hold') refusal = `unknown mode ${printable(String(req.mode))}`;
  const anchored = new RegExp(`^(?:${idShape.source})$`);
  for (const id of req.ids) {
    if (seen.has(id)) continue;
    seen.add(id);
    if (!anchored.test(id)) {
      skipped.push({ id, reason: `not a ${mtaLabel} queue id` });
      continue;
    }
    if (refusal) {
      skipped.push({ id, reason: refusal });
      continue;
    }
    const exp = req.expect?.[id];
    if (exp !== undefined) {
      const sp = senderProblem(exp.sender);
      if (sp) {
        skipped.push({ id, reason: sp });
        continue;
      }
    } else if (needSender(req)) {
      skipped.push({ id, reason: 'no expected sender for this id (request.expect): cannot re-check it' });
      continue;
    }
    ids.push(id);
  }
  return refusal === undefined ? { ids, skipped } : { ids, skipped, refusal };
}

/**
 * Keep as many per-id lines as fit in one command; the rest are skipped with a reason.
 * `lines[i]` belongs to `ids[i]`; `fixed` is the size of everything else in the command.
 */
export function fitCommand(ids: string[], lines: string[], fixed: number, prep: PreparedPurge): { ids: string[]; lines: string[] } {
  let size = fixed;
  let n = 0;
  for (; n < lines.length; n++) {
    const add = (lines[n] ?? '').length + 1;
    if (size + add > MAX_PURGE_COMMAND_BYTES) break;
    size += add;
  }
  for (const id of ids.slice(n)) prep.skipped.push({ id, reason: 'not attempted: too many ids for one command (request them again)' });
  return { ids: ids.slice(0, n), lines: lines.slice(0, n) };
}

const LINE = /^__MAILSWEEP_PURGE__ (\S+) (match|skip|done|fail|abort|paused|resumed|notresumed)(?: (.*))?$/;

export interface PurgeParseOptions {
  /** The ids that went into the command (after preparePurge / fitCommand). */
  sent: string[];
  /** Ids refused before sending. */
  preSkipped: { id: string; reason: string }[];
  /**
   * Confirmation the MTA's own tool printed for this id (e.g. exim "Message X has been
   * removed"): given the "| "-stripped tool lines. Missing confirmation → a warning.
   */
  confirmed?: (id: string, toolLines: string[]) => boolean;
  /** Name of the tool for messages ("exim -Mrm"). */
  tool: string;
}

/** Parse the marker protocol into a PurgeResult. Pure; never throws. */
export function parsePurgeOutput(stdout: string, stderr: string, code: number | null, opts: PurgeParseOptions): PurgeResult {
  const warnings: string[] = [];
  const sent = new Set(opts.sent);
  const verdict = new Map<string, { state: 'match' | 'skip' | 'done' | 'fail'; text: string }>();
  const toolLines: string[] = [];
  let abort: string | null = null;
  const pause: { state: 'paused' | 'resumed' | 'notresumed'; text: string }[] = [];
  const other: string[] = [];
  for (const line of splitLines(stdout)) {
    if (line.startsWith('| ')) {
      toolLines.push(line.slice(2));
      continue;
    }
    if (line === '|') {
      toolLines.push('');
      continue;
    }
    const m = LINE.exec(line);
    if (!m) {
      if (line.trim() !== '') other.push(line);
      continue;
    }
    const id = m[1] ?? '';
    const state = m[2] as 'match' | 'skip' | 'done' | 'fail' | 'abort' | 'paused' | 'resumed' | 'notresumed';
    const text = m[3] ?? '';
    if (state === 'abort') {
      abort = text || 'aborted';
      continue;
    }
    // "- paused <how>" / "- resumed <how>": the queue runner was stopped for the removal and
    // started again; "- notresumed <why>": it was not (a warning: the MTA may be down).
    if (state === 'paused' || state === 'resumed' || state === 'notresumed') {
      pause.push({ state, text: printable(text || state) });
      continue;
    }
    if (!sent.has(id)) {
      warnings.push(`result for an id that was not requested: ${printable(id)}`);
      continue;
    }
    const prev = verdict.get(id);
    // match → done/fail; a skip is final.
    if (prev && prev.state === 'skip') continue;
    verdict.set(id, { state, text });
  }
  if (other.length > 0) warnings.push(`unexpected output: ${failureText(other.join('\n'))}`);
  if (stderr.trim() !== '') warnings.push(`stderr: ${failureText(stderr)}`);

  const done: string[] = [];
  const skipped = [...opts.preSkipped];
  for (const id of opts.sent) {
    const v = verdict.get(id);
    if (!v) {
      skipped.push({ id, reason: abort ? `not attempted: ${abort}` : `no result from the server (exit ${code ?? 'none'})` });
      continue;
    }
    if (v.state === 'skip') skipped.push({ id, reason: v.text || 'skipped' });
    else if (v.state === 'fail') skipped.push({ id, reason: `${opts.tool} did not take effect: ${v.text || 'still queued'}` });
    else if (v.state === 'match') skipped.push({ id, reason: `matched, but no outcome was reported (exit ${code ?? 'none'})` });
    else {
      done.push(id);
      if (opts.confirmed && !opts.confirmed(id, toolLines)) warnings.push(`${id}: verified on the server, but ${opts.tool} printed no confirmation for it`);
    }
  }
  if (abort && opts.sent.length > 0 && done.length === 0 && verdict.size === 0) warnings.push(`aborted: ${abort}`);
  const paused = pause.filter((p) => p.state === 'paused');
  for (const p of pause) if (p.state === 'notresumed') warnings.push(`NOT resumed: ${p.text}`);
  if (paused.length > 0 && !pause.some((p) => p.state !== 'paused'))
    warnings.push(`paused (${paused.map((p) => p.text).join('; ')}) and no report that it was resumed: check the MTA`);
  const notes = pause.map((p) => `${p.state === 'notresumed' ? 'not resumed' : p.state}: ${p.text}`);
  return notes.length > 0 ? { done, skipped, warnings: capWarnings(warnings), notes } : { done, skipped, warnings: capWarnings(warnings) };
}

// ---------------------------------------------------------------------------
// Restart.

/**
 * Shell fragment that serialises restarts on one host. A run killed mid-restart leaves the
 * init script running on the server (sshd sends no signal to a command without a tty), and
 * its --resume restarts again at once: two interleaved `stop; start`s fail ("postmulti already
 * running") or leave the daemon down. flock(1) waits for the other one; the lock goes with
 * this shell. Without flock (not util-linux) restarts are not serialised.
 */
export function restartLockFragment(seconds = 120, lockPath?: string): string {
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`bad lock wait ${seconds}`);
  return [
    `if command -v flock >/dev/null 2>&1; then`,
    // /run is root's own (no symlink games from local users); a non-root login uses its own file.
    lockPath !== undefined
      ? sh`  lk=${lockPath}`
      : `  if [ "$(id -u)" = 0 ] && [ -d /run ] && [ -w /run ]; then lk=/run/mailsweep-restart.lock; else lk="\${TMPDIR:-/tmp}/mailsweep-restart.$(id -u).lock"; fi`,
    // Probe in a subshell first: a failing `exec` redirection would end this shell.
    `  if ( : >>"$lk" ) 2>/dev/null; then exec 9>>"$lk"`,
    `    if ! flock -n 9; then echo "${RESTART_MARKER} waited for another restart"; flock -w ${seconds} 9 || { echo "${RESTART_MARKER} busy ${seconds}"; exit 0; }; fi`,
    `  fi`,
    `fi`,
  ].join('\n');
}

/**
 * Shell fragment that restarts a service the distribution's way and reports how:
 * systemd when /run/systemd/system exists, else the SysV init script, else `service`.
 * `units` are tried in order (the first one that exists is used). The init script's output
 * goes to a temporary file, never to the channel: a daemon that inherits the channel's
 * stdout would keep the command from ever finishing.
 */
export function serviceRestartFragment(units: readonly string[], systemdMarker = '/run/systemd/system'): string {
  for (const u of units) if (!/^[a-z0-9][a-z0-9@._-]*$/.test(u)) throw new Error(`bad unit name ${u}`);
  const list = units.join(' ');
  return [
    `o=$(mktemp 2>/dev/null || echo /tmp/mailsweep-restart.$$); rrc=1; how=''`,
    // systemd is running when this directory exists (sd_booted(3)); a parameter only for tests.
    sh`if [ -d ${systemdMarker} ] && command -v systemctl >/dev/null 2>&1; then`,
    `  u=''; for n in ${list}; do if systemctl cat "$n.service" >/dev/null 2>&1; then u=$n; break; fi; done`,
    `  if [ -n "$u" ]; then how="systemctl restart $u"; systemctl restart "$u.service" </dev/null >"$o" 2>&1 9>&-; rrc=$?; fi`,
    `fi`,
    `if [ -z "$how" ]; then`,
    `  for n in ${list}; do if [ -x "/etc/init.d/$n" ]; then how="/etc/init.d/$n restart"; "/etc/init.d/$n" restart </dev/null >"$o" 2>&1 9>&-; rrc=$?; break; fi; done`,
    `fi`,
    `if [ -z "$how" ] && command -v service >/dev/null 2>&1; then`,
    `  for n in ${list}; do how="service $n restart"; service "$n" restart </dev/null >"$o" 2>&1 9>&-; rrc=$?; [ "$rrc" -eq 0 ] && break; done`,
    `fi`,
    `if [ -z "$how" ]; then echo "${RESTART_MARKER} how none"; else echo "${RESTART_MARKER} how $how"; fi`,
    `sed 's/^/| /' "$o" 2>/dev/null | tail -n 20; rm -f "$o"`,
    `echo "${RESTART_MARKER} rc $rrc"`,
  ].join('\n');
}

/**
 * Shell fragment: wait (up to `seconds`) until `probe` (a fragment printing the daemon's pid,
 * or nothing) finds a live process; prints "running <pid>" or "down".
 */
export function waitRunningFragment(probe: string, seconds = 20): string {
  return [
    `pid=''; i=0`,
    `while [ "$i" -lt ${seconds * 2} ]; do pid=$( ${probe} ); if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then break; fi; pid=''; i=$((i+1)); sleep 0.5; done`,
    `if [ -n "$pid" ]; then echo "${RESTART_MARKER} running $pid"; else echo "${RESTART_MARKER} down"; fi`,
  ].join('\n');
}

/** Probe fragment: the first pid file of `files` that names a live process. */
export function pidFileProbe(files: readonly string[]): string {
  for (const f of files) if (!/^\/[A-Za-z0-9._/-]+$/.test(f)) throw new Error(`bad pid file ${f}`);
  return `for f in ${files.join(' ')}; do if [ -s "$f" ]; then p=$(head -n 1 "$f" | tr -d ' \\t\\r'); if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then echo "$p"; break; fi; fi; done`;
}

/**
 * The start of every restart command: PATH, the host's restart lock (restartLockFragment), and
 * the daemon's pid before. Whatever the command then starts must run with fd 9 closed.
 */
export function restartPrologue(probe: string, path = pathLine()): string[] {
  return [path, restartLockFragment(), beforeFragment(probe)];
}

/** Probe the pid before the restart (printed as "before <pid>"), for the report. */
export function beforeFragment(probe: string): string {
  return `b=$( ${probe} ); echo "${RESTART_MARKER} before \${b:-none}"`;
}

const R_LINE = /^__MAILSWEEP_RESTART__ (how|rc|running|down|before|waited|busy)(?: (.*))?$/;

/** Parse the restart report. ok = the restart command ran and the daemon runs afterwards. */
export function parseRestartOutput(stdout: string, stderr: string, code: number | null, label: string): RestartResult {
  let how: string | null = null;
  let rc: number | null = null;
  let running: string | null = null;
  let down = false;
  let before: string | null = null;
  let waited = false;
  let busy: string | null = null;
  const tool: string[] = [];
  const other: string[] = [];
  for (const line of splitLines(stdout)) {
    if (line.startsWith('| ')) {
      tool.push(line.slice(2));
      continue;
    }
    const m = R_LINE.exec(line);
    if (!m) {
      if (line.trim() !== '') other.push(line);
      continue;
    }
    const v = m[2] ?? '';
    if (m[1] === 'how') how = printable(v); // server text, on its way to the screen and journal
    else if (m[1] === 'rc') rc = /^\d+$/.test(v) ? Number(v) : null;
    else if (m[1] === 'running') running = /^\d+$/.test(v) ? v : null;
    else if (m[1] === 'down') down = true;
    else if (m[1] === 'before') before = v;
    else if (m[1] === 'waited') waited = true;
    else if (m[1] === 'busy') busy = v;
  }
  const parts: string[] = [];
  if (busy !== null)
    return { ok: false, detail: `${label}: not restarted: another restart has held the host's lock for ${busy} s (a killed run's init script still going?); check the MTA, then retry` };
  if (how === null) return { ok: false, detail: `${label}: restart did not run (exit ${code ?? 'none'}): ${failureText(stderr || stdout)}` };
  if (how === 'none') return { ok: false, detail: `${label}: no way to restart found (no systemd unit, init script or service)` };
  parts.push(`${how} exited ${rc ?? '?'}${waited ? ' (after waiting for another restart to finish)' : ''}`);
  if (running !== null) {
    const changed = before !== null && before !== 'none' && before !== running;
    parts.push(`${label} running, pid ${running}${before && before !== 'none' ? (changed ? ` (was ${before})` : ' (same pid as before)') : ''}`);
  } else parts.push(`${label} NOT running afterwards${down ? '' : ' (no status reported)'}`);
  if ((rc ?? 1) !== 0 && tool.length > 0) parts.push(`output: ${failureText(tool.join('\n'))}`);
  if (other.length > 0) parts.push(`unexpected output: ${failureText(other.join('\n'))}`);
  return { ok: running !== null && rc === 0, detail: parts.join('; ') };
}

// ---------------------------------------------------------------------------
// Purge requests on stdin (issue #8): the command is a fixed script; ids, expected senders and
// recipients and the auth id travel on its stdin, each value hex-encoded, and the server compares
// them as hex with the hex of what it reads (od). No quoting, no argv growth (sudo re-quotes
// argv, not stdin), and a value holding ESC, CR, quotes or `$(…)` is compared byte for byte.
//
// The request text, one record a line:
//   A <hex auth id>                          kind auth only, first
//   <id> <S> <R>                             one per id, ids validated against the MTA's shape
//       S: "-" (no expected sender) or "s" + hex of the sender ("s" alone: the null sender)
//       R: "-" (no recipient check) or "r" + the expected recipients, each "x" + hex, joined
//          by "," ("r" alone: the empty set, which no message passes)
//   . <number of id lines>                   last: a request cut short in transit is refused

/** Lowercase hex of the UTF-8 bytes of `s`, as `od -An -v -tx1 | tr -d ' \n'` prints them. */
export function hexOf(s: string): string {
  return Buffer.from(s, 'utf8').toString('hex');
}

/** The stdin text for a purge of `ids` (already validated by prepareStdinPurge). */
export function purgeStdinText(req: PurgeRequest, ids: readonly string[]): string {
  const out: string[] = [];
  if (req.match.kind === 'auth') out.push(`A ${hexOf(req.match.authId)}`);
  for (const id of ids) {
    const exp = req.expect?.[id];
    const s = exp === undefined ? '-' : `s${hexOf(exp.sender)}`;
    const r = exp?.recipients === undefined ? '-' : `r${exp.recipients.map((x) => `x${hexOf(x)}`).join(',')}`;
    out.push(`${id} ${s} ${r}`);
  }
  out.push(`. ${ids.length}`);
  return `${out.join('\n')}\n`;
}

/**
 * preparePurge for commands that take their data on stdin: no control-character refusal for
 * senders (they are compared as bytes), and kind bounce needs the expected recipients of every
 * id (the delete-time re-check that a reused id, or a bounce whose recipients changed, is not
 * touched).
 */
export function prepareStdinPurge(
  req: PurgeRequest,
  idShape: RegExp,
  mtaLabel: string,
  needSender: (req: PurgeRequest) => boolean = () => false,
): PreparedPurge {
  // The senders are replaced by '' only for the shared checks; the request itself is unchanged.
  const expect = req.expect === undefined ? undefined : Object.fromEntries(Object.entries(req.expect).map(([id, e]) => [id, { ...e, sender: '' }]));
  const prep = preparePurge({ ...req, ...(expect === undefined ? {} : { expect }) }, idShape, mtaLabel, needSender);
  if (req.match.kind !== 'bounce' || prep.refusal !== undefined) return prep;
  const ids: string[] = [];
  for (const id of prep.ids) {
    const r = req.expect?.[id]?.recipients;
    if (r === undefined || !Array.isArray(r)) prep.skipped.push({ id, reason: 'no expected recipients for this bounce (request.expect): cannot re-check it' });
    else ids.push(id);
  }
  prep.ids = ids;
  return prep;
}

/**
 * The start of a stdin purge script: the request goes to a private temporary file ($t; every
 * "$t.*" is removed on exit, also on HUP/INT/TERM/PIPE), and a request that is not whole (no
 * final ". N" line, or N id lines missing) aborts before anything is read from the queue.
 * `fin` is the EXIT handler: a script that must undo something on exit redefines it and calls
 * `fin_files`.
 */
export function stdinPrologue(): string[] {
  return [
    `t=$(mktemp 2>/dev/null) || { echo "${PURGE_MARKER} - abort cannot create a temporary file"; exit 0; }`,
    `fin_files() { rm -f "$t" "$t".*; }; fin() { fin_files; }`,
    `trap 'fin' EXIT; trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 141' PIPE`,
    `cat >"$t" || { echo "${PURGE_MARKER} - abort cannot read the request on stdin"; exit 0; }`,
    `if ! awk '$1 == "A" { a++ } $1 == "." { n = $2; e = NR } END { exit !(NR > 0 && e == NR && n == NR - 1 - a) }' "$t"; then echo "${PURGE_MARKER} - abort the request on stdin is missing or incomplete"; exit 0; fi`,
  ];
}

/** The ids of the request file $t, one a line (shell fragment). */
export const STDIN_IDS = `awk '$1 != "A" && $1 != "." { print $1 }' "$t"`;

// ---------------------------------------------------------------------------
// Pausing the queue runners for the purge window (issue #8, exim and sendmail).
//
// A queue run (the restart's, cron's, the daemon's -q interval) holds the lock of the message
// it is delivering; with a relay that stalls it holds it for minutes, and `exim -Mrm` /
// `sendmail -Q` leave a locked message alone. So, for the window of one purge command:
//   1. the daemon is stopped with SIGSTOP (no new queue run, no immediate delivery starts;
//      connections wait in the listen backlog) — before the re-check, so what is re-checked
//      stays true;
//   2. a process holding one of the matched messages open (found through /proc/PID/fd) and its
//      lock (/proc/locks; or whose parent holds it: exim's transport process) that
//      runs the MTA's own binary (/proc/PID/exe) in this root (/proc/PID/root: not another
//      container's or chroot's) is killed (SIGTERM, then SIGKILL); its parent,
//      when that is another MTA process (a queue runner walking the queue), is paused with
//      SIGSTOP so it does not take the next matched message. Nothing else is ever signalled;
//   3. on exit — normal, error, HUP/INT/TERM/PIPE — every paused process gets SIGCONT and the
//      daemon is checked alive; a watchdog does the same after `watchdogSeconds` when the
//      script itself was killed (SIGKILL runs no trap).
// Each step prints "__MAILSWEEP_PURGE__ - paused …" / "- resumed …" / "- notresumed …" lines
// (PurgeResult.notes; a pause without a resume is a warning).

export interface RunnerPauseOptions {
  /** Shell fragment printing the daemon's pid, or nothing. */
  probe: string;
  /** Basenames of /proc/PID/exe that are the MTA's own processes (shell `case` globs). */
  exe: readonly string[];
  /** A watchdog resumes whatever is still paused after this long (a killed script). */
  watchdogSeconds?: number;
}

/**
 * Shell functions ms_pause, ms_free FILE, ms_resume, and an EXIT handler (`fin`) that resumes.
 * Goes after stdinPrologue(). FILE holds "<id> <path>" lines: the matched messages' lock files.
 */
export function runnerPauseFragment(o: RunnerPauseOptions): string {
  for (const e of o.exe) if (!/^[A-Za-z0-9._*-]+$/.test(e)) throw new Error(`bad exe pattern ${e}`);
  const wd = o.watchdogSeconds ?? 300;
  if (!Number.isInteger(wd) || wd < 10) throw new Error(`bad watchdog ${wd}`);
  const M = PURGE_MARKER;
  return [
    `ms_st="$t.paused"; msd=''; ms_said=''`,
    // Process state / parent from /proc/PID/stat (the comm field may hold ") ": the last one counts).
    `ms_state() { sed -n 's/^.*) \\(.\\).*/\\1/p' "/proc/$1/stat" 2>/dev/null; }`,
    `ms_ppid() { sed -n 's/^.*) . \\([0-9]*\\).*/\\1/p' "/proc/$1/stat" 2>/dev/null; }`,
    `ms_alive() { ms_s=$(ms_state "$1"); [ -n "$ms_s" ] && [ "$ms_s" != Z ]; }`,
    `ms_exe() { ms_e=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1; ms_e=\${ms_e% (deleted)}; echo "\${ms_e##*/}"; }`,
    `ms_mta() { [ "$(readlink "/proc/$1/root" 2>/dev/null)" = / ] || return 1; case "$(ms_exe "$1")" in ${o.exe.join('|')}) return 0;; esac; return 1; }`,
    `ms_stop() { kill -STOP "$1" 2>/dev/null && echo "$1" >>"$ms_st"; }`,
    // ms_locks PID INODE: PID holds a lock (fcntl or flock, not waiting for one) on that inode.
    `ms_locks() { [ -n "$2" ] && awk -v pid="$1" -v ino="$2" '$2 != "->" && $5 == pid { n = split($6, a, ":"); if (a[n] == ino) f = 1 } END { exit !f }' /proc/locks 2>/dev/null; }`,
    // The watchdog: detached from the channel, gone within a second once $ms_st is removed.
    `ms_pause() {`,
    `  : >"$ms_st" || { echo "${M} - abort cannot write $ms_st"; exit 0; }`,
    `  ( i=0; while [ "$i" -lt ${wd} ] && [ -f "$ms_st" ]; do sleep 1; i=$((i+1)); done; if [ -f "$ms_st" ]; then while read -r p; do kill -CONT "$p"; done <"$ms_st"; rm -f "$t" "$t".*; fi ) </dev/null >/dev/null 2>&1 9>&- &`,
    `  msd=$( ${o.probe} )`,
    `  if [ -n "$msd" ] && ms_mta "$msd"; then ms_stop "$msd" && echo "${M} - paused daemon $msd ($(ms_exe "$msd"), SIGSTOP: no queue run starts during the purge)"; else msd=''; fi`,
    `}`,
    // ms_free FILE: kill the MTA processes that hold a matched message open; pause their runner.
    `ms_free() {`,
    `  ls -l /proc/[0-9]*/fd 2>/dev/null | LC_ALL=C awk -v me="$$" 'FNR == NR { i = index($0, " "); want[substr($0, i + 1)] = substr($0, 1, i - 1); next }` +
      ` /^\\/proc\\/[0-9]+\\/fd:$/ { split($0, a, "/"); pid = a[3]; next }` +
      ` { i = index($0, " -> "); if (i && pid != me && (substr($0, i + 4) in want)) print pid, want[substr($0, i + 4)], substr($0, i + 4) }' "$1" - | sort -u >"$t.holders"`,
    // Decide for every holder first (a killed delivery's child is re-parented at once), then
    // pause the runners, then kill.
    `  : >"$t.killed"; : >"$t.plan"`,
    `  while read -r p id f; do`,
    `    if [ "$p" = "$msd" ]; then grep -qx "$p $id" "$t.noted" 2>/dev/null || { echo "$p $id" >>"$t.noted"; echo "${M} - paused nothing for $id: the daemon itself ($p) holds it"; }; ms_said=1; continue; fi`,
    `    if ! ms_mta "$p"; then grep -qx "$p $id" "$t.noted" 2>/dev/null || { echo "$p $id" >>"$t.noted"; echo "${M} - paused nothing for $id: process $p ($(ms_exe "$p" || echo gone)) holds it and is not the MTA: not signalled"; }; ms_said=1; continue; fi`,
    // Only a lock holder (or the child of one: exim's transport process shares the delivery's
    // descriptor) is a delivery; a process that merely has the file open is left alone.
    `    pp=$(ms_ppid "$p"); ino=$(ls -di "$f" 2>/dev/null | awk '{ print $1 }')`,
    `    if ! ms_locks "$p" "$ino" && ! { [ -n "$pp" ] && ms_locks "$pp" "$ino"; }; then grep -qx "$p $id" "$t.noted" 2>/dev/null || { echo "$p $id" >>"$t.noted"; echo "${M} - paused nothing for $id: process $p ($(ms_exe "$p")) has it open without its lock (not a delivery): not signalled"; }; ms_said=1; continue; fi`,
    `    echo "$p \${pp:-0} $id $(ms_exe "$p")" >>"$t.plan"`,
    `  done <"$t.holders"`,
    // The parent of a delivery, when another MTA process that is not a holder itself: a runner.
    `  while read -r p pp id e; do`,
    `    if [ "$pp" != 0 ] && [ "$pp" != 1 ] && [ "$pp" != "$msd" ] && ! grep -qx "$pp" "$ms_st" && ! grep -q "^$pp " "$t.holders" && ms_mta "$pp"; then ms_stop "$pp" && echo "${M} - paused runner $pp ($(ms_exe "$pp"), SIGSTOP: parent of $p)"; fi`,
    `  done <"$t.plan"`,
    `  while read -r p pp id e; do`,
    `    grep -qx "$p" "$t.killed" && continue`,
    `    if kill -TERM "$p" 2>/dev/null; then echo "$p" >>"$t.killed"; ms_said=1; echo "${M} - paused killed $p ($e, SIGTERM): it held $id"; fi`,
    `  done <"$t.plan"`,
    `  [ -s "$t.killed" ] || return 0`,
    `  i=0; while [ "$i" -lt 12 ]; do a=''; while read -r p; do ms_alive "$p" && a=1; done <"$t.killed"; [ -z "$a" ] && return 0; sleep 0.25; i=$((i+1)); done`,
    `  while read -r p; do if ms_alive "$p" && ms_mta "$p"; then kill -KILL "$p" 2>/dev/null && echo "${M} - paused killed $p (SIGKILL: SIGTERM did not end it)"; fi; done <"$t.killed"`,
    `  i=0; while [ "$i" -lt 20 ]; do a=''; while read -r p; do ms_alive "$p" && a=1; done <"$t.killed"; [ -z "$a" ] && return 0; sleep 0.25; i=$((i+1)); done`,
    `}`,
    // SIGCONT first, then the temporary files, then the report: the channel may be gone (a
    // client that disconnected: SIGPIPE on the first write), so nothing that matters comes after
    // an echo, and SIGPIPE is ignored from here on.
    `ms_resume() {`,
    `  ms_msg=''; [ -f "$ms_st" ] || return 0`,
    `  n=0; while read -r p; do kill -CONT "$p" 2>/dev/null; n=$((n+1)); done <"$ms_st"`,
    `  left=''; while read -r p; do [ "$(ms_state "$p")" = T ] && left="$left $p"; done <"$ms_st"`,
    `  rm -f "$ms_st"`,
    `  [ "$n" -gt 0 ] || [ -n "$ms_said" ] || return 0`,
    `  if [ -n "$left" ]; then ms_msg="${M} - notresumed still stopped after SIGCONT:$left";`,
    `  elif [ -z "$msd" ]; then ms_msg="${M} - resumed $n process(es) (SIGCONT)";`,
    `  elif ms_alive "$msd"; then ms_msg="${M} - resumed $n process(es) (SIGCONT); daemon running, pid $msd";`,
    `  else ms_msg="${M} - notresumed daemon $msd is gone after the purge: the MTA is down"; fi`,
    `}`,
    `fin() { trap '' PIPE; ms_resume; fin_files; if [ -n "$ms_msg" ]; then echo "$ms_msg"; fi; }`,
  ].join('\n');
}

/** Restart fragment, after beforeFragment: SIGCONT the daemon ($b) in case a purge left it stopped. */
export const RESUME_DAEMON = `if [ -n "$b" ]; then kill -CONT "$b" 2>/dev/null; fi`;
