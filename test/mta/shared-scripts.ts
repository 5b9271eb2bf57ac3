// Builders for testing the shared server scripts (src/mta/shared/scripts) on their own, through a
// real /bin/sh: each is the library's text with its settings and a call, as the MTAs' scripts
// include them. Test code only: src builds commands from script files (src/mta/script.ts).
import { scriptSource } from '../../src/mta/script.js';
import { quote, sh } from '../../src/transport/quote.js';
import { pathLine } from '../../src/mta/util.js';

const RESTART = (): string => scriptSource('shared/scripts/restart.sh');
const probeFn = (probe: string): string => `ms_probe() {\n  ${probe}\n}`;

/** request.sh: the stdin request saved to $t, checked whole; `ms_ids` lists its ids. */
export const stdinPrologue = (): string[] => [scriptSource('shared/scripts/request.sh')];
export const STDIN_IDS = 'ms_ids';

export interface RunnerPauseOptions {
  probe: string;
  exe: readonly string[];
  watchdogSeconds?: number;
}

/** runner-pause.sh with its settings: ms_pause, ms_free FILE, and the EXIT handler that resumes. */
export function runnerPauseFragment(o: RunnerPauseOptions): string {
  return [
    probeFn(o.probe),
    `MS_EXE=${quote(o.exe.join('\n'))}`,
    `MS_WATCHDOG=${o.watchdogSeconds ?? 300}`,
    scriptSource('shared/scripts/runner-pause.sh'),
  ].join('\n');
}

export const restartLockFragment = (seconds = 120, lockPath?: string): string =>
  [sh`MS_LOCK_WAIT=${seconds}`, ...(lockPath !== undefined ? [sh`MS_LOCK=${lockPath}`] : []), RESTART(), 'ms_restart_lock'].join('\n');

export const serviceRestartFragment = (units: readonly string[], systemdMarker = '/run/systemd/system'): string =>
  [sh`MS_SYSTEMD_DIR=${systemdMarker}`, RESTART(), sh`ms_service_restart ${[...units]}`].join('\n');

export const waitRunningFragment = (probe: string, seconds = 20): string =>
  [probeFn(probe), sh`MS_WAIT=${seconds}`, RESTART(), 'ms_wait_running'].join('\n');

export const beforeFragment = (probe: string): string => [probeFn(probe), RESTART(), 'ms_before'].join('\n');

export const restartPrologue = (probe: string, path = pathLine()): string[] => [path, restartLockFragment(), beforeFragment(probe)];

/** ms_wake: SIGCONT the daemon ($b) a killed purge may have left stopped. */
export const RESUME_DAEMON = [RESTART(), 'ms_wake'].join('\n');
