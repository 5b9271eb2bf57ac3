# shellcheck shell=bash
# Sourced by test/lab/lab: exim (Debian's exim4, split config) on bookworm-exim and trixie-exim.
# Every mta/<mta>.sh fills the same functions: <mta>_configure, _start, _queue_count,
# _settled, _empty_queue, _version, _record.

# pid file in the root, init script, relay address (not 127.0.0.1: see the smarthost below)
mta_facts exim /run/exim4/exim.pid exim4 127.0.0.2

exim_configure() {
  local h=$1 r; r="$(root_of "$h")"
  cat >"$r/etc/exim4/update-exim4.conf.conf" <<'EOC'
dc_eximconfig_configtype='smarthost'
dc_other_hostnames='example.test:shop.test'
dc_local_interfaces='127.0.0.1 ; ::1'
dc_readhost=''
dc_relay_domains=''
dc_minimaldns='false'
dc_relay_nets=''
dc_smarthost='127.0.0.2::2'
CFILEMODE='644'
dc_use_split_config='true'
dc_hide_mailname=''
dc_mailname_in_oh='true'
dc_localdelivery='mail_spool'
EOC
  # 127.0.0.2:2 is loopback where nothing listens (127.0.0.1 would trip exim's
  # "remote host is the local host" check and freeze everything).
  cat >"$r/etc/exim4/exim4.conf.localmacros" <<EOC
MAIN_HARDCODE_PRIMARY_HOSTNAME = $h.lab.test
AUTH_SERVER_ALLOW_NOTLS_PASSWORDS = yes
EOC
  # Containment (mailsweep contain --hold / --suspend-outgoing with README's exim contain_commands):
  # the DATA ACL reads two lsearch files, one account a line, empty at start. README shows the
  # same lines. (Debian's RCPT hook comes after its `accept authenticated = *`: too late.) A split
  # config takes its macros from conf.d/main, not from exim4.conf.localmacros.
  echo 'CHECK_DATA_LOCAL_ACL_FILE = /etc/exim4/mailsweep.acl' >"$r/etc/exim4/conf.d/main/00_mailsweep"
  cat >"$r/etc/exim4/mailsweep.acl" <<'EOC'
deny    authenticated = *
        condition     = ${lookup{$authenticated_id}lsearch{/etc/exim4/mailsweep-suspend}{yes}{no}}
        message       = outgoing mail of this account is suspended
warn    authenticated = *
        condition     = ${lookup{$authenticated_id}lsearch{/etc/exim4/mailsweep-hold}{yes}{no}}
        control       = freeze/no_tell
EOC
  : >"$r/etc/exim4/mailsweep-hold"; : >"$r/etc/exim4/mailsweep-suspend"
  cat >"$r/etc/exim4/conf.d/auth/05_lab_plaintext" <<'EOC'
# mailsweep lab: PLAIN/LOGIN against a fixed lsearch file, allowed without TLS.
# (Names as in Debian's 30_exim4-config_examples, so the log says A=plain_server:<id>.)
plain_server:
  driver = plaintext
  public_name = PLAIN
  server_advertise_condition = true
  server_prompts = :
  server_condition = ${if and{{!eq{$auth3}{}}{eq{$auth3}{${lookup{$auth2}lsearch{CONFDIR/lab-passwd}{$value}{}}}}}{yes}{no}}
  server_set_id = $auth2

login_server:
  driver = plaintext
  public_name = LOGIN
  server_advertise_condition = true
  server_prompts = "Username:: : Password::"
  server_condition = ${if and{{!eq{$auth2}{}}{eq{$auth2}{${lookup{$auth1}lsearch{CONFDIR/lab-passwd}{$value}{}}}}}{yes}{no}}
  server_set_id = $auth1
EOC
  cat >"$r/etc/exim4/conf.d/router/160_lab_nxdomain" <<'EOC'
# mailsweep lab: *.invalid does not exist (stands in for NXDOMAIN without DNS).
# Bounces to such addresses cannot be delivered and get frozen, as in real life.
lab_nxdomain:
  driver = redirect
  domains = *.invalid
  allow_fail
  data = :fail: Unrouteable address
  no_more
EOC
  write_passwords exim >"$r/etc/exim4/lab-passwd"
  inroot "$h" sh -c 'set -e
    chown root:Debian-exim /etc/exim4/lab-passwd; chmod 640 /etc/exim4/lab-passwd
    update-exim4.conf
    install -d -o Debian-exim -g Debian-exim -m 755 /run/exim4
    exim4 -bV >/dev/null'
}

