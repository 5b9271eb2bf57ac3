# shellcheck shell=bash
# Sourced by test/lab/lab: postfix + cyrus SASL (sasldb) on bookworm-postfix.
# Fills the functions every mta/<mta>.sh fills (see mta/exim.sh).

# pid file in the root, init script, relay address (relayhost below)
mta_facts postfix /var/spool/postfix/pid/master.pid postfix 127.0.0.1

postfix_configure() {
  local h=$1 r; r="$(root_of "$h")"
  [[ -f "$r/etc/postfix/master.cf" ]] || cp "$r/usr/share/postfix/master.cf.dist" "$r/etc/postfix/master.cf"
  cat >"$r/etc/postfix/main.cf" <<EOC
# mailsweep lab
compatibility_level = 3.6
myhostname = $h.lab.test
mydomain = lab.test
myorigin = /etc/mailname
mydestination = \$myhostname, example.test, shop.test, localhost
mynetworks = 127.0.0.0/8
inet_interfaces = loopback-only
inet_protocols = all
# Remote mail goes to a closed loopback port: it stays in the deferred queue.
relayhost = [127.0.0.1]:2
smtp_dns_support_level = disabled
alias_maps = hash:/etc/aliases
alias_database = hash:/etc/aliases
smtpd_banner = \$myhostname ESMTP
biff = no
append_dot_mydomain = no
readme_directory = no
recipient_delimiter = +
mailbox_size_limit = 0
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = /etc/postfix/sasl
smtpd_sasl_security_options = noanonymous
smtpd_tls_auth_only = no
smtpd_tls_security_level = none
smtp_tls_security_level = none
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination
# Containment (mailsweep contain --hold, contain_commands): "ACCOUNT HOLD" lines; empty at start.
smtpd_sender_restrictions = check_sasl_access hash:/etc/postfix/sasl_hold
maximal_queue_lifetime = 30d
bounce_queue_lifetime = 30d
EOC
  mkdir -p "$r/etc/postfix/sasl"
  cat >"$r/etc/postfix/sasl/smtpd.conf" <<'EOC'
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: /etc/sasldb2
EOC
  write_passwords sasl >"$r/root/.lab-sasl"
  inroot "$h" sh -c 'set -e
    rm -f /etc/sasldb2
    while read -r u d p; do printf %s "$p" | saslpasswd2 -p -c -u "$d" "$u"; done </root/.lab-sasl
    rm -f /root/.lab-sasl
    chown root:postfix /etc/sasldb2; chmod 640 /etc/sasldb2
    postconf -F "*/*/chroot = n"
    : >/etc/postfix/sasl_hold; postmap /etc/postfix/sasl_hold
    newaliases
    postfix check'
}

postfix_start() { start_daemon "$1" mta /var/spool/postfix/pid/master.pid /usr/sbin/postfix start; }

postfix_queue_count() { inhost "$1" sh -c 'postqueue -j | wc -l'; }

# All seeded messages deferred, none held. Sets SETTLE_GOT.
postfix_settled() {
  local h=$1 want=$2
  SETTLE_GOT="$(inhost "$h" sh -c 'postqueue -j | grep -c "\"queue_name\": \"deferred\""' || true)"
  [[ "$SETTLE_GOT" == "$want" && "$(postfix_queue_count "$h")" == "$want" ]]
}

postfix_empty_queue() { inhost "$1" postsuper -d ALL >/dev/null 2>&1; }

postfix_version() { echo "postfix $(inhost "$1" postconf -h mail_version)"; }

# postqueue-j.jsonl, postqueue-p.txt, postcat/<id>.txt samples and mail.log (see lib/record.sh).
# shellcheck disable=SC2034  # sets record_host's samples, logtotal, authcounts, nullin, loglines
postfix_record() {
  local h=$1 r=$2 out=$3
  inhost "$h" postqueue -j >"$out/postqueue-j.jsonl"
  inhost "$h" postqueue -p >"$out/postqueue-p.txt"
  mkdir -p "$out/postcat"
  local j id want
  for want in spam spam legit0 legit1 bounce; do
    # shellcheck disable=SC2012  # postcat/ holds only the <queue id>.txt files written here
    case $want in
      spam) j="$(grep -F '.invalid"' "$out/postqueue-j.jsonl" | grep -v '"sender": ""' | grep -vF -f <(ls "$out/postcat" 2>/dev/null | sed 's/\.txt$//;s/^/"/;s/$/"/') | sed -n 1p)" ;;
      legit*) j="$(grep -F "\"sender\": \"${LEGIT_USERS[${want#legit}]}\"" "$out/postqueue-j.jsonl" | sed -n 1p)" ;;
      # showq reports the null sender as "MAILER-DAEMON"
      bounce) j="$(grep -E '"sender": "(MAILER-DAEMON)?"' "$out/postqueue-j.jsonl" | sed -n 1p)" ;;
    esac
    id="$(sed -E 's/.*"queue_id": "([^"]+)".*/\1/' <<<"$j")"
    inhost "$h" postcat -q "$id" >"$out/postcat/$id.txt"
    samples+="${samples:+, }\"$id\": \"${want%[01]}\""
  done
  cut_log "$r/var/log/mail.log" >"$out/mail.log"
  logtotal=$(wc -l <"$r/var/log/mail.log")
  authcounts="$(grep -oE 'sasl_username=[^ ,]+' "$out/mail.log" | sed 's/.*=//' | count_json)"
  nullin=$(grep -c 'qmgr.*from=<>' "$out/mail.log" || true)
  loglines=$(wc -l <"$out/mail.log")
}
