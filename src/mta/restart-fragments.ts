// Restart fragments shared by every MTA's restart: the host-wide restart lock, the
// distribution's way of restarting a service, the pid probes, and the parser of the
// "__MAILSWEEP_RESTART__ …" report lines. Kept apart from the purge protocol: a restart never
// touches a message, and these pieces change for different reasons.

import { sh } from '../transport/quote.js';
import type { RestartResult } from './types.js';
import { failureText, pathLine, printable, splitLines } from './util.js';

export const RESTART_MARKER = '__MAILSWEEP_RESTART__';

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
