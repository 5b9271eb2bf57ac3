// Pausing the queue runners for the window of one purge command (exim and sendmail): a queue
// run holding a matched message's lock would make the MTA's tool leave it alone. Its own module:
// the one place that signals processes on the server, so it is read and reviewed on its own.

import { quote } from '../transport/quote.js';
import { scriptSource } from './script.js';

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
  return [`ms_probe() {\n  ${o.probe}\n}`, `MS_EXE=${quote(o.exe.join('\n'))}`, `MS_WATCHDOG=${wd}`, scriptSource('shared/scripts/runner-pause.sh')].join('\n');
}

/** Restart fragment, after beforeFragment: SIGCONT the daemon ($b) in case a purge left it stopped. */
export const RESUME_DAEMON = `if [ -n "$b" ]; then kill -CONT "$b" 2>/dev/null; fi`;
