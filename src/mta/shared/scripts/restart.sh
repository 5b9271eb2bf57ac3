# Restarting an MTA's daemon (exim, postfix, sendmail; qmail uses its own supervision). Functions;
# the MTA's script defines ms_probe (prints the daemon's pid, or nothing) and calls them in order:
#   ms_restart_lock; ms_before; ms_service_restart UNIT…; ms_wait_running
# Each prints "__MAILSWEEP_RESTART__ …" report lines (parseRestartOutput, restart-fragments.ts).
R=__MAILSWEEP_RESTART__

# The first pid file of the arguments that names a live process.
ms_pidfile_probe() {
  for f in "$@"; do
    if [ -s "$f" ]; then
      p=$(head -n 1 "$f" | tr -d ' \t\r')
      if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then echo "$p"; return 0; fi
    fi
  done
}

# Restarts on one host one at a time: a run killed mid-restart leaves the init script running
# (sshd sends no signal to a command without a tty), and its --resume restarts again at once; two
# interleaved stop/starts fail or leave the daemon down. flock waits for the other one (up to
# MS_LOCK_WAIT seconds); the lock goes with this shell. Without flock, no serialising.
# MS_LOCK: the lock file (default: /run for root, else the user's own in TMPDIR).
ms_restart_lock() {
  command -v flock >/dev/null 2>&1 || return 0
  lk=${MS_LOCK:-}
  if [ -z "$lk" ]; then
    # /run is root's own (no symlink games from local users).
    if [ "$(id -u)" = 0 ] && [ -d /run ] && [ -w /run ]; then lk=/run/mailsweep-restart.lock; else lk="${TMPDIR:-/tmp}/mailsweep-restart.$(id -u).lock"; fi
  fi
  # Probe in a subshell first: a failing exec redirection would end this shell.
  ( : >>"$lk" ) 2>/dev/null || return 0
  exec 9>>"$lk"
  if ! flock -n 9; then
    echo "$R waited for another restart"
    flock -w "${MS_LOCK_WAIT:-120}" 9 || { echo "$R busy ${MS_LOCK_WAIT:-120}"; exit 0; }
  fi
}

# The daemon's pid before the restart, for the report; kept in $b.
ms_before() { b=$(ms_probe); echo "$R before ${b:-none}"; }

# A purge killed outright (SIGKILL: no trap) may have left the daemon SIGSTOPped until its
# watchdog fires: a stopped daemon ignores the init script's SIGTERM. Wake it first.
ms_wake() { if [ -n "$b" ]; then kill -CONT "$b" 2>/dev/null; fi; }

# Restart the distribution's way: systemd when it runs (MS_SYSTEMD_DIR exists, sd_booted(3)), else
# the SysV init script, else `service`; the first of the units that exists. The init script's
# output goes to a file, never to the channel: a daemon inheriting the channel's stdout would keep
# the command from ever finishing; fd 9 (the lock) is closed for it.
ms_service_restart() {
  o=$(mktemp 2>/dev/null || echo "/tmp/mailsweep-restart.$$"); rrc=1; how=''
  if [ -d "${MS_SYSTEMD_DIR:-/run/systemd/system}" ] && command -v systemctl >/dev/null 2>&1; then
    u=''
    for n in "$@"; do if systemctl cat "$n.service" >/dev/null 2>&1; then u=$n; break; fi; done
    if [ -n "$u" ]; then how="systemctl restart $u"; systemctl restart "$u.service" </dev/null >"$o" 2>&1 9>&-; rrc=$?; fi
  fi
  if [ -z "$how" ]; then
    for n in "$@"; do
      if [ -x "/etc/init.d/$n" ]; then how="/etc/init.d/$n restart"; "/etc/init.d/$n" restart </dev/null >"$o" 2>&1 9>&-; rrc=$?; break; fi
    done
  fi
  if [ -z "$how" ] && command -v service >/dev/null 2>&1; then
    for n in "$@"; do how="service $n restart"; service "$n" restart </dev/null >"$o" 2>&1 9>&-; rrc=$?; [ "$rrc" -eq 0 ] && break; done
  fi
  if [ -z "$how" ]; then echo "$R how none"; else echo "$R how $how"; fi
  sed 's/^/| /' "$o" 2>/dev/null | tail -n 20; rm -f "$o"
  echo "$R rc $rrc"
}

# Wait (up to MS_WAIT seconds) until ms_probe finds a live daemon: "running <pid>" or "down".
ms_wait_running() {
  pid=''; i=0
  while [ "$i" -lt $(( ${MS_WAIT:-20} * 2 )) ]; do
    pid=$(ms_probe)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then break; fi
    pid=''; i=$((i+1)); sleep 0.5
  done
  if [ -n "$pid" ]; then echo "$R running $pid"; else echo "$R down"; fi
}
