# shellcheck shell=bash
# Sourced by test/lab/lab: dovecot (IMAP + POP3) on the hosts whose HOST_PKGS name it, so that
# `mailsweep contain --kick` meets a real `doveadm kick`. It listens on the host's loopback only,
# users and fake passwords from lib/config.sh in a passwd-file, an empty maildir per user.

dovecot_configure() {
  local h=$1 r u; r="$(root_of "$h")"
  # The whole configuration: Debian's conf.d (TLS, system users) is not read.
  cat >"$r/etc/dovecot/dovecot.conf" <<'EOC'
# mailsweep lab: IMAP and POP3 on loopback, plaintext logins (no TLS), the lab's mail users.
protocols = imap pop3
listen = 127.0.0.1, ::1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = syslog
syslog_facility = mail
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u /etc/dovecot/lab-users
}
userdb {
  driver = static
  args = uid=vmail gid=vmail home=/var/mail/vhosts/%d/%n
}
EOC
  for u in "${!PASSWORDS[@]}"; do printf '%s:{PLAIN}%s\n' "$u" "${PASSWORDS[$u]}"; done >"$r/etc/dovecot/lab-users"
  inroot "$h" sh -c 'set -e
    id vmail >/dev/null 2>&1 || useradd -r -M -d /var/mail/vhosts -s /usr/sbin/nologin vmail
    chown root:dovecot /etc/dovecot/lab-users; chmod 640 /etc/dovecot/lab-users
    while IFS=: read -r u _; do
      install -d -o vmail -g vmail -m 700 "/var/mail/vhosts/${u#*@}" "/var/mail/vhosts/${u#*@}/${u%@*}"
      for d in cur new tmp; do install -d -o vmail -g vmail -m 700 "/var/mail/vhosts/${u#*@}/${u%@*}/Maildir/$d"; done
    done </etc/dovecot/lab-users
    doveconf -n >/dev/null'
}

dovecot_start() { has_dovecot "$1" && start_daemon "$1" dovecot /run/dovecot/master.pid /usr/sbin/dovecot; return 0; }

# Running, or not on this host at all.
dovecot_up() { ! has_dovecot "$1" || our_pid "$1" dovecot >/dev/null; }

# For `status`: running / stopped, or - when the host has no dovecot.
dovecot_state() {
  if ! has_dovecot "$1"; then echo -; elif our_pid "$1" dovecot >/dev/null; then echo running; else echo stopped; fi
}
