// Restart fragments shared by every MTA's restart: the host-wide restart lock, the
// distribution's way of restarting a service, the pid probes, and the parser of the
// "__MAILSWEEP_RESTART__ …" report lines. Kept apart from the purge protocol: a restart never
// touches a message, and these pieces change for different reasons.

import type { RestartResult } from './types.js';
import { failureText, printable, splitLines } from './util.js';

export const RESTART_MARKER = '__MAILSWEEP_RESTART__';

// The shell side is shared/scripts/restart.sh (included by each MTA's restart script).

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
    if (m[1] === 'how')
      how = printable(v); // server text, on its way to the screen and journal
    else if (m[1] === 'rc') rc = /^\d+$/.test(v) ? Number(v) : null;
    else if (m[1] === 'running') running = /^\d+$/.test(v) ? v : null;
    else if (m[1] === 'down') down = true;
    else if (m[1] === 'before') before = v;
    else if (m[1] === 'waited') waited = true;
    else if (m[1] === 'busy') busy = v;
  }
  const parts: string[] = [];
  if (busy !== null)
    return {
      ok: false,
      detail: `${label}: not restarted: another restart has held the host's lock for ${busy} s (a killed run's init script still going?); check the MTA, then retry`,
    };
  if (how === null)
    return { ok: false, detail: `${label}: restart did not run (exit ${code ?? 'none'}): ${failureText(stderr || stdout)}` };
  if (how === 'none') return { ok: false, detail: `${label}: no way to restart found (no systemd unit, init script or service)` };
  parts.push(`${how} exited ${rc ?? '?'}${waited ? ' (after waiting for another restart to finish)' : ''}`);
  if (running !== null) {
    const changed = before !== null && before !== 'none' && before !== running;
    parts.push(
      `${label} running, pid ${running}${before && before !== 'none' ? (changed ? ` (was ${before})` : ' (same pid as before)') : ''}`,
    );
  } else parts.push(`${label} NOT running afterwards${down ? '' : ' (no status reported)'}`);
  if ((rc ?? 1) !== 0 && tool.length > 0) parts.push(`output: ${failureText(tool.join('\n'))}`);
  if (other.length > 0) parts.push(`unexpected output: ${failureText(other.join('\n'))}`);
  return { ok: running !== null && rc === 0, detail: parts.join('; ') };
}
