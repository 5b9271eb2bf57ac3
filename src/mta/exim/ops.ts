// Exim incident operations: purge / hold (scripts/purge.sh: every id re-checked on its spool -H
// file by the envelope proof, scripts/check.awk + envelope.awk, then `exim -Mrm` or `exim -Mf`)
// and the restart (scripts/restart.sh). Settings go into the scripts as quoted assignments; the
// request (ids, expected senders and recipients, the auth id) goes on stdin, hex-encoded
// (purge-stdin.ts purgeStdinText).

import { sh, type Sh } from '../../transport/quote.js';
import { EXIM_ID, EXIM_PID_FILES, EXIM_UNITS, eximBinary, eximExeNames } from './host.js';
import { parsePurgeOutput } from '../purge-protocol.js';
import { prepareStdinPurge, purgeStdinText } from '../purge-stdin.js';
import { parseRestartOutput } from '../restart-fragments.js';
import { scriptSource, serverScript } from '../script.js';
import type { MtaContext, MtaOperations, PurgeRequest, PurgeResult, ReadPlan, RestartResult } from '../types.js';

/** exim's own words: "Message X has been removed" (…"or did not exist"), "is now frozen", "is already frozen". */
export function eximConfirmed(mode: 'delete' | 'hold'): (id: string, lines: string[]) => boolean {
  return (id, lines) =>
    lines.some((l) =>
      mode === 'delete'
        ? l.startsWith(`Message ${id} has been removed`)
        : l === `Message ${id} is now frozen` || l === `Message ${id} is already frozen`,
    );
}

/** The daemon's probe settings (scripts/probe.sh): the inventory's `mta_pid_file` alone when set, else the usual pid files, then pgrep. */
function probeSettings(pidFile: string | undefined): { MS_PID_FILES: readonly string[]; MS_PGREP: string } {
  return pidFile !== undefined && /^\/[A-Za-z0-9._/-]+$/.test(pidFile)
    ? { MS_PID_FILES: [pidFile], MS_PGREP: '' }
    : { MS_PID_FILES: EXIM_PID_FILES, MS_PGREP: '1' };
}

/**
 * The fixed purge script (its size does not depend on the request): request on stdin, runners
 * paused, every id re-checked by check.awk, lock holders of matched ids killed, the tool run (up
 * to 3 rounds for messages a process locked again), each id verified.
 */
export function eximPurgeCommand(ctx: MtaContext, req: PurgeRequest): Sh {
  return serverScript('exim/scripts/purge.sh', {
    MS_EXIM: eximBinary(ctx),
    MS_SPOOL: ctx.spoolDirectory ?? '',
    MS_MODE: req.mode,
    MS_KIND: req.match.kind === 'auth' ? 'auth' : 'bounce',
    MS_CHECK_AWK: scriptSource('exim/scripts/check.awk'),
    MS_FROZEN_AWK: scriptSource('exim/scripts/frozen.awk'),
    ...probeSettings(ctx.pidFile),
    MS_EXE: eximExeNames(ctx),
    MS_WATCHDOG: 300,
  });
}

export function eximPurge(ctx: MtaContext, req: PurgeRequest): ReadPlan<PurgeResult> {
  const prep = prepareStdinPurge(req, EXIM_ID, 'exim');
  const tool = `exim ${req.mode === 'delete' ? '-Mrm' : '-Mf'}`;
  const ids = prep.ids;
  return {
    command: ids.length === 0 ? sh`true` : eximPurgeCommand(ctx, req),
    ...(ids.length === 0 ? {} : { stdin: purgeStdinText(req, ids) }),
    parse: (stdout, stderr, code) =>
      parsePurgeOutput(stdout, stderr, code, { sent: ids, preSkipped: prep.skipped, confirmed: eximConfirmed(req.mode), tool }),
  };
}

/** Restart the daemon (scripts/restart.sh): one restart at a time on the host, then wait until it runs. */
export function eximRestart(_ctx: MtaContext): ReadPlan<RestartResult> {
  return {
    command: serverScript('exim/scripts/restart.sh', {
      ...probeSettings(undefined),
      MS_UNITS: EXIM_UNITS,
      MS_LOCK_WAIT: 120,
      MS_SYSTEMD_DIR: '/run/systemd/system',
      MS_WAIT: 20,
    }),
    parse: (stdout, stderr, code) => parseRestartOutput(stdout, stderr, code, 'exim'),
  };
}

export const eximOps: MtaOperations = { restart: eximRestart, purge: eximPurge };
