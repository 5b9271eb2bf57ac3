# shellcheck shell=bash
# Sourced by test/lab/lab: a fresh copy of a base root becomes a lab host (users, ssh, syslog),
# then mta/<mta>.sh configures its MTA. Runs isolated: configuration never touches a network.
ensure_keypair() {
  mkdir -p "$LAB_DIR"; chmod 700 "$LAB_DIR"
  [[ -f "$LAB_DIR/id_ed25519" ]] || ssh-keygen -q -t ed25519 -N '' -C mailsweep-lab -f "$LAB_DIR/id_ed25519"
}

configure_common() {
  local h=$1 r; r="$(root_of "$h")"
  local fqdn="$h.lab.test" addr; addr="$(addr_of "$h")"
  printf '127.0.0.1\tlocalhost\n%s\t%s %s\n' "$addr" "$fqdn" "$h" >"$r/etc/hosts"
  echo "$h" >"$r/etc/hostname"
  echo "$fqdn" >"$r/etc/mailname"
  rm -f "$r/etc/resolv.conf"; echo "nameserver 127.0.0.1" >"$r/etc/resolv.conf"
  # Users: admin (ssh + passwordless sudo), mailbox users (no login).
  inroot "$h" sh -c '
    set -e
    id admin >/dev/null 2>&1 || useradd -m -s /bin/bash admin
    usermod -p "*" admin
    for u in alice bob carol dave; do id "$u" >/dev/null 2>&1 || useradd -M -s /usr/sbin/nologin "$u"; done'
  echo 'admin ALL=(ALL:ALL) NOPASSWD: ALL' >"$r/etc/sudoers.d/lab-admin"; chmod 440 "$r/etc/sudoers.d/lab-admin"
  install -d -m 700 "$r/root/.ssh"; install -m 600 "$LAB_DIR/id_ed25519.pub" "$r/root/.ssh/authorized_keys"
  local uid gid; uid=$(inroot "$h" id -u admin); gid=$(inroot "$h" id -g admin)
  install -d -m 700 -o "$uid" -g "$gid" "$r/home/admin/.ssh"
  install -m 600 -o "$uid" -g "$gid" "$LAB_DIR/id_ed25519.pub" "$r/home/admin/.ssh/authorized_keys"
  mkdir -p "$r/etc/ssh/sshd_config.d"
  cat >"$r/etc/ssh/sshd_config.d/lab.conf" <<'EOC'
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
MaxStartups 100:30:200
MaxSessions 64
EOC
  install -d -m 755 "$r/run/sshd"
  cat >"$r/etc/rsyslog.conf" <<'EOC'
# mailsweep lab: local socket only (no kernel log: that belongs to the real host)
module(load="imuxsock")
$FileOwner root
$FileGroup adm
$FileCreateMode 0640
$ActionFileDefaultTemplate RSYSLOG_TraditionalFileFormat
mail.*                              -/var/log/mail.log
auth,authpriv.*                     /var/log/auth.log
*.*;auth,authpriv.none,mail.none    -/var/log/syslog
EOC
  rm -f "$r/etc/rsyslog.d/"*.conf 2>/dev/null || true
}

write_passwords() {  # $1 = format: exim|sasl ; prints lines
  local u
  for u in "${!PASSWORDS[@]}"; do
    case $1 in
      exim) printf '%s: %s\n' "$u" "${PASSWORDS[$u]}" ;;
      sasl) printf '%s %s %s\n' "${u%@*}" "${u#*@}" "${PASSWORDS[$u]}" ;;
    esac
  done
}

configure_host() {
  local h=$1
  configure_common "$h"
  "${MTA[$h]}_configure" "$h"
  if has_dovecot "$h"; then dovecot_configure "$h"; fi
  touch "$(root_of "$h")/.lab-configured"
}
