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

const LINE = /^__MAILSWEEP_PURGE__ (\S+) (match|skip|done|fail|abort)(?: (.*))?$/;

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
    const state = m[2] as 'match' | 'skip' | 'done' | 'fail' | 'abort';
    const text = m[3] ?? '';
    if (state === 'abort') {
      abort = text || 'aborted';
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
  return { done, skipped, warnings: capWarnings(warnings) };
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
    if (m[1] === 'how') how = v;
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
