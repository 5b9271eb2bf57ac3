# shellcheck shell=bash
# Sourced by test/lab/lab: `busy`, the stalling relay (guest/stall-relay.pl). Where the MTA
# relays remote mail (exim/sendmail 127.0.0.2:2, postfix 127.0.0.1:2; normally closed, so every
# attempt fails at once) a listener accepts TCP and never sends a greeting. A queue run then
# waits minutes (sendmail Timeout.initial, exim's command_timeout: 5 min) holding the lock of
# the message it delivers: a busy server.
# The address is each MTA's RELAY_ADDR (mta/<mta>.sh), the port RELAY_PORT (lib/config.sh).

busy_on() {
  local h=$1 r p; r="$(root_of "$h")"
  our_pid "$h" stall >/dev/null && { log "$h: stalling relay already on"; return 0; }
  install -m 755 "$LAB_HOME/guest/stall-relay.pl" "$r/usr/local/sbin/lab-stall-relay"
  rm -f "$r/run/lab-stall.pid"
  inhost "$h" /usr/local/sbin/lab-stall-relay "${RELAY_ADDR[${MTA[$h]}]}" "$RELAY_PORT" /run/lab-stall.pid \
    >>"$LAB_DIR/daemons.log" 2>&1 || die "$h: starting the stalling relay failed (see $LAB_DIR/daemons.log)"
  p=""
  for _ in $(seq 50); do
    [[ -s "$r/run/lab-stall.pid" ]] && p="$(tr -d ' \n' <"$r/run/lab-stall.pid")" && alive "$p" && break
    p=""; sleep 0.1
  done
  [[ -n "$p" ]] || die "$h: the stalling relay did not start"
  mkdir -p "$(pid_dir "$h")"; echo "$p" >"$(pid_dir "$h")/stall.pid"
  log "$h: stalling relay on ${RELAY_ADDR[${MTA[$h]}]}:$RELAY_PORT (pid $p)"
}

busy_off() {
  local h=$1 p
  if p="$(our_pid "$h" stall)"; then
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 30); do alive "$p" || break; sleep 0.1; done
    if alive "$p"; then kill -KILL "$p" 2>/dev/null || true; fi
    log "$h: stalling relay off"
  fi
  rm -f "$(pid_dir "$h")/stall.pid" "$(root_of "$h")/run/lab-stall.pid"
}

cmd_busy() {
  preflight
  [[ -f "$LAB_DIR/hosts.json" ]] || die "lab is not up (run: test/lab/lab up)"
  local args=("$@") n=$# mode hs h
  ((n >= 2)) || die "usage: lab busy HOST... on|off"
  mode=${args[n - 1]}; hs=("${args[@]:0:n-1}")
  [[ $mode == on || $mode == off ]] || die "usage: lab busy HOST... on|off (got '$mode')"
  for h in "${hs[@]}"; do [[ -n "${IDX[$h]:-}" ]] || die "unknown host: $h (hosts: ${HOSTS[*]})"; done
  exec 9>"$LAB_DIR/.lock"; flock 9
  for h in "${hs[@]}"; do host_up "$h" || die "$h: not running"; "busy_$mode" "$h"; done
}
