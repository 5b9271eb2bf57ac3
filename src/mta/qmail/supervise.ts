// How the running qmail-send is supervised, found on the host itself, and the one shell
// function that stops, starts and restarts it that way: `qctl stop|start|restart` (exit 0 =
// done, non-zero = could not). Used by the restart step and by the purge, which must stop
// qmail-send while it removes queue files.
//
// Detection (from /proc, never from a fixed list of paths):
//   1. candidates: processes named qmail-send whose real uid is qmails' (a local user can name a
//      program qmail-send, but cannot run it as qmails), alive and not zombies;
//   2. its parent, or the parent of a shell between them (a run script without `exec`), is a
//      supervisor running as root: `supervise` (daemontools, daemontools-encore, qmailtoaster),
//      `runsv` (runit) or `s6-supervise` (s6); its working directory is the service directory
//      (for qmail-send's service the log is its subdirectory, under its own supervisor). The
//      control tool is looked up next to the supervisor's binary, then in PATH, then in
//      /command (old daemontools): `svc -t|-d|-u DIR`, `sv term|down|up DIR`, `s6-svc -t|-d|-u DIR`;
//   3. else a systemd system service (its cgroup names a .service whose MainPID it is, or a
//      system.slice unit named *qmail*): `systemctl restart|stop|start UNIT`;
//   4. else `qmailctl` when present, else the init script (/etc/init.d/qmail);
//   5. else nothing supervises it (a bare `qmail-start` from rc): before stopping it with TERM,
//      how to start it again is recorded. qmail-start exec()s qmail-send (notqmail qmail-start.c),
//      so qmail-send's own command line is just "qmail-send": qmail-start's is rebuilt from its
//      children — `qmail-start <qmail-lspawn's argument> <the logger child's command line>`,
//      qmail-start being the one beside qmail-send's binary — with qmail-send's environment
//      (LD_* dropped) and working directory. A qmail-send without qmail-lspawn children is
//      started again with its own command line. Every byte goes NUL-separated from /proc into
//      octal escapes (od + awk) and back into separate arguments (printf %b): nothing recorded is
//      ever parsed by the shell. The program and every PATH directory must be root's and not
//      writable by group or others (the environment comes from a process running as qmails),
//      or the stop is refused before anything is stopped. It starts detached (setsid, fds closed).
//
// `stop` records what it did in a root-only state directory (/run/mailsweep-qmail-send) before
// it acts; `start` — in the same script or in a later one (a purge's EXIT trap, `--resume`) —
// starts qmail-send again from it and removes it once qmail-send runs. Without a record, `start`
// looks for a supervisor whose service is qmail-send's, then a qmail/qmail-send systemd unit, then
// qmailctl, then the init script.
//
// The shell is scripts/supervise.sh (with scripts/enc.awk); here are its settings. After it acts,
// `qctl` leaves a one-line description in $qsv_how (for the report: "how"). All its variables
// and functions are prefixed qsv_: only qctl, qsend and $qsv_how are for the including scripts.

import { serverScript, scriptSource, type ScriptValue } from '../script.js';
import type { Sh } from '../../transport/quote.js';

export interface QmailSuperviseOptions {
  /** Where /proc is (tests: a directory standing in for it). */
  procRoot?: string;
  /** systemd runs when this directory exists (sd_booted(3)). */
  systemdMarker?: string;
  /** The init script tried when nothing supervises qmail-send. */
  initScript?: string;
  /** Seconds to wait for qmail-send to stop (it finishes deliveries in progress first) or start. */
  waitSeconds?: number;
  /** uid the supervisors and the recorded programs must belong to (root). */
  rootUid?: number;
  /** uid qmail-send runs as; default `id -u qmails` on the server. */
  qmailsUid?: number;
  /** State directory; default /run/mailsweep-qmail-send (root), else a per-uid one in $TMPDIR. */
  stateDir?: string;
  /** The process name looked for (tests on the real /proc: a name no other test run uses). */
  processName?: string;
}

/** The settings of scripts/supervise.sh (tests: a stand-in /proc, stub tools, short waits). */
export function qmailSuperviseSettings(o: QmailSuperviseOptions = {}): Record<string, ScriptValue> {
  const w = o.waitSeconds ?? 60;
  for (const [k, v] of [
    ['waitSeconds', w],
    ['rootUid', o.rootUid ?? 0],
    ['qmailsUid', o.qmailsUid ?? 0],
  ] as const)
    if (!Number.isInteger(v) || v < 0) throw new Error(`bad ${k} ${v}`);
  const name = o.processName ?? 'qmail-send';
  if (!/^[A-Za-z0-9._-]{1,15}$/.test(name)) throw new Error(`bad process name ${name}`);
  return {
    qsv_P: o.procRoot ?? '/proc',
    qsv_M: o.systemdMarker ?? '/run/systemd/system',
    qsv_I: o.initScript ?? '/etc/init.d/qmail',
    qsv_S: o.stateDir ?? '',
    qsv_U: o.qmailsUid === undefined ? '' : o.qmailsUid,
    qsv_W: w,
    qsv_R: o.rootUid ?? 0,
    qsv_N: name,
    QSV_ENC_AWK: scriptSource('qmail/scripts/enc.awk'),
  };
}

/**
 * scripts/supervise.sh with its settings: the qsv_* helpers, `qctl` and `qsend` (the first
 * qmail-send pid, or nothing), for a command of its own (tests, a later `qctl start`). The purge
 * and the restart include the file and pass qmailSuperviseSettings with their own.
 */
export function qmailSuperviseFragment(o: QmailSuperviseOptions = {}): Sh {
  return serverScript('qmail/scripts/supervise.sh', qmailSuperviseSettings(o));
}
