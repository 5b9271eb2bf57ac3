# shellcheck shell=bash
# Sourced by test/lab/lab: messages, names and addresses, the preflight check, running
# commands inside a root or a host, and the PIDs the lab recorded.

die() { echo "lab: error: $*" >&2; exit 1; }
log() { echo "lab: $*" >&2; }
root_of() { echo "$LAB_DIR/roots/$1"; }
ns_of() { echo "mslab-$1"; }
addr_of() { echo "10.213.${IDX[$1]}.2"; }
hostaddr_of() { echo "10.213.${IDX[$1]}.1"; }

preflight() {
  local why=""
  [[ "$(id -u)" == 0 ]] || why="must run as root (uses debootstrap, chroot, ip netns, mount)"
  if [[ -z "$why" ]]; then
    if [[ ! -r /etc/os-release ]] || ! grep -qE '^ID=debian$' /etc/os-release; then
      # shellcheck source=/dev/null
      why="must run on Debian (found: $(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-unknown}"))"
    fi
  fi
  if [[ -z "$why" ]]; then
    local t; for t in debootstrap chroot ip unshare mount ssh-keygen ssh flock; do
      command -v "$t" >/dev/null || why="missing tool: $t"
    done
  fi
  if [[ -n "$why" ]]; then
    cat >&2 <<EOF

  ############################################################################
  ##  mailsweep lab NOT AVAILABLE: $why
  ##  The real-server lab needs root on a Debian host (debootstrap + netns).
  ##  Tests that need the lab are skipped; recorded fixtures under
  ##  test/fixtures/lab/ are used instead.
  ############################################################################

EOF
    exit 3
  fi
}

# Isolated: empty network namespace (lo only), own pid namespace (anything a
# maintainer script starts dies with it), own mount namespace.
isolated() { unshare --net --uts --pid --fork --kill-child --mount sh -c 'ip link set lo up && exec "$@"' sh "$@"; }

# Runs in a fresh, empty network namespace: configuration never touches a network.
inroot() { local h=$1; shift; isolated chroot "$(root_of "$h")" "$@" 9>&-; }

# Run inside the host's namespace + chroot, in its own UTS namespace (hostname = lab name).
inhost() {
  local h=$1; shift
  # fd 9 is the lab lock: daemons must not inherit it.
  ip netns exec "$(ns_of "$h")" unshare --uts -- chroot "$(root_of "$h")" \
    /bin/sh -c 'echo "$0" >/proc/sys/kernel/hostname && exec "$@"' "$h" "$@" 9>&-
}

pid_dir() { echo "$LAB_DIR/pids/$1"; }
# Running (zombies awaiting their reaper count as gone).
alive() {
  [[ -n "${1:-}" ]] || return 1
  local st; st="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  st=${st##*) }; [[ ${st:0:1} != Z ]]
}
# PID recorded by up for daemon $2 of host $1, if that process is still ours (runs in our root).
our_pid() {
  local f; f="$(pid_dir "$1")/$2.pid"
  [[ -f "$f" ]] || return 1
  local p; p="$(cat "$f")"
  alive "$p" && [[ "$(readlink "/proc/$p/root")" == "$(root_of "$1")" ]] && echo "$p"
}

# A JSON string literal (the values the lab writes have no control characters).
json_str() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
