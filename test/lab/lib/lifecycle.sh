# shellcheck shell=bash
# Sourced by test/lab/lab: `up` (build, configure, start, seed, write the inventory), `down`
# (stop by PID, unmount, remove namespaces and roots) and `status`.

cmd_up() {
  preflight
  mkdir -p "$LAB_DIR"
  exec 9>"$LAB_DIR/.lock"; flock 9
  local h all=1
  for h in "${HOSTS[@]}"; do host_up "$h" || all=0; done
  if ((all)) && [[ -f "$LAB_DIR/hosts.json" ]]; then log "lab already up"; return 0; fi
  ensure_keypair
  build_all
  for h in "${HOSTS[@]}"; do
    local r; r="$(root_of "$h")"
    if [[ ! -f "$r/.lab-configured" ]]; then
      host_up "$h" && die "$h: running but not configured?"
      stop_host "$h"
      [[ -d "$r" ]] && { findmnt -rn -o TARGET | grep -q "^$r/" && die "$h: mounts left under $r"; rm -rf --one-file-system "$r"; }
      mkdir -p "$LAB_DIR/roots"
      cp -a --reflink=auto "$(base_dir "$h")" "$r"
      local rc; set +e; ( set -e; configure_host "$h" ) >>"$LAB_DIR/configure.log" 2>&1; rc=$?; set -e
      ((rc == 0)) || { tail -n 30 "$LAB_DIR/configure.log" >&2; die "$h: configure failed"; }
    fi
  done
  for h in "${HOSTS[@]}"; do start_host "$h"; done
  local pids=() rc=0 i
  for h in "${HOSTS[@]}"; do seed_host "$h" & pids+=($!); done
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  ((rc == 0)) || die "seeding failed"
  write_inventory
  cmd_status
}

cmd_down() {
  preflight
  [[ -d "$LAB_DIR" ]] || { log "lab is down"; return 0; }
  exec 9>"$LAB_DIR/.lock"; flock 9
  local h r
  for h in "${HOSTS[@]}"; do
    stop_host "$h"
    r="$(root_of "$h")"
    if [[ -d "$r" ]]; then
      if findmnt -rn -o TARGET | grep -q "^$r/"; then log "$h: mounts remain under $r; keeping it"; else rm -rf --one-file-system "$r"; fi
    fi
  done
  rmdir "$LAB_DIR/roots" 2>/dev/null || true
  rm -f "$LAB_DIR/inventory.yaml" "$LAB_DIR/known_hosts" "$LAB_DIR/hosts.json" "$LAB_DIR/daemons.log" "$LAB_DIR/configure.log"
  rmdir "$LAB_DIR/pids" 2>/dev/null || true
  log "lab is down"
}

cmd_status() {
  preflight
  local h s m q b
  printf '%-18s %-12s %-9s %-9s %-9s %-6s %-8s %s\n' HOST ADDRESS MTA SSHD MTA-PROC QUEUE RELAY DOVECOT
  for h in "${HOSTS[@]}"; do
    s=stopped; m=stopped; q=-; b=closed
    our_pid "$h" sshd >/dev/null && s="running"
    { our_pid "$h" mta >/dev/null || adopt_mta "$h" 2>/dev/null; } && { m="running"; q="$(queue_count "$h" 2>/dev/null || echo '?')"; }
    our_pid "$h" stall >/dev/null && b=stalling
    printf '%-18s %-12s %-9s %-9s %-9s %-6s %-8s %s\n' "$h" "$(addr_of "$h")" "${MTA[$h]}" "$s" "$m" "$q" "$b" "$(dovecot_state "$h")"
  done
}
