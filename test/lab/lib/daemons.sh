# shellcheck shell=bash
# Sourced by test/lab/lab: start a host's daemons (syslog, sshd, MTA, dovecot where there is one)
# and record their PIDs, stop them by PID, and hand the MTA over to its init script.

# start_daemon HOST NAME PIDFILE-IN-ROOT CMD...
start_daemon() {
  local h=$1 name=$2 pf=$3; shift 3
  our_pid "$h" "$name" >/dev/null && return 0
  local r; r="$(root_of "$h")"
  rm -f "$r$pf"
  inhost "$h" "$@" >>"$LAB_DIR/daemons.log" 2>&1 || die "$h: starting $name failed (see $LAB_DIR/daemons.log)"
  local p=""
  for _ in $(seq 100); do
    [[ -s "$r$pf" ]] && p="$(head -n1 "$r$pf" | tr -d ' \n')" && alive "$p" && break
    p=""; sleep 0.1
  done
  [[ -n "$p" ]] || die "$h: $name did not write $pf"
  mkdir -p "$(pid_dir "$h")"; echo "$p" >"$(pid_dir "$h")/$name.pid"
}

mta_pidfile() { echo "${MTA_PIDFILE[${MTA[$1]}]}"; }

start_host() {
  local h=$1
  net_up "$h"; mounts_up "$h"
  start_daemon "$h" syslog /run/rsyslogd.pid rsyslogd -i /run/rsyslogd.pid
  start_daemon "$h" sshd /run/sshd.pid /usr/sbin/sshd
  "${MTA[$h]}_start" "$h"
  dovecot_start "$h"
}

# Number of messages in the queue, by the MTA's own tools.
queue_count() { "${MTA[$1]}_queue_count" "$1"; }

# TERM, up to 5 s to go, then KILL.
kill_pids() {
  kill -TERM "$@" 2>/dev/null || true
  local p any; for _ in $(seq 50); do
    any=0; for p in "$@"; do alive "$p" && any=1; done
    ((any)) || break; sleep 0.1
  done
  for p in "$@"; do if alive "$p"; then kill -KILL "$p" 2>/dev/null || true; fi; done
}

stop_host() {
  local h=$1 r ns p f; r="$(root_of "$h")"; ns="$(ns_of "$h")"
  local pids=()
  if [[ -d "$(pid_dir "$h")" ]]; then
    for f in "$(pid_dir "$h")"/*.pid; do
      [[ -e "$f" ]] || continue
      p="$(our_pid "$h" "$(basename "$f" .pid)")" && pids+=("$p")
    done
  fi
  # Children of those daemons (exim deliveries, postfix services, ssh sessions) live
  # in the same namespace and root: collect them by PID too.
  if ip netns list | grep -qw "^$ns"; then
    for p in $(ip netns pids "$ns" 2>/dev/null); do
      [[ "$(readlink "/proc/$p/root" 2>/dev/null)" == "$r" ]] && pids+=("$p")
    done
  fi
  ((${#pids[@]} == 0)) || kill_pids "${pids[@]}"
  rm -rf "$(pid_dir "$h")"
  mounts_down "$h"
  net_down "$h"
}

host_up() {  # all daemons of a host running?
  local h=$1 d; for d in syslog sshd; do our_pid "$h" "$d" >/dev/null || return 1; done
  dovecot_up "$h" || return 1
  # After a restart over SSH the MTA runs under a new pid: adopt it (see adopt_mta).
  our_pid "$h" mta >/dev/null || adopt_mta "$h" 2>/dev/null
}

# After a restart from inside the host (init script, as mailsweep's restart does) the
# MTA runs under a new PID: record it, so status/down/up keep recognising it.
adopt_mta() {
  local h=$1 r pf p; r="$(root_of "$h")"; pf="$r$(mta_pidfile "$h")"
  our_pid "$h" mta >/dev/null && return 0
  [[ -s "$pf" ]] || return 1
  p="$(head -n1 "$pf" | tr -d ' \n')"
  alive "$p" && [[ "$(readlink "/proc/$p/root")" == "$r" ]] || return 1
  mkdir -p "$(pid_dir "$h")"; echo "$p" >"$(pid_dir "$h")/mta.pid"
  log "$h: adopted the running MTA (pid $p)"
}

# MTA processes of this host: in its namespace and root, running the MTA's binaries.
mta_procs() {
  local h=$1 r ns p e; r="$(root_of "$h")"; ns="$(ns_of "$h")"
  for p in $(ip netns pids "$ns" 2>/dev/null); do
    [[ "$(readlink "/proc/$p/root" 2>/dev/null)" == "$r" ]] || continue
    e="$(readlink "/proc/$p/exe" 2>/dev/null)" || continue
    case ${e##*/} in exim4|sendmail-mta|sendmail|master) echo "$p" ;; esac
  done
}

# `up` starts the MTA with `ip netns exec … chroot`: a mount namespace of its own, where an
# init script run over SSH (start-stop-daemon --exec) cannot recognise it, so a restart from
# an SSH session would start a second daemon beside it. Hand the MTA over to its init
# script, started in sshd's own namespaces and root (as on a real server).
handover_mta() {
  local h=$1 r sp mp pids init; r="$(root_of "$h")"; init="/etc/init.d/${INIT_SCRIPT[${MTA[$h]}]}"
  sp="$(our_pid "$h" sshd)" || die "$h: sshd not running"
  if mp="$(our_pid "$h" mta)" && [[ "$(readlink "/proc/$mp/ns/mnt")" == "$(readlink "/proc/$sp/ns/mnt")" ]]; then return 0; fi
  mapfile -t pids < <(mta_procs "$h")
  ((${#pids[@]} == 0)) || kill_pids "${pids[@]}"
  rm -f "$r$(mta_pidfile "$h")" "$(pid_dir "$h")/mta.pid"
  nsenter -t "$sp" -m -n -u -r -w -- "$init" start </dev/null >>"$LAB_DIR/daemons.log" 2>&1 9>&- \
    || die "$h: $init start failed (see $LAB_DIR/daemons.log)"
  for _ in $(seq 100); do adopt_mta "$h" 2>/dev/null && return 0; sleep 0.1; done
  die "$h: the MTA did not come up under its init script"
}
