# shellcheck shell=bash
# shellcheck disable=SC2034  # settings read by the other files
# Sourced by test/lab/lab: where things live, the hosts, the packages and the seeding plan.

LAB_DIR="${MAILSWEEP_LAB_DIR:-$REPO/.lab}"
CACHE="${MAILSWEEP_LAB_CACHE:-/var/cache/mailsweep-lab}"
MIRROR="http://deb.debian.org/debian"
KEYRING="/usr/share/keyrings/debian-archive-keyring.gpg"
FIXTURES="$REPO/test/fixtures/lab"
# Bump when the package lists change: forces a rebuild of cached base roots.
BASE_VERSION=1

HOSTS=(bookworm-exim bookworm-postfix bookworm-sendmail trixie-exim)
declare -A IDX=([bookworm-exim]=1 [bookworm-postfix]=2 [bookworm-sendmail]=3 [trixie-exim]=4)
declare -A SUITE=([bookworm-exim]=bookworm [bookworm-postfix]=bookworm [bookworm-sendmail]=bookworm [trixie-exim]=trixie)
declare -A MTA=([bookworm-exim]=exim [bookworm-postfix]=postfix [bookworm-sendmail]=sendmail [trixie-exim]=exim)
# libio-socket-inet6-perl: bookworm's swaks needs it to speak SMTP over IPv6 (::1).
COMMON_PKGS="openssh-server,procps,rsyslog,sudo,swaks,less,libio-socket-inet6-perl"
declare -A MTA_PKGS=(
  [exim]="exim4-daemon-light"
  [postfix]="postfix,sasl2-bin,libsasl2-modules"
  [sendmail]="sendmail,sasl2-bin,libsasl2-modules,make,m4"
)
# Per-host extras beyond the MTA's: dovecot (IMAP + POP3) on bookworm-exim only, for `contain
# --kick` (doveadm kick). A cached root gets them installed in place (install_missing).
declare -A HOST_PKGS=([bookworm-exim]="dovecot-imapd,dovecot-pop3d")
# The packages of a host's root.
host_pkgs() { echo "$COMMON_PKGS,${MTA_PKGS[${MTA[$1]}]}${HOST_PKGS[$1]:+,${HOST_PKGS[$1]}}"; }
# Hosts that run dovecot (lib/dovecot.sh).
has_dovecot() { [[ ${HOST_PKGS[$1]:-} == *dovecot* ]]; }

# Seeding plan (the expected facts written to hosts.json / meta.json).
LEGIT_USERS=(alice@example.test carol@shop.test dave@example.test)
declare -A LEGIT_COUNT=([alice@example.test]=6 [carol@shop.test]=8 [dave@example.test]=5)
COMPROMISED="bob@example.test"
SPAM_COUNT=300
BACKSCATTER_COUNT=20
# Bounces unrelated to the spam run (a partner's DSN for a customer's old mail): foreign, but not
# to any sender the compromised account used. The incident must leave them queued. They go to
# remote domains, so exim defers them (relay refused) instead of freezing them: only the
# BACKSCATTER_COUNT bounces to *.invalid end up frozen.
UNRELATED_BOUNCES=3
# Client addresses the spam arrives from (bound with swaks --local-interface inside the host's
# namespace; ::1 over IPv6): six, so many-ips (default 5) fires on real log lines.
SPAM_SOURCES=(::1 127.0.0.11 127.0.0.12 127.0.0.13 127.0.0.14 127.0.0.15)
# MAILSWEEP_LAB_SEED=quiet: legitimate mail only — a healthy server, recorded for the demo fleet.
if [[ "${MAILSWEEP_LAB_SEED:-}" == quiet ]]; then SPAM_COUNT=0; BACKSCATTER_COUNT=0; UNRELATED_BOUNCES=0; fi
# Fake lab-only credentials. Never written into fixtures.
declare -A PASSWORDS=([alice@example.test]=lab-alice-pw [bob@example.test]=lab-bob-pw [carol@shop.test]=lab-carol-pw [dave@example.test]=lab-dave-pw)

# Per-MTA facts, set by mta/<mta>.sh: the pid file the MTA writes inside its root, its
# init script, and where it relays remote mail (a closed loopback port; `busy` listens there).
declare -A MTA_PIDFILE=() INIT_SCRIPT=() RELAY_ADDR=()
RELAY_PORT=2
mta_facts() { MTA_PIDFILE[$1]=$2; INIT_SCRIPT[$1]=$3; RELAY_ADDR[$1]=$4; }
