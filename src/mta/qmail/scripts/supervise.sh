# How the running qmail-send is supervised, found on the host itself, and the one function that
# stops, starts and restarts it that way: `qctl stop|start|restart` (exit 0 = done, non-zero =
# could not). Used by the restart (restart.sh) and by the purge (purge.sh), which must stop
# qmail-send while it removes queue files. The detection and its reasons: supervise.ts.
#
# Settings (qmailSuperviseSettings): qsv_P /proc; qsv_M the systemd marker directory; qsv_I the
# init script; qsv_S the state directory ('' = default); qsv_U qmails' uid ('' = id -u qmails);
# qsv_W seconds to wait; qsv_R root's uid; qsv_N the process name; QSV_ENC_AWK (enc.awk).
#
# After it acts, `qctl` leaves a one-line description in $qsv_how (for the report: "how").
# All variables and functions are prefixed qsv_ (POSIX sh has no locals): only qctl, qsend and
# $qsv_how are meant for the scripts that include this file.

[ -n "$qsv_U" ] || qsv_U=$(id -u qmails 2>/dev/null)
# /run is root's alone; another user gets a directory of its own, checked before use.
if [ -z "$qsv_S" ]; then
  if [ "$(id -u)" = 0 ] && [ -d /run ]; then qsv_S=/run/mailsweep-qmail-send; else qsv_S="${TMPDIR:-/tmp}/mailsweep-qmail-send.$(id -u)"; fi
fi
qsv_how=''

# Printable ASCII only: server data on its way into a report line.
qsv_clean() { printf '%s' "$1" | LC_ALL=C tr -c ' -~' '?'; }
# qsv_st PID FIELD: a field of /proc/PID/status.
qsv_st() { sed -n "s/^$2:[[:space:]]*//p" "$qsv_P/$1/status" 2>/dev/null | head -n 1; }
qsv_uid() { qsv_st "$1" Uid | awk '{ print $1 }'; }
qsv_live() {
  kill -0 "$1" 2>/dev/null || return 1
  case "$(qsv_st "$1" State)" in Z*|X*|'') return 1;; esac
  return 0
}
# The qmail-send processes: named so, running as qmails (a local user can name a program
# qmail-send, but cannot run it as qmails), alive.
qsv_pids() {
  grep -l -x "Name:[[:space:]]*$qsv_N" "$qsv_P"/[0-9]*/status 2>/dev/null | while IFS= read -r qsv_f; do
    qsv_q=${qsv_f%/status}; qsv_q=${qsv_q##*/}
    case "$qsv_q" in ''|*[!0-9]*) continue;; esac
    if [ -n "$qsv_U" ] && [ "$(qsv_uid "$qsv_q")" = "$qsv_U" ] && qsv_live "$qsv_q"; then echo "$qsv_q"; fi
  done
}
qsv_pid() { qsv_pids | head -n 1; }
qsend() { qsv_pid; }
# Root's, and not writable by group or others (the file, or the directory itself).
qsv_rootok() {
  # shellcheck disable=SC2012 # the owner and mode of one path (its target), not a listing
  ls -ldLn -- "$1" 2>/dev/null | {
    read -r qsv_m _ qsv_o _
    [ "$qsv_o" = "$qsv_R" ] || exit 1
    case "$qsv_m" in ?????w*|????????w*) exit 1;; esac
    exit 0
  }
}
# NUL-separated items (stdin) as lines of octal escapes (enc.awk); qsv_dec ESC: one back, in $qsv_v.
qsv_enc() { od -An -v -t o1 | LC_ALL=C awk -v env="$1" "$QSV_ENC_AWK"; }
qsv_dec() { qsv_v=$(printf '%b.' "$1"); qsv_v=${qsv_v%.}; }

