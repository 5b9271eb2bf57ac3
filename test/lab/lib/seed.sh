# shellcheck shell=bash
# Sourced by test/lab/lab: the seeding plan as a deterministic job list, sent over real SMTP
# (+ AUTH) inside each host by guest/seed.sh, then waiting until the queue settles.

REMOTE_DOMAINS=(contoso.example fabrikam.example northwind.example tailspin.example wingtip.example adventure-works.example)
FORGED_DOMAINS=(promo-deals.invalid cheap-meds.invalid lottery-win.invalid crypto-gains.invalid parcel-notice.invalid bank-secure.invalid)
WORDS=(info sales offer billing support news admin service winner update alert account)

# Deterministic job list (same on every host): kind|auth user|mech|from|to,to,...|subject
# Also sets SEED_SPAM_RCPTS (total spam recipients).
gen_jobs() {
  RANDOM=4242
  local u i n k to src
  SEED_SPAM_RCPTS=0
  for u in "${LEGIT_USERS[@]}"; do
    for ((i = 1; i <= ${LEGIT_COUNT[$u]}; i++)); do
      n=$((1 + RANDOM % 2)); to=""
      for ((k = 0; k < n; k++)); do to+="${to:+,}partner$((RANDOM % 50))@${REMOTE_DOMAINS[RANDOM % ${#REMOTE_DOMAINS[@]}]}"; done
      # The first user sends from two places (office over IPv4, phone over IPv6): legitimate, under many-ips.
      src=127.0.0.1; [[ $u == "${LEGIT_USERS[0]}" && $((i % 2)) == 0 ]] && src=::1
      echo "legit|$u|$([[ $((i % 2)) == 0 ]] && echo LOGIN || echo PLAIN)|$u|$to|Re: project update $i from ${u%@*}|$src"
    done
  done
  # The spam first (printed last): backscatter goes back to the envelope senders it forged.
  local spam=() senders=() from
  for ((i = 1; i <= SPAM_COUNT; i++)); do
    if ((i % 10 == 0)); then n=$((20 + RANDOM % 21)); else n=$((1 + RANDOM % 3)); fi
    to=""
    for ((k = 0; k < n; k++)); do to+="${to:+,}user$((RANDOM % 5000))@${REMOTE_DOMAINS[RANDOM % ${#REMOTE_DOMAINS[@]}]}"; done
    SEED_SPAM_RCPTS=$((SEED_SPAM_RCPTS + n))
    # A botnet: the stolen password used from SPAM_SOURCES (IPv4 and IPv6) in turn.
    src=${SPAM_SOURCES[i % ${#SPAM_SOURCES[@]}]}
    from="${WORDS[RANDOM % ${#WORDS[@]}]}$((RANDOM % 1000))@${FORGED_DOMAINS[RANDOM % ${#FORGED_DOMAINS[@]}]}"
    senders+=("$from")
    spam+=("spam|$COMPROMISED|PLAIN|$from|$to|You have won! Claim $((RANDOM % 900 + 100)) now|$src")
  done
  for ((i = 1; i <= BACKSCATTER_COUNT; i++)); do
    echo "bounce|||<>|${senders[(i * 7) % ${#senders[@]}]}|Undelivered Mail Returned to Sender"
  done
  for ((i = 1; i <= UNRELATED_BOUNCES; i++)); do
    echo "bounce|||<>|former-customer$i@${REMOTE_DOMAINS[i % ${#REMOTE_DOMAINS[@]}]}|Delivery Status Notification (Failure)"
  done
  ((${#spam[@]})) && printf '%s\n' "${spam[@]}"
  return 0
}

# shellcheck disable=SC2004  # LEGIT_COUNT is associative: its key needs the $
expected_total() { local t=0 u; for u in "${LEGIT_USERS[@]}"; do t=$((t + LEGIT_COUNT[$u])); done; echo $((t + SPAM_COUNT + BACKSCATTER_COUNT + UNRELATED_BOUNCES)); }

seed_host() {
  local h=$1 r; r="$(root_of "$h")"
  local c; c="$(queue_count "$h")"
  if [[ "$c" != 0 ]]; then log "$h: queue holds $c messages: not seeding"; return 0; fi
  gen_jobs >"$r/root/lab-seed.jobs"
  { echo "declare -A PW"; local u; for u in "${!PASSWORDS[@]}"; do echo "PW[$u]=${PASSWORDS[$u]}"; done; } >"$r/root/lab-seed.pw"
  cp "$LAB_HOME/guest/seed.sh" "$r/root/lab-seed.sh"
  log "$h: seeding $(wc -l <"$r/root/lab-seed.jobs") messages over SMTP"
  if ! inhost "$h" bash /root/lab-seed.sh; then
    tail -n 20 "$r/root/lab-seed.err" >&2; rm -f "$r/root/lab-seed.pw"; die "$h: seeding failed"
  fi
  rm -f "$r/root/lab-seed.pw" "$r/root/lab-seed.sh"
  settle_host "$h"
}

# The queue holds exactly the seeded messages, each after its first delivery attempt
# (exim: only the bounces frozen; postfix: all deferred, none held; sendmail: all
# qf, none quarantined or in flight). Sets SETTLE_GOT for messages.
settled_once() { "${MTA[$1]}_settled" "$1" "$(expected_total)"; }

# Wait until every message is in the queue and had its first delivery attempt.
settle_host() {
  local h=$1 want i; want="$(expected_total)"; SETTLE_GOT=""
  for i in $(seq 120); do
    settled_once "$h" && return 0
    sleep 1
  done
  die "$h: queue did not settle (got $SETTLE_GOT, want $want)"
}
