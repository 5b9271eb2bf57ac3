// Pausing the queue runners for the window of one purge command (exim and sendmail): a queue
// run holding a matched message's lock would make the MTA's tool leave it alone. Its own module:
// the one place that signals processes on the server, so it is read and reviewed on its own.

import { PURGE_MARKER } from './purge-protocol.js';

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
