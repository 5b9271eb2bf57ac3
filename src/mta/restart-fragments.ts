// Restart fragments shared by every MTA's restart: the host-wide restart lock, the
// distribution's way of restarting a service, the pid probes, and the parser of the
// "__MAILSWEEP_RESTART__ …" report lines. Kept apart from the purge protocol: a restart never
// touches a message, and these pieces change for different reasons.

import { sh } from '../transport/quote.js';
import type { RestartResult } from './types.js';
import { scriptSource } from './script.js';
import { failureText, pathLine, printable, splitLines } from './util.js';

export const RESTART_MARKER = '__MAILSWEEP_RESTART__';

// The shell side is shared/scripts/restart.sh; these build commands from it for the MTAs' restarts.
const LIB = (): string => scriptSource('shared/scripts/restart.sh');
const probeFn = (probe: string): string => `ms_probe() {\n  ${probe}\n}`;

/**
 * Restarts on one host one at a time (ms_restart_lock): flock(1) waits up to `seconds` for
 * another one; without flock (not util-linux) restarts are not serialised.
 */
export function restartLockFragment(seconds = 120, lockPath?: string): string {
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`bad lock wait ${seconds}`);
  return [sh`MS_LOCK_WAIT=${seconds}`, ...(lockPath !== undefined ? [sh`MS_LOCK=${lockPath}`] : []), LIB(), 'ms_restart_lock'].join('\n');
}

/**
 * Restart a service the distribution's way and report how (ms_service_restart): systemd when it
 * runs, else the SysV init script, else `service`; the first of `units` that exists.
 */
export function serviceRestartFragment(units: readonly string[], systemdMarker = '/run/systemd/system'): string {
  for (const u of units) if (!/^[a-z0-9][a-z0-9@._-]*$/.test(u)) throw new Error(`bad unit name ${u}`);
  return [sh`MS_SYSTEMD_DIR=${systemdMarker}`, LIB(), sh`ms_service_restart ${[...units]}`].join('\n');
}

/** Wait (up to `seconds`) until `probe` finds a live daemon: "running <pid>" or "down". */
export function waitRunningFragment(probe: string, seconds = 20): string {
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`bad wait ${seconds}`);
  return [probeFn(probe), sh`MS_WAIT=${seconds}`, LIB(), 'ms_wait_running'].join('\n');
}

/** Probe fragment: the first pid file of `files` that names a live process. */
export function pidFileProbe(files: readonly string[]): string {
  for (const f of files) if (!/^\/[A-Za-z0-9._/-]+$/.test(f)) throw new Error(`bad pid file ${f}`);
  return `for f in ${files.join(' ')}; do if [ -s "$f" ]; then p=$(head -n 1 "$f" | tr -d ' \\t\\r'); if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then echo "$p"; break; fi; fi; done`;
}

/**
 * The start of every restart command: PATH, the host's restart lock, and the daemon's pid before
 * (in $b). Whatever the command then starts must run with fd 9 closed.
 */
export function restartPrologue(probe: string, path = pathLine()): string[] {
  return [path, restartLockFragment(), beforeFragment(probe)];
}

/** Probe the pid before the restart (printed as "before <pid>", kept in $b), for the report. */
export function beforeFragment(probe: string): string {
  return [probeFn(probe), LIB(), 'ms_before'].join('\n');
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