exim_start() { start_daemon "$1" mta /run/exim4/exim.pid /usr/sbin/exim4 -bd -q30m -oP /run/exim4/exim.pid; }

exim_queue_count() { inhost "$1" exim4 -bpc; }

# All seeded messages queued, only the backscatter frozen. Sets SETTLE_GOT.
exim_settled() {
  local h=$1 want=$2
  SETTLE_GOT="$(inhost "$h" exim4 -bpc)"
  [[ "$SETTLE_GOT" == "$want" && "$(inhost "$h" sh -c 'exim4 -bp | grep -c "\*\*\* frozen \*\*\*"' || true)" == "$BACKSCATTER_COUNT" ]]
}

# A queue run may hold a message's lock (exim -Mrm leaves it): try again for a few seconds.
exim_empty_queue() {
  inhost "$1" sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do exiqgrep -i -f . | xargs -r exim4 -Mrm >/dev/null 2>&1; [ "$(exim4 -bpc)" = 0 ] && break; sleep 1; done' >/dev/null
}

exim_version() { inhost "$1" exim4 -bV | sed -n 1p; }

# exim-bp.txt, exim-bpc.txt, spool/<id>-H samples and the mainlog (see lib/record.sh).
# shellcheck disable=SC2034  # sets record_host's samples, logtotal, authcounts, nullin, loglines
exim_record() {
  local h=$1 r=$2 out=$3
  inhost "$h" exim4 -bp >"$out/exim-bp.txt"
  inhost "$h" exim4 -bpc >"$out/exim-bpc.txt"
  mkdir -p "$out/spool"
  local in="$r/var/spool/exim4/input" f id kind picked=()
  # 2 spam (one with a big recipient list), 2 legit, 1 frozen bounce
  local big; big="$(grep -l -- "-auth_id $COMPROMISED" "$in"/*-H | while read -r f; do echo "$(grep -cE '^[^-].*@' "$f") $f"; done | sort -rn | sed -n 1p | cut -d' ' -f2)"
  picked+=("spam:$big" "spam:$(grep -l -- "-auth_id $COMPROMISED" "$in"/*-H | grep -v "$big" | sed -n 1p)")
  picked+=("legit:$(grep -l -- "-auth_id ${LEGIT_USERS[0]}" "$in"/*-H | sed -n 1p)" "legit:$(grep -l -- "-auth_id ${LEGIT_USERS[1]}" "$in"/*-H | sed -n 1p)")
  picked+=("bounce:$(grep -lx -- '<>' "$in"/*-H | sed -n 1p)")
  for f in "${picked[@]}"; do
    kind=${f%%:*}; f=${f#*:}; id="$(basename "$f" -H)"
    cp "$f" "$out/spool/$id-H"
    samples+="${samples:+, }\"$id\": \"$kind\""
  done
  cut_log "$r/var/log/exim4/mainlog" >"$out/mainlog"
  logtotal=$(wc -l <"$r/var/log/exim4/mainlog")
  authcounts="$(grep ' <= ' "$out/mainlog" | grep -oE ' A=[a-z_]+:[^ ]+' | sed 's/.*://' | count_json)"
  # SMTP arrivals only; exim's own "frozen bounce" notices to postmaster arrive with R=<id> U=Debian-exim P=local
  nullin=$(grep -c ' <= <> H=' "$out/mainlog" || true)
  loglines=$(wc -l <"$out/mainlog")
}
