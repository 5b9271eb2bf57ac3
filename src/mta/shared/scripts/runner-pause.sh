# Pausing the queue runners for the window of one purge (exim and sendmail): a queue run holding a
# matched message's lock makes `exim -Mrm` / `sendmail -Q` leave it alone. After request.sh.
#   ms_pause      SIGSTOP the daemon (no queue run starts; connections wait in the backlog)
#   ms_free FILE  end the MTA processes holding a matched message's lock ("<id> <path>" lines of
#                 FILE), pause their queue runner; nothing else is ever signalled
#   fin           on exit (also error, HUP/INT/TERM/PIPE): SIGCONT what was paused, check the daemon
# A watchdog resumes after MS_WATCHDOG seconds when the script itself was killed (SIGKILL runs
# no trap). Needs: ms_probe (prints the daemon's pid, or nothing); MS_EXE, the basenames of the
# MTA's binaries (/proc/PID/exe) as case patterns, one a line.
ms_st="$t.paused"; msd=''; ms_said=''; ms_msg=''
: "${MS_WATCHDOG:=300}"
# State and parent from /proc/PID/stat (the comm field may hold ") ": the last one counts).
ms_state() { sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null; }
ms_ppid() { sed -n 's/^.*) . \([0-9]*\).*/\1/p' "/proc/$1/stat" 2>/dev/null; }
ms_alive() { ms_s=$(ms_state "$1"); [ -n "$ms_s" ] && [ "$ms_s" != Z ]; }
ms_exe() { ms_e=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1; ms_e=${ms_e% (deleted)}; echo "${ms_e##*/}"; }
# The MTA's own binary, in this root (not another container's or chroot's).
ms_mta() {
  [ "$(readlink "/proc/$1/root" 2>/dev/null)" = / ] || return 1
  ms_x=$(ms_exe "$1") || return 1
  ms_r=1
  while IFS= read -r ms_p; do
    # shellcheck disable=SC2254 # the patterns are globs on purpose
    case "$ms_x" in $ms_p) ms_r=0 ;; esac
  done <<MS_EXE_END
