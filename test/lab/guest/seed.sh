#!/bin/bash
# Runs inside the lab host: real SMTP (+ AUTH) to the host's own MTA on 127.0.0.1:25.
# Copied in as /root/lab-seed.sh by seed_host (lib/seed.sh); reads /root/lab-seed.jobs.
set -u
# The lab's passwords: written by seed_host (lib/seed.sh) for this run only.
# shellcheck source=/dev/null
source /root/lab-seed.pw
send() {
  local kind user mech from to subj src
  IFS='|' read -r kind user mech from to subj src <<<"$1"
  local body
  case $kind in
    bounce) body=$'This is the mail system at host mx.remote.example.\n\nI\'m sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n<'"$to"$'>: host said: 550 5.1.1 User unknown' ;;
    spam) body=$'Congratulations!\n\nYou have been selected. Click http://claim.invalid/now to get your prize.\n' ;;
    *) body=$'Hi,\n\nplease find the notes from today attached inline.\n\nregards\n' ;;
  esac
  local server=(--server 127.0.0.1)
  case $src in
    ::1) server=(--server ::1) ;;
    127.0.0.1|'') ;;
    *) server+=(--local-interface "$src") ;;
  esac
  local args=("${server[@]}" --port 25 --helo "client.lab.test" --from "$from" --to "$to"
              --header "Subject: $subj" --body "$body" --timeout 60 --silent 2)
  [[ $kind == spam ]] && args+=(--header "To: undisclosed-recipients:;")
  [[ $kind == bounce ]] && args+=(--header "From: Mail Delivery System <MAILER-DAEMON@mx.remote.example>")
  [[ -n $user ]] && args+=(--auth "$mech" --auth-user "$user" --auth-password "${PW[$user]}")
  swaks "${args[@]}" >/dev/null 2>>/root/lab-seed.err || { echo "FAILED: $kind $from -> ${to%%,*}" >>/root/lab-seed.err; return 1; }
}
: >/root/lab-seed.err
fail=0
# legit + backscatter in order, then the spam burst with 4 parallel senders
while read -r j; do send "$j" || fail=1; done < <(grep -v '^spam' /root/lab-seed.jobs)
grep '^spam' /root/lab-seed.jobs >/root/lab-seed.spam
for w in 0 1 2 3; do
  ( n=0; while read -r j; do (( n++ % 4 == w )) && { send "$j" || exit 1; }; done </root/lab-seed.spam; exit 0 ) & pids[w]=$!
done
for w in 0 1 2 3; do wait "${pids[$w]}" || fail=1; done
exit $fail