# State: one file per value, written with printf '%s', read back byte for byte.
qsv_safe() { [ ! -L "$qsv_S" ] && [ -d "$qsv_S" ] && [ -O "$qsv_S" ]; }
qsv_new() {
  if [ -L "$qsv_S" ] || { [ -e "$qsv_S" ] && ! qsv_safe; }; then echo "unsafe state directory $(qsv_clean "$qsv_S"): not used"; return 1; fi
  if ! { (umask 077; mkdir -p "$qsv_S") && chmod 700 "$qsv_S" && rm -f "$qsv_S"/* && qsv_safe; }; then
    echo "cannot write the state directory $(qsv_clean "$qsv_S")"; return 1
  fi
}
qsv_put() { printf '%s' "$2" >"$qsv_S/$1"; }
qsv_get() { qsv_v=$(cat "$qsv_S/$1" 2>/dev/null; echo .); qsv_v=${qsv_v%.}; }
qsv_drop() { rm -f "$qsv_S"/*; rmdir "$qsv_S" 2>/dev/null; return 0; }

# qsv_sk PID: PID is a root supervisor with a service directory → qsv_kind, qsv_sup, qsv_dir.
qsv_sk() {
  case "$1" in ''|0|*[!0-9]*) return 1;; esac
  case "$(qsv_st "$1" Name)" in supervise) qsv_kk=daemontools;; runsv) qsv_kk=runit;; s6-supervise) qsv_kk=s6;; *) return 1;; esac
  [ "$(qsv_uid "$1")" = "$qsv_R" ] || return 1
  qsv_d=$(readlink "$qsv_P/$1/cwd" 2>/dev/null); [ -n "$qsv_d" ] && [ -d "$qsv_d" ] || return 1
  qsv_kind=$qsv_kk; qsv_sup=$1; qsv_dir=$qsv_d; qsv_tool=''
  case "$qsv_kk" in daemontools) qsv_tl svc;; runit) qsv_tl sv;; s6) qsv_tl s6-svc;; esac
  return 0
}
# qsv_tl NAME: the control tool beside the supervisor's binary, else in PATH, else in /command.
qsv_tl() {
  qsv_x=$(readlink "$qsv_P/$qsv_sup/exe" 2>/dev/null); qsv_x=${qsv_x% (deleted)}
  if [ -n "$qsv_x" ] && [ -x "${qsv_x%/*}/$1" ]; then qsv_tool="${qsv_x%/*}/$1"; return; fi
  qsv_x=$(command -v "$1" 2>/dev/null)
  case "$qsv_x" in /*) qsv_tool=$qsv_x; return;; esac
  if [ -x "/command/$1" ]; then qsv_tool="/command/$1"; fi
}
# qsv_find PID: how PID is supervised → qsv_kind (daemontools|runit|s6|systemd|''), qsv_mid (the
# process the supervisor watches: PID, or the shell between them: a run script without exec).
qsv_find() {
  qsv_kind=''; qsv_dir=''; qsv_tool=''; qsv_unit=''; qsv_sup=''; qsv_mid=$1; qsv_pp=$(qsv_st "$1" PPid)
  if qsv_sk "$qsv_pp"; then return 0; fi
  case "$(qsv_st "$qsv_pp" Name)" in
    sh|bash|dash|ash|ksh|mksh|csh|tcsh|zsh) if qsv_sk "$(qsv_st "$qsv_pp" PPid)"; then qsv_mid=$qsv_pp; return 0; fi;;
  esac
  qsv_sd "$1"
  return 0
}
# qsv_sd PID: a systemd system service (its cgroup names a .service whose MainPID it is, or a
# system.slice unit named *qmail*) → qsv_kind=systemd, qsv_unit.
qsv_sd() {
  [ -d "$qsv_M" ] && command -v systemctl >/dev/null 2>&1 || return 1
  qsv_x=$(awk -F/ '$0 !~ /user\.slice/ { for (i = NF; i > 1; i--) if ($i ~ /^[A-Za-z0-9@._:-]+\.service$/) { print (i == 3 && $2 == "system.slice" ? "S " : "- ") $i; exit } }' "$qsv_P/$1/cgroup" 2>/dev/null | head -n 1)
  [ -n "$qsv_x" ] || return 1
  qsv_u=${qsv_x#? }
  qsv_m=$(systemctl show -p MainPID "$qsv_u" 2>/dev/null | sed -n 's/^MainPID=//p')
  if [ "$qsv_m" = "$1" ]; then qsv_kind=systemd; qsv_unit=$qsv_u; return 0; fi
  case "$qsv_x" in "S "*qmail*) qsv_kind=systemd; qsv_unit=$qsv_u; return 0;; esac
  return 1
}
# qsv_gone PID SECONDS: wait until PID is no qmail-send any more.
qsv_gone() {
  qsv_i=0
  while qsv_live "$1" && [ "$(qsv_st "$1" Name)" = "$qsv_N" ]; do
    [ "$qsv_i" -ge $(($2 * 2)) ] && return 1
    qsv_i=$((qsv_i + 1)); sleep 0.5
  done
  return 0
}
# qsv_up SECONDS: wait until a qmail-send runs.
qsv_up() {
  qsv_i=0
  while [ -z "$(qsv_pid)" ]; do
    [ "$qsv_i" -ge $(($1 * 2)) ] && return 1
    qsv_i=$((qsv_i + 1)); sleep 0.5
  done
  return 0
}
# qsv_words FILE: an encoded list as one printable line (for the report).
qsv_words() {
  qsv_w=''
  while IFS= read -r qsv_e; do qsv_dec "$qsv_e"; qsv_w="$qsv_w ${qsv_v}"; done <"$1"
  qsv_clean "${qsv_w# }"
}
# qsv_pathok: every PATH directory of the recorded environment is root's (or, when missing, its
# parent is): the environment comes from a process running as qmails.
qsv_pathok() {
  while IFS= read -r qsv_e; do
    qsv_dec "$qsv_e"
    case "$qsv_v" in PATH=*) ;; *) continue;; esac
    qsv_v=${qsv_v#PATH=}
    while :; do
      qsv_x=${qsv_v%%:*}
      case "$qsv_x" in /*) ;; *) echo "PATH entry '$(qsv_clean "$qsv_x")' is not absolute"; return 1;; esac
      if [ -e "$qsv_x" ]; then
        qsv_rootok "$qsv_x" || { echo "PATH directory $(qsv_clean "$qsv_x") is not root's alone"; return 1; }
      else
        qsv_y=${qsv_x%/*}
        qsv_rootok "${qsv_y:-/}" || { echo "PATH directory $(qsv_clean "$qsv_x") is missing and its parent is not root's alone"; return 1; }
      fi
      [ "$qsv_x" = "$qsv_v" ] && break
      qsv_v=${qsv_v#*:}
    done
  done <"$qsv_S/env.enc"
  return 0
}
# qsv_record PID: record how to start a bare qmail-send again (argv.enc, env.enc, cwd).
# qmail-start exec()s qmail-send (notqmail qmail-start.c), so qmail-start's command line is
# rebuilt from qmail-send's children: qmail-start (beside qmail-send's binary), qmail-lspawn's
# argument, the logger child's command line. Without qmail-lspawn children: its own command line.
qsv_record() {
  qsv_b="$qsv_P/$1"
  if ! { cat "$qsv_b/cmdline" >"$qsv_S/cmdline.raw" 2>/dev/null && cat "$qsv_b/environ" >"$qsv_S/environ.raw" 2>/dev/null; }; then
    echo "cannot read the command line and environment of pid $1"; return 1
  fi
  qsv_put cwd "$(readlink "$qsv_b/cwd" 2>/dev/null)"
  qsv_enc 1 <"$qsv_S/environ.raw" >"$qsv_S/env.enc"
  qsv_ls=''; qsv_lg=''; qsv_n=0
  # shellcheck disable=SC2013 # pids, one word each
  for qsv_k in $(grep -l -x "PPid:[[:space:]]*$1" "$qsv_P"/[0-9]*/status 2>/dev/null | sed 's,/status$,,; s,.*/,,' | grep -x '[0-9][0-9]*'); do
    case "$(qsv_st "$qsv_k" Name)" in qmail-lspawn) qsv_ls=$qsv_k;; qmail-rspawn|qmail-clean) ;; *) qsv_lg=$qsv_k; qsv_n=$((qsv_n + 1));; esac
  done
  if [ -n "$qsv_ls" ]; then
    [ "$qsv_n" -le 1 ] || { echo "qmail-send has $qsv_n children besides qmail-lspawn, -rspawn and -clean: cannot tell qmail-start's logger"; return 1; }
    qsv_x=$(readlink "$qsv_b/exe" 2>/dev/null); qsv_x=${qsv_x% (deleted)}; qsv_x="${qsv_x%/*}/qmail-start"
    case "$qsv_x" in /*) ;; *) echo "cannot find qmail-start beside qmail-send"; return 1;; esac
    if [ ! -f "$qsv_x" ] || [ ! -x "$qsv_x" ]; then echo "no qmail-start beside qmail-send ($(qsv_clean "$qsv_x"))"; return 1; fi
    {
      printf '%s\000' "$qsv_x" | qsv_enc 0
      qsv_enc 0 <"$qsv_P/$qsv_ls/cmdline" | sed -n 2p
      if [ -n "$qsv_lg" ]; then qsv_enc 0 <"$qsv_P/$qsv_lg/cmdline"; fi
    } >"$qsv_S/argv.enc"
  else
    qsv_enc 0 <"$qsv_S/cmdline.raw" >"$qsv_S/argv.enc"; qsv_x=''
  fi
  qsv_e=$(head -n 1 "$qsv_S/argv.enc"); [ -n "$qsv_e" ] || { echo "pid $1 has an empty command line"; return 1; }
  qsv_dec "$qsv_e"
  case "$qsv_v" in
    *=*) echo "its program name contains '=': not restarted from it"; return 1;;
    /*) qsv_x=$qsv_v;;
    */*) echo "its program is a relative path: not restarted from it"; return 1;;
  esac
  if [ -n "$qsv_x" ]; then
    if ! qsv_rootok "$qsv_x" || ! qsv_rootok "${qsv_x%/*}"; then echo "$(qsv_clean "$qsv_x") is not root's alone: not run from a recorded command line"; return 1; fi
  fi
  qsv_pathok || return 1
  qsv_put mode bare; qsv_put pid "$1"
  qsv_put how "TERM pid $1, then $(qsv_words "$qsv_S/argv.enc") (no supervisor: recorded command line and environment, detached)"
  return 0
}
# qsv_launch: start the recorded command detached, every argument a separate word.
qsv_launch() {
  set --
  while IFS= read -r qsv_e; do qsv_dec "$qsv_e"; set -- "$@" "$qsv_v"; done <"$qsv_S/env.enc"
  while IFS= read -r qsv_e; do qsv_dec "$qsv_e"; set -- "$@" "$qsv_v"; done <"$qsv_S/argv.enc"
  qsv_get cwd; qsv_c=$qsv_v
  if command -v setsid >/dev/null 2>&1; then qsv_z='setsid'; else qsv_z='nohup'; fi
  ( cd "$qsv_c" 2>/dev/null || cd /; exec "$qsv_z" env -i -- "$@" ) </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
}
# qsv_down: stop the running qmail-send $qsv_p the way qsv_find found (state recorded first).
qsv_down() {
  qsv_new || return 1
  qsv_rc=0
  case "$qsv_kind" in
    daemontools|runit|s6)
      [ -n "$qsv_tool" ] || { echo "qmail-send runs under $qsv_kind in $(qsv_clean "$qsv_dir"), but no control tool for it was found"; return 1; }
      qsv_put mode "$qsv_kind"; qsv_put tool "$qsv_tool"; qsv_put dir "$qsv_dir"
      case "$qsv_kind" in daemontools) qsv_a=-d;; runit) qsv_a=down;; s6) qsv_a=-d;; esac
      qsv_how="$(qsv_clean "$qsv_tool $qsv_a $qsv_dir") ($qsv_kind)"
      "$qsv_tool" "$qsv_a" "$qsv_dir" || qsv_rc=$?
      if [ "$qsv_mid" != "$qsv_p" ]; then kill -TERM "$qsv_p" 2>/dev/null; fi;;
    systemd)
      qsv_put mode systemd; qsv_put unit "$qsv_unit"
      qsv_how="systemctl stop $(qsv_clean "$qsv_unit")"
      systemctl stop "$qsv_unit" </dev/null || qsv_rc=$?;;
    *)
      if command -v qmailctl >/dev/null 2>&1; then
        qsv_put mode qmailctl; qsv_how='qmailctl stop'; qmailctl stop </dev/null || qsv_rc=$?
      elif [ -x "$qsv_I" ]; then
        qsv_put mode init; qsv_put init "$qsv_I"; qsv_how="$(qsv_clean "$qsv_I") stop"; "$qsv_I" stop </dev/null || qsv_rc=$?
      else
        # Nothing supervises it: how to start it again is recorded before it is stopped.
        qsv_record "$qsv_p" || { qsv_drop; echo "qmail-send (pid $qsv_p) not stopped: nothing supervises it and it cannot be started again as it was"; return 1; }
        qsv_get how; qsv_how=$qsv_v
        kill -TERM "$qsv_p" || qsv_rc=$?
      fi;;
  esac
  if [ "$qsv_rc" -ne 0 ]; then echo "$qsv_how exited $qsv_rc"; fi
  if ! qsv_gone "$qsv_p" "$qsv_W"; then echo "qmail-send (pid $qsv_p) still runs $qsv_W s after $qsv_how"; return 1; fi
  return 0
}
qsv_stop() {
  qsv_p=$(qsv_pid)
  if [ -z "$qsv_p" ]; then
    # Down already: a record of an earlier stop stays for the start that belongs to it.
    if qsv_safe && [ -f "$qsv_S/mode" ]; then qsv_get how; qsv_how="none: qmail-send already stopped ($qsv_v)"; echo "$qsv_how"; return 0; fi
    if command -v qmailctl >/dev/null 2>&1; then qsv_how='qmailctl stop'; qmailctl stop </dev/null; return; fi
    if [ -x "$qsv_I" ]; then qsv_how="$(qsv_clean "$qsv_I") stop"; "$qsv_I" stop </dev/null; return; fi
    qsv_how='none: qmail-send is not running'; echo "$qsv_how"; return 0
  fi
  qsv_find "$qsv_p"
  qsv_down || return 1
  echo "qmail-send (pid $qsv_p) stopped: $qsv_how"
  return 0
}
# qsv_scan: a root supervisor whose service is qmail-send's (for a start with no record).
qsv_scan() {
  for qsv_n in supervise runsv s6-supervise; do grep -l -x "Name:[[:space:]]*$qsv_n" "$qsv_P"/[0-9]*/status 2>/dev/null; done |
    sed 's,/status$,,; s,.*/,,' | grep -x '[0-9][0-9]*' | while IFS= read -r qsv_k; do
      qsv_sup=$qsv_k; qsv_sk "$qsv_k" || continue
      case "${qsv_dir##*/}" in qmail-send|send) echo "$qsv_k"; break;; esac
      if grep -q -e qmail-start -e '/qmail/rc' "$qsv_dir/run" 2>/dev/null; then echo "$qsv_k"; break; fi
    done
}
# qsv_start: from the record of the stop, else a supervisor whose service is qmail-send's, a
# qmail/qmail-send systemd unit, qmailctl, the init script.
qsv_start() {
  if qsv_safe && [ -f "$qsv_S/mode" ]; then
    qsv_get mode; qsv_m=$qsv_v; qsv_rc=0
    if [ -n "$(qsv_pid)" ] && [ "$qsv_m" != daemontools ] && [ "$qsv_m" != runit ] && [ "$qsv_m" != s6 ]; then qsv_how='none: qmail-send runs already'; qsv_drop; echo "$qsv_how"; return 0; fi
    case "$qsv_m" in
      daemontools|runit|s6)
        qsv_get tool; qsv_t=$qsv_v; qsv_get dir; qsv_d=$qsv_v
        case "$qsv_m" in runit) qsv_a=up;; *) qsv_a=-u;; esac
        qsv_how="$(qsv_clean "$qsv_t $qsv_a $qsv_d") ($qsv_m)"
        "$qsv_t" "$qsv_a" "$qsv_d" || qsv_rc=$?;;
      systemd) qsv_get unit; qsv_how="systemctl start $(qsv_clean "$qsv_v")"; systemctl start "$qsv_v" </dev/null || qsv_rc=$?;;
      qmailctl) qsv_how='qmailctl start'; qmailctl start </dev/null || qsv_rc=$?;;
      init) qsv_get init; qsv_how="$(qsv_clean "$qsv_v") start"; "$qsv_v" start </dev/null || qsv_rc=$?;;
      bare) qsv_get how; qsv_how=$qsv_v; qsv_launch;;
      *) echo "unknown record in $(qsv_clean "$qsv_S"): not used"; return 1;;
    esac
    if qsv_up "$qsv_W"; then qsv_drop; echo "qmail-send started (pid $(qsv_pid)): $qsv_how"; return 0; fi
    echo "qmail-send not running $qsv_W s after $qsv_how (exit $qsv_rc); the record in $(qsv_clean "$qsv_S") is kept"
    return 1
  fi
  if [ -n "$(qsv_pid)" ]; then qsv_how='none: qmail-send runs already'; echo "$qsv_how"; return 0; fi
  qsv_k=$(qsv_scan)
  if [ -n "$qsv_k" ]; then
    qsv_sup=$qsv_k; qsv_sk "$qsv_k"
    if [ -n "$qsv_tool" ]; then
      case "$qsv_kind" in runit) qsv_a=up;; *) qsv_a=-u;; esac
      qsv_how="$(qsv_clean "$qsv_tool $qsv_a $qsv_dir") ($qsv_kind)"
      "$qsv_tool" "$qsv_a" "$qsv_dir"; return
    fi
  fi
  if [ -d "$qsv_M" ] && command -v systemctl >/dev/null 2>&1; then
    for qsv_u in qmail.service qmail-send.service; do
      if systemctl cat "$qsv_u" >/dev/null 2>&1; then qsv_how="systemctl start $qsv_u"; systemctl start "$qsv_u" </dev/null; return; fi
    done
  fi
  if command -v qmailctl >/dev/null 2>&1; then qsv_how='qmailctl start'; qmailctl start </dev/null; return; fi
  if [ -x "$qsv_I" ]; then qsv_how="$(qsv_clean "$qsv_I") start"; "$qsv_I" start </dev/null; return; fi
  qsv_how=none
  echo "qmail-send is not running, and no record of how it ran, no supervisor for it, qmailctl or init script was found"
  return 1
}
qsv_restart() {
  qsv_p=$(qsv_pid)
  if [ -z "$qsv_p" ]; then qsv_start; return; fi
  qsv_find "$qsv_p"; qsv_rc=0
  case "$qsv_kind" in
    daemontools|runit|s6)
      [ -n "$qsv_tool" ] || { qsv_how=none; echo "qmail-send runs under $qsv_kind in $(qsv_clean "$qsv_dir"), but no control tool for it was found"; return 1; }
      case "$qsv_kind" in runit) qsv_a=term;; *) qsv_a=-t;; esac
      qsv_how="$(qsv_clean "$qsv_tool $qsv_a $qsv_dir") ($qsv_kind)"
      "$qsv_tool" "$qsv_a" "$qsv_dir" || qsv_rc=$?
      if [ "$qsv_mid" != "$qsv_p" ]; then kill -TERM "$qsv_p" 2>/dev/null; fi
      return "$qsv_rc";;
    systemd) qsv_how="systemctl restart $(qsv_clean "$qsv_unit")"; systemctl restart "$qsv_unit" </dev/null; return;;
  esac
  if command -v qmailctl >/dev/null 2>&1; then qsv_how='qmailctl restart'; qmailctl restart </dev/null; return; fi
  if [ -x "$qsv_I" ]; then qsv_how="$(qsv_clean "$qsv_I") restart"; "$qsv_I" restart </dev/null; return; fi
  # Nothing supervises it: stop (recorded) and start from the record.
  qsv_down || { [ -n "$qsv_how" ] || qsv_how=none; return 1; }
  qsv_h=$qsv_how; qsv_start; qsv_rc=$?; qsv_how=$qsv_h
  return "$qsv_rc"
}
qctl() {
  qsv_how=''
  case "$1" in
    stop) qsv_stop;;
    start) qsv_start;;
    restart) qsv_restart;;
    *) echo "qctl: stop, start or restart"; return 2;;
  esac
}