$MS_EXE
MS_EXE_END
  return "$ms_r"
}
ms_stop() { kill -STOP "$1" 2>/dev/null && echo "$1" >>"$ms_st"; }
# ms_locks PID INODE: PID holds a lock (fcntl or flock, not waiting for one) on that inode.
ms_locks() { [ -n "$2" ] && awk -v pid="$1" -v ino="$2" '$2 != "->" && $5 == pid { n = split($6, a, ":"); if (a[n] == ino) f = 1 } END { exit !f }' /proc/locks 2>/dev/null; }
ms_noted() {
  grep -qx "$1 $2" "$t.noted" 2>/dev/null && return 0
  echo "$1 $2" >>"$t.noted"
  return 1
}
ms_pause() {
  : >"$ms_st" || { echo "$M - abort cannot write $ms_st"; exit 0; }
  # The watchdog: detached from the channel, gone within a second once $ms_st is removed.
  ( i=0; while [ "$i" -lt "$MS_WATCHDOG" ] && [ -f "$ms_st" ]; do sleep 1; i=$((i+1)); done
    if [ -f "$ms_st" ]; then while read -r p; do kill -CONT "$p"; done <"$ms_st"; rm -f "$t" "$t".*; fi ) </dev/null >/dev/null 2>&1 9>&- &
  msd=$(ms_probe)
  if [ -n "$msd" ] && ms_mta "$msd"; then
    ms_stop "$msd" && echo "$M - paused daemon $msd ($(ms_exe "$msd"), SIGSTOP: no queue run starts during the purge)"
  else
    msd=''
  fi
}
ms_free() {
  # Who has a matched message's file open: "<pid> <id> <path>".
  # shellcheck disable=SC2012 # ls -l of /proc/*/fd: the portable way to read every link in one go
  ls -l /proc/[0-9]*/fd 2>/dev/null | LC_ALL=C awk -v me="$$" '
    FNR == NR { i = index($0, " "); want[substr($0, i + 1)] = substr($0, 1, i - 1); next }
    /^\/proc\/[0-9]+\/fd:$/ { split($0, a, "/"); pid = a[3]; next }
    { i = index($0, " -> "); if (i && pid != me && (substr($0, i + 4) in want)) print pid, want[substr($0, i + 4)], substr($0, i + 4) }' "$1" - | sort -u >"$t.holders"
  # Decide for every holder first (a killed delivery's child is re-parented at once), then pause
  # the runners, then kill.
  : >"$t.killed"; : >"$t.plan"
  while read -r p id f; do
    if [ "$p" = "$msd" ]; then
      ms_noted "$p" "$id" || echo "$M - paused nothing for $id: the daemon itself ($p) holds it"
      ms_said=1; continue
    fi
    if ! ms_mta "$p"; then
      ms_noted "$p" "$id" || echo "$M - paused nothing for $id: process $p ($(ms_exe "$p" || echo gone)) holds it and is not the MTA: not signalled"
      ms_said=1; continue
    fi
    # Only a lock holder (or the child of one: exim's transport process shares the delivery's
    # descriptor) is a delivery; a process that merely has the file open is left alone.
    pp=$(ms_ppid "$p")
    # shellcheck disable=SC2012 # the inode number only
    ino=$(ls -di "$f" 2>/dev/null | awk '{ print $1 }')
    if ! ms_locks "$p" "$ino" && ! { [ -n "$pp" ] && ms_locks "$pp" "$ino"; }; then
      ms_noted "$p" "$id" || echo "$M - paused nothing for $id: process $p ($(ms_exe "$p")) has it open without its lock (not a delivery): not signalled"
      ms_said=1; continue
    fi
    echo "$p ${pp:-0} $id $(ms_exe "$p")" >>"$t.plan"
  done <"$t.holders"
  # The parent of a delivery, when another MTA process that is not a holder itself: a runner.
  while read -r p pp id e; do
    if [ "$pp" != 0 ] && [ "$pp" != 1 ] && [ "$pp" != "$msd" ] && ! grep -qx "$pp" "$ms_st" && ! grep -q "^$pp " "$t.holders" && ms_mta "$pp"; then
      ms_stop "$pp" && echo "$M - paused runner $pp ($(ms_exe "$pp"), SIGSTOP: parent of $p)"
    fi
  done <"$t.plan"
  while read -r p pp id e; do
    grep -qx "$p" "$t.killed" && continue
    if kill -TERM "$p" 2>/dev/null; then echo "$p" >>"$t.killed"; ms_said=1; echo "$M - paused killed $p ($e, SIGTERM): it held $id"; fi
  done <"$t.plan"
  [ -s "$t.killed" ] || return 0
  ms_wait_gone 12 && return 0
  while read -r p; do
    if ms_alive "$p" && ms_mta "$p"; then kill -KILL "$p" 2>/dev/null && echo "$M - paused killed $p (SIGKILL: SIGTERM did not end it)"; fi
  done <"$t.killed"
  ms_wait_gone 20
}
# ms_wait_gone N: up to N quarter seconds until every killed process is gone.
ms_wait_gone() {
  i=0
  while [ "$i" -lt "$1" ]; do
    a=''; while read -r p; do ms_alive "$p" && a=1; done <"$t.killed"
    [ -z "$a" ] && return 0
    sleep 0.25; i=$((i+1))
  done
  return 1
}
# SIGCONT first, then the temporary files, then the report: the channel may be gone (a client
# that disconnected: SIGPIPE on the first write), so nothing that matters comes after an echo.
ms_resume() {
  ms_msg=''; [ -f "$ms_st" ] || return 0
  n=0; while read -r p; do kill -CONT "$p" 2>/dev/null; n=$((n+1)); done <"$ms_st"
  left=''; while read -r p; do [ "$(ms_state "$p")" = T ] && left="$left $p"; done <"$ms_st"
  rm -f "$ms_st"
  [ "$n" -gt 0 ] || [ -n "$ms_said" ] || return 0
  if [ -n "$left" ]; then ms_msg="$M - notresumed still stopped after SIGCONT:$left"
  elif [ -z "$msd" ]; then ms_msg="$M - resumed $n process(es) (SIGCONT)"
  elif ms_alive "$msd"; then ms_msg="$M - resumed $n process(es) (SIGCONT); daemon running, pid $msd"
  else ms_msg="$M - notresumed daemon $msd is gone after the purge: the MTA is down"; fi
}
fin() { trap '' PIPE; ms_resume; fin_files; if [ -n "$ms_msg" ]; then echo "$ms_msg"; fi; }
