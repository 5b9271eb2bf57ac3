# shellcheck shell=bash
# Sourced by test/lab/lab: the base roots. Base root per host = debootstrap minbase +
# packages, no lab config. Cached in $CACHE/roots, marked by <host>.ok = BASE_VERSION.
base_dir() { echo "$CACHE/roots/$1"; }
base_ok() { [[ -f "$CACHE/roots/$1.ok" && "$(cat "$CACHE/roots/$1.ok")" == "$BASE_VERSION" ]]; }

# Install whichever of the comma-separated packages are missing from a root: download
# with the network, install isolated (no maintainer script sees the host's network).
# Also brings an older cached root up to a longer package list without a rebuild.
# shellcheck disable=SC2086  # the package lists split into words on purpose
install_missing() {
  local dir=$1 suite=$2 pkgs=$3 blog=$4 h=$5 missing
  missing="$(chroot "$dir" dpkg-query -W -f='${Package} ${Status}\n' ${pkgs//,/ } 2>/dev/null | grep -vc 'install ok installed' || true)"
  if [[ "$missing" != 0 ]] || ! chroot "$dir" dpkg-query -W ${pkgs//,/ } >/dev/null 2>&1; then
    log "$h: apt-get install ${pkgs//,/ } (download with network, install isolated)"
    cp /etc/resolv.conf "$dir/etc/resolv.conf"
    local extra=""; [[ $suite == trixie ]] && extra="systemd-standalone-sysusers"
    local own_policy=0
    if [[ ! -e "$dir/usr/sbin/policy-rc.d" ]]; then
      own_policy=1; printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"; chmod 755 "$dir/usr/sbin/policy-rc.d"
    fi
    { chroot "$dir" apt-get -q update &&
      DEBIAN_FRONTEND=noninteractive chroot "$dir" apt-get -q -y --no-install-recommends --download-only install ${pkgs//,/ } $extra &&
      DEBIAN_FRONTEND=noninteractive isolated chroot "$dir" apt-get -q -y --no-install-recommends install ${pkgs//,/ } $extra; } >>"$blog" 2>&1 \
      || { tail -n 20 "$blog" >&2; die "$h: apt-get install failed"; }
    chroot "$dir" apt-get clean
    ((own_policy)) && rm -f "$dir/usr/sbin/policy-rc.d"
  fi
  return 0
}

build_base() {
  # shellcheck disable=SC2153  # SUITE is the hosts' table in config.sh
  local h=$1 suite=${SUITE[$1]} pkgs; pkgs="$(host_pkgs "$1")"
  local tmp="$CACHE/roots/.build-$h" dst blog="$CACHE/roots/.build-$h.log"; dst="$(base_dir "$h")"
  rm -rf "$tmp"; mkdir -p "$tmp"
  # trixie: debootstrap's resolver picks systemd for cron-daemon-common and then
  # fails on a pre-dependency; let apt resolve everything there instead.
  local include="$pkgs"; [[ $suite == trixie ]] && include="$COMMON_PKGS"
  log "$h: debootstrap $suite (first stage, downloads)"
  # First stage only downloads and unpacks; no maintainer script runs on the host's network.
  debootstrap --foreign --variant=minbase --keyring="$KEYRING" --include="$include" \
    "$suite" "$tmp" "$MIRROR" >"$blog" 2>&1 \
    || { tail -n 20 "$blog" >&2; die "$h: debootstrap first stage failed"; }
  # Never start daemons while configuring packages.
  printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"; chmod 755 "$tmp/usr/sbin/policy-rc.d"
  log "$h: debootstrap second stage (isolated: no network)"
  isolated chroot "$tmp" /debootstrap/debootstrap --second-stage >>"$blog" 2>&1 \
    || { tail -n 20 "$tmp/debootstrap/debootstrap.log" >&2 2>/dev/null; die "$h: debootstrap second stage failed"; }
  install_missing "$tmp" "$suite" "$pkgs" "$blog" "$h"
  rm -f "$tmp/usr/sbin/policy-rc.d"
  rm -rf "$dst"; mv "$tmp" "$dst"
  echo "$BASE_VERSION" >"$CACHE/roots/$h.ok"
  log "$h: base root cached in $dst"
}

build_all() {
  mkdir -p "$CACHE/roots"
  local h pids=() names=() rc=0
  for h in "${HOSTS[@]}"; do
    if base_ok "$h"; then
      # A cached root from before a package was added: install only what is missing.
      install_missing "$(base_dir "$h")" "${SUITE[$h]}" "$(host_pkgs "$h")" "$CACHE/roots/.build-$h.log" "$h" & pids+=($!); names+=("$h")
      continue
    fi
    build_base "$h" & pids+=($!); names+=("$h")
  done
  local i; for i in "${!pids[@]}"; do wait "${pids[$i]}" || { rc=1; log "${names[$i]}: build failed"; }; done
  [[ $rc == 0 ]] || die "building base roots failed (logs: $CACHE/roots/.build-*.log)"
}

