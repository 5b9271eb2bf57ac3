# shellcheck shell=bash
# Sourced by test/lab/lab: sendmail + cyrus SASL (sasldb), LogLevel 10, on bookworm-sendmail.
# Fills the functions every mta/<mta>.sh fills (see mta/exim.sh).

# pid file in the root, init script, relay address (not 127.0.0.1: see SMART_HOST below)
mta_facts sendmail /run/sendmail/mta/sendmail.pid sendmail 127.0.0.2

sendmail_configure() {
  local h=$1 r; r="$(root_of "$h")"
  local mc="$r/etc/mail/sendmail.mc"
  [[ -f "$mc.lab-orig" ]] || cp "$mc" "$mc.lab-orig"
  {
    sed '/^MAILER_DEFINITIONS/,$d; /^MAILER(/,$d' "$mc.lab-orig"
    cat <<EOC
dnl # ---- mailsweep lab ----
define(\`confDOMAIN_NAME', \`$h.lab.test')dnl
define(\`confLOG_LEVEL', \`10')dnl
define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN')dnl
TRUST_AUTH_MECH(\`PLAIN LOGIN')dnl
define(\`confAUTH_OPTIONS', \`A')dnl
define(\`SMART_HOST', \`relay:[127.0.0.2]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h 2')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h 2')dnl
define(\`confTO_QUEUEWARN', \`30d')dnl
define(\`confTO_QUEUERETURN', \`30d')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`nocanonify')dnl
EOC
    sed -n '/^MAILER_DEFINITIONS/,$p' "$mc.lab-orig"
  } | sed 's/^dnl \(DAEMON_OPTIONS(`Family=inet6, *Name=MTA-v6\)/\1/' >"$mc"
  grep -q '^DAEMON_OPTIONS(`Family=inet6, *Name=MTA-v6' "$mc" || die "$h: sendmail.mc has no MTA-v6 line to enable"
  # Smart host 127.0.0.2:2 (loopback, nothing listens). [127.0.0.1] is in class w,
  # so sendmail would ignore it as "myself" and go direct (DNS) instead.
  printf 'example.test\nshop.test\n%s.lab.test\n' "$h" >"$r/etc/mail/local-host-names"
  mkdir -p "$r/etc/sasl2"
  cat >"$r/etc/sasl2/Sendmail.conf" <<'EOC'
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: /etc/sasldb2
EOC
  # Debian's access file exempts "IPv6:::1" from ratecontrol/conncontrol, but sendmail 8.17
  # writes the client as IPv6:0:0:0:0:0:0:0:1, which that entry never matches: the spam burst
  # over ::1 then hits "421 4.3.2 Connection rate limit exceeded". Exempt it as sendmail spells it.
  grep -q '^ClientRate:IPv6:0:0:0:0:0:0:0:1' "$r/etc/mail/access" ||
    printf 'GreetPause:IPv6:0:0:0:0:0:0:0:1\t0\nClientRate:IPv6:0:0:0:0:0:0:0:1\t0\nClientConn:IPv6:0:0:0:0:0:0:0:1\t0\n' >>"$r/etc/mail/access"
  write_passwords sasl >"$r/root/.lab-sasl"
  inroot "$h" sh -c 'set -e
    rm -f /etc/sasldb2
    while read -r u d p; do printf %s "$p" | saslpasswd2 -p -c -u "$d" "$u"; done </root/.lab-sasl
    rm -f /root/.lab-sasl
    chown root:root /etc/sasldb2; chmod 600 /etc/sasldb2
    make -C /etc/mail >/dev/null
    install -d -o smmta -g smmsp -m 2755 /run/sendmail/mta 2>/dev/null || install -d -m 755 /run/sendmail/mta
    install -d -o smmsp -g smmsp -m 2775 /run/sendmail/msp 2>/dev/null || true'
}

sendmail_start() { start_daemon "$1" mta /run/sendmail/mta/sendmail.pid /usr/sbin/sendmail -L sm-mta -Am -bd -q30m; }

sendmail_queue_count() { inhost "$1" sh -c 'ls /var/spool/mqueue | grep -c "^qf" || true'; }

# All seeded messages as qf files, none quarantined or in flight. Sets SETTLE_GOT.
sendmail_settled() {
  local h=$1 want=$2
  SETTLE_GOT="$(sendmail_queue_count "$h")"
  [[ "$SETTLE_GOT" == "$want" ]] && ! inhost "$h" sh -c 'ls /var/spool/mqueue | grep -q "^[tx]f\|^hf"'
}

# sendmail has no tool to empty its queue: its queue files. A queue runner that was
# delivering writes its message's qf back after the rm: try again.
sendmail_empty_queue() {
  inhost "$1" sh -c 'cd /var/spool/mqueue && for i in 1 2 3 4 5 6 7 8 9 10; do rm -f qf* df* hf* xf* tf* Qf*; sleep 1; [ -z "$(ls | grep "^[qdhxtQ]f")" ] && break; done'
}

sendmail_version() { inhost "$1" sh -c 'echo "sendmail $(sendmail -d0.1 -bt </dev/null 2>&1 | sed -n "s/^Version //p")"'; }

# mailq.txt, mqueue/qf<id> samples and mail.log (see lib/record.sh).
# shellcheck disable=SC2034  # sets record_host's samples, logtotal, authcounts, nullin, loglines
sendmail_record() {
  local h=$1 r=$2 out=$3
  inhost "$h" mailq >"$out/mailq.txt"
  mkdir -p "$out/mqueue"
  local q="$r/var/spool/mqueue" f id kind
  local picks=("spam:$(grep -l '^S<[^>]*\.invalid>' "$q"/qf* | sed -n 1p)"
               "spam:$(grep -l '^S<[^>]*\.invalid>' "$q"/qf* | sed -n 2p)"
               "legit:$(grep -l "^S<${LEGIT_USERS[0]}>" "$q"/qf* | sed -n 1p)"
               "bounce:$(grep -lx 'S<>' "$q"/qf* | sed -n 1p)")
  for f in "${picks[@]}"; do
    kind=${f%%:*}; f=${f#*:}; id="$(basename "$f")"; id=${id#qf}
    cp "$f" "$out/mqueue/qf$id"
    samples+="${samples:+, }\"$id\": \"$kind\""
  done
  cut_log "$r/var/log/mail.log" >"$out/mail.log"
  logtotal=$(wc -l <"$r/var/log/mail.log")
  authcounts="$(grep -oE 'AUTH=server, relay=[^,]+, authid=[^ ,]+' "$out/mail.log" | sed 's/.*authid=//' | count_json)"
  nullin=$(grep -cE 'from=<>, ' "$out/mail.log" || true)
  loglines=$(wc -l <"$out/mail.log")
}
