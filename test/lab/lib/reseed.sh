# shellcheck shell=bash
# Sourced by test/lab/lab: `reseed`. Restores the seeded queues after a destructive test:
# empties them with the MTA's own tool and seeds them as `up` does (a settled queue is left).

# Empty the queue with the MTA's own tool (sendmail has none: its queue files).
empty_queue() {
  local h=$1
  "${MTA[$h]}_empty_queue" "$h"
  local c; c="$(queue_count "$h")"
  [[ "$c" == 0 ]] || die "$h: queue not empty after emptying it ($c left)"
}

# The mail logs as after `up`: only the new seed's lines. Every reseed adds a whole seed's worth
# of log lines for today; after a dozen, a legitimate account's daily count passes the baseline
# rule's floor (100) and it turns up as a suspect. Truncated in place: syslog and exim append.
clear_logs() {
  local r f; r="$(root_of "$1")"
  for f in var/log/mail.log var/log/mail.err var/log/mail.warn var/log/mail.info var/log/exim4/mainlog var/log/exim4/rejectlog; do
    [[ -f "$r/$f" ]] && : >"$r/$f"
  done
  return 0
}

reseed_host() {
  local h=$1
  # Seeding delivers at once: with the stalling relay on it would hang. Reseed leaves it off.
  busy_off "$h"
  host_up "$h" || adopt_mta "$h" || true
  if ! { our_pid "$h" sshd >/dev/null && our_pid "$h" syslog >/dev/null && dovecot_up "$h"; }; then start_host "$h"; fi
  handover_mta "$h"
  host_up "$h" || die "$h: not running"
  if settled_once "$h"; then log "$h: queue already as seeded ($SETTLE_GOT messages)"; return 0; fi
  log "$h: emptying the queue ($(queue_count "$h") messages)"
  empty_queue "$h"
  clear_logs "$h"
  seed_host "$h"
  log "$h: reseeded"
}

cmd_reseed() {
  preflight
  [[ -f "$LAB_DIR/hosts.json" ]] || die "lab is not up (run: test/lab/lab up)"
  exec 9>"$LAB_DIR/.lock"; flock 9
  local hs=("$@") h pids=() rc=0 i
  ((${#hs[@]})) || hs=("${HOSTS[@]}")
  for h in "${hs[@]}"; do [[ -n "${IDX[$h]:-}" ]] || die "unknown host: $h (hosts: ${HOSTS[*]})"; done
  for h in "${hs[@]}"; do reseed_host "$h" & pids+=($!); done
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  ((rc == 0)) || die "reseeding failed"
  # The seeding plan may have changed since `up`: the expected facts follow it.
  write_inventory
}
