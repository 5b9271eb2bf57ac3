# shellcheck shell=bash
# Sourced by test/lab/lab: `record`, test/fixtures/lab/<host>/ from the running lab. The
# MTA-specific files come from <mta>_record (mta/<mta>.sh); meta.json describes them.

LOG_HEAD=300
LOG_TAIL=150

# cut_log FILE > excerpt: at most LOG_HEAD+LOG_TAIL lines, marker-free (real lines only).
cut_log() {
  local n; n=$(wc -l <"$1")
  if ((n <= LOG_HEAD + LOG_TAIL)); then cat "$1"; else head -n "$LOG_HEAD" "$1"; tail -n "$LOG_TAIL" "$1"; fi
}

# counts of "key" occurrences as a JSON object body: "a": 1, "b": 2
count_json() { sort | uniq -c | awk '{printf "%s\"%s\": %d", (NR>1?", ":""), $2, $1}'; }

record_host() {
  local h=$1 r out; r="$(root_of "$h")"; out="$FIXTURES/$h"
  # Only replace what this recorder writes: other recorders (scripts/record-lab.ts:
  # detect.out, queue.out, log.out, scan-meta.json) share the directory.
  mkdir -p "$out"
  rm -rf "$out/spool" "$out/postcat" "$out/mqueue"
  rm -f "$out"/{exim-bp.txt,exim-bpc.txt,mainlog,postqueue-j.jsonl,postqueue-p.txt,mailq.txt,mail.log,meta.json}
  local samples="" loglines logtotal authcounts nullin
  # The MTA's queue listing, sample queue files and log excerpt; sets the five locals above.
  "${MTA[$h]}_record" "$h" "$r" "$out"
  local version; version="$("${MTA[$h]}_version" "$h")"
  gen_jobs >/dev/null
  # Seeding plan: the client addresses each account sent from.
  local sources
  sources="$(gen_jobs | awk -F'|' '$2 != "" { print $2, ($7 == "" ? "127.0.0.1" : $7) }' | sort -u |
    awk '{ if ($1 != u) { if (u != "") printf "], "; printf "\"%s\": [\"%s\"", $1, $2; u = $1 } else printf ", \"%s\"", $2 } END { if (u != "") printf "]" }')"
  local legit="" u; for u in "${LEGIT_USERS[@]}"; do legit+="${legit:+, }\"$u\": ${LEGIT_COUNT[$u]}"; done
  # shellcheck disable=SC2012  # ls picks whichever of two fixed names exists
  cat >"$out/meta.json" <<EOJ
{
  "host": "$h",
  "mta": "${MTA[$h]}",
  "distro": "debian",
  "suite": "${SUITE[$h]}",
  "debianVersion": "$(cat "$r/etc/debian_version")",
  "mtaVersion": $(json_str "$version"),
  "recordedWith": "test/lab/lab record",
  "queue": {
    "total": $(expected_total),
    "legit": $(( $(expected_total) - SPAM_COUNT - BACKSCATTER_COUNT )),
    "legitByUser": { $legit },
    "spam": $SPAM_COUNT,
    "spamRecipients": $SEED_SPAM_RCPTS,
    "backscatter": $BACKSCATTER_COUNT,
    "frozen": $([[ ${MTA[$h]} == exim ]] && echo "$BACKSCATTER_COUNT" || echo 0)
  },
  "compromisedAuthId": "$COMPROMISED",
  "legitUsers": [$(printf '"%s",' "${LEGIT_USERS[@]}" | sed 's/,$//')],
  "spamSenderDomains": [$(printf '"%s",' "${FORGED_DOMAINS[@]}" | sed 's/,$//')],
  "clientAddressesByAuthId": { $sources },
  "samples": { $samples },
  "log": {
    "file": "$(basename "$(ls "$out"/mainlog "$out"/mail.log 2>/dev/null | sed -n 1p)")",
    "lines": $loglines,
    "originalLines": $logtotal,
    "excerpt": $( ((logtotal > loglines)) && echo "\"first $LOG_HEAD + last $LOG_TAIL lines of the real log\"" || echo '"complete"'),
    "authenticatedArrivalsByAuthId": { $authcounts },
    "nullSenderArrivals": $nullin
  }
}
EOJ
}

cmd_record() {
  preflight
  local h
  for h in "${HOSTS[@]}"; do host_up "$h" || die "$h is not up (run: test/lab/lab up)"; done
  for h in "${HOSTS[@]}"; do record_host "$h"; log "$h: recorded into ${FIXTURES#"$REPO"/}/$h"; done
  # The lab passwords are fake, but they must never end up in fixtures.
  local u pw b64
  for u in "${!PASSWORDS[@]}"; do
    pw=${PASSWORDS[$u]}; b64="$(printf '\0%s\0%s' "$u" "$pw" | base64 -w0)"
    if grep -rqF -e "$pw" -e "$b64" "$FIXTURES"; then die "a lab password leaked into $FIXTURES"; fi
  done
}
