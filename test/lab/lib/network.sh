# shellcheck shell=bash
# Sourced by test/lab/lab: each host's network namespace (mslab-<host>, a veth pair, no default
# route) and the mounts its root needs (/proc, a private /dev with its own devpts).

net_up() {
  local h=$1 n=${IDX[$1]} ns; ns="$(ns_of "$h")"
  ip netns list | grep -qw "^$ns" && return 0
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "mslab$n" type veth peer name "mslab${n}x"
  ip link set "mslab${n}x" netns "$ns"
  ip -n "$ns" link set "mslab${n}x" name eth0
  ip addr add "$(hostaddr_of "$h")/30" dev "mslab$n"
  ip link set "mslab$n" up
  ip -n "$ns" addr add "$(addr_of "$h")/30" dev eth0
  ip -n "$ns" link set eth0 up
  # deliberately no default route
}

net_down() {
  local h=$1 ns; ns="$(ns_of "$h")"
  ip netns list | grep -qw "^$ns" && ip netns del "$ns"
  if ip link show "mslab${IDX[$h]}" >/dev/null 2>&1; then ip link del "mslab${IDX[$h]}" || true; fi
}

mounts_up() {
  local r; r="$(root_of "$1")"
  mountpoint -q "$r/proc" || mount -t proc proc "$r/proc"
  if ! mountpoint -q "$r/dev"; then
    # A private /dev (not the host's): the chroot's syslogd creates /dev/log and
    # must not replace the real host's /dev/log.
    mount -t tmpfs -o mode=755,size=1m,nosuid tmpfs "$r/dev"
    local d; for d in "null c 1 3" "zero c 1 5" "full c 1 7" "random c 1 8" "urandom c 1 9" "tty c 5 0"; do
      # shellcheck disable=SC2086  # "name type major minor" splits on purpose
      set -- $d; mknod -m 666 "$r/dev/$1" "$2" "$3" "$4"
    done
    mkdir -m 755 "$r/dev/pts"; mkdir -m 1777 "$r/dev/shm"
    ln -s /proc/self/fd "$r/dev/fd"; ln -s /proc/self/fd/0 "$r/dev/stdin"
    ln -s /proc/self/fd/1 "$r/dev/stdout"; ln -s /proc/self/fd/2 "$r/dev/stderr"
    ln -s pts/ptmx "$r/dev/ptmx"
  fi
  mountpoint -q "$r/dev/pts" || mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$r/dev/pts"
}

mounts_down() {
  local r m; r="$(root_of "$1")"
  [[ -d "$r" ]] || return 0
  for m in dev/pts dev proc; do
    mountpoint -q "$r/$m" && { umount "$r/$m" 2>/dev/null || umount -l "$r/$m"; }
  done
  return 0
}
