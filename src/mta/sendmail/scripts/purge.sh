# The sendmail purge (ops.ts sendmailPurge lists its steps; it parses the report). The request is
# on stdin (shared/scripts/request.sh): the command text holds no id, sender or auth id.
# Settings: MS_QD (the queue directories; empty: sendmail.cf's QueueDirectory), MS_KIND auth or
# bounce, MS_MODE delete or hold, MS_LOGS (kind auth: the mail log candidates, one a line),
# MS_SENDMAIL, MS_REASON (the quarantine reason), MS_PID_FILES and MS_EXE (the runner pause),
# MS_JOIN_AWK (join.awk), MS_CHECK_AWK (check.awk).
# @include shared/scripts/path.sh

# The queue directories: a "q*" pattern for several queues is expanded by the shell, on purpose.
qd=$MS_QD
if [ -z "$qd" ]; then
  qd=$(sed -n 's/^O QueueDirectory=//p' /etc/mail/sendmail.cf 2>/dev/null | head -n 1)
  [ -n "$qd" ] || qd=/var/spool/mqueue
fi
qok=''
# shellcheck disable=SC2086 # the pattern, expanded
for d in $qd; do [ -d "$d" ] && qok=1; done
if [ -z "$qok" ]; then echo "__MAILSWEEP_PURGE__ - abort sendmail queue directory $qd not found"; exit 0; fi

# @include shared/scripts/request.sh

# loc ID PREFIX: the directory ($ld) and subdirectory ($ls: "" or "qf/") of the id's qf or hf file.
loc() {
  # shellcheck disable=SC2086 # the pattern, expanded
  for d in $qd; do
    for s in '' qf/; do
      if [ -f "$d/$s$2$1" ]; then ld=$d; ls=$s; return 0; fi
    done
  done
  return 1
}

# Kind auth: the ids the mail log join (join.awk, the rule of join.ts) ties to the request's auth
# id, compared as hex. The ids and the auth id go in files and the environment, never in code.
: >"$t.joined"
if [ "$MS_KIND" = auth ]; then
  l=''
  while IFS= read -r f; do if [ -f "$f" ]; then l=$f; break; fi; done <<MS_LOGS_END
$MS_LOGS
MS_LOGS_END
  if [ -z "$l" ]; then echo "$M - abort no mail log found: the auth join cannot be re-checked"; exit 0; fi
  ms_ids >"$t.ids"
  # The previous rotation (".1", logrotate's delaycompress) first: the log in order.
  # shellcheck disable=SC2016 # awk's fields
  { if [ -f "$l.1" ]; then grep -hF -e 'AUTH=server, ' -e ': from=' "$l.1"; fi; grep -hF -e 'AUTH=server, ' -e ': from=' "$l"; } |
    MS_WANT="$t.ids" LC_ALL=C awk "$MS_JOIN_AWK" |
    MS_A="$(sed -n 's/^A //p' "$t")" LC_ALL=C awk '$2 == ENVIRON["MS_A"] { print $1 }' >"$t.joined"
fi

# @include shared/scripts/restart.sh
# @include sendmail/scripts/probe.sh
# @include shared/scripts/runner-pause.sh
# Pause first: what is re-checked stays true until the quarantine has run.
ms_pause

: >"$t.loc"
while read -r id es er; do
  case "$id" in A|.|'') continue ;; *[!0-9A-Za-z]*) continue ;; esac
  if loc "$id" qf; then echo "$id $es $er $ld/${ls}qf$id" >>"$t.loc"
  elif loc "$id" hf; then echo "$M $id skip already quarantined"
  else echo "$M $id skip gone: no qf file"; fi
done <"$t"
: >"$t.ok"
LC_ALL=C MS_KIND="$MS_KIND" MS_JOINED="$t.joined" MS_OK="$t.ok" awk "$MS_CHECK_AWK" "$t.loc"

if [ -s "$t.ok" ]; then
  # Quarantine with sendmail's own -qI<id> -Q<reason> (qf -> hf: no queue runner takes it any
  # more); a job another process locked again is freed and tried again, 3 rounds at most.
  cp "$t.ok" "$t.todo"; r=0
  while [ -s "$t.todo" ] && [ "$r" -lt 3 ]; do
    r=$((r+1))
    ms_free "$t.todo"
    # The ids are [0-9A-Za-z] (checked above): safe words for xargs.
    cut -d' ' -f1 "$t.todo" | sed 's/^/-qI/' | xargs "$MS_SENDMAIL" "-Q$MS_REASON" 2>&1 | sed 's/^/| /'
    : >"$t.left"
    while read -r id f; do if loc "$id" qf; then echo "$id $f" >>"$t.left"; fi; done <"$t.todo"
    mv "$t.left" "$t.todo"
  done
  # Only the jobs WE quarantined (hf carries our reason) are deleted (hf, df, xf) or held.
  while read -r id f; do
    if loc "$id" qf; then echo "$M $id fail not quarantined (locked by a process that is not the MTA's, or taken again): left in the queue"
    elif ! loc "$id" hf; then echo "$M $id fail gone while quarantining (delivered?)"
    elif ! grep -qxF "q$MS_REASON" "$ld/${ls}hf$id"; then echo "$M $id fail quarantined with another reason: not touched"
    elif [ "$MS_MODE" = hold ]; then echo "$M $id done quarantined"
    else
      rm -f "$ld/${ls}hf$id" "$ld/df$id" "$ld/df/df$id" "$ld/xf$id" "$ld/xf/xf$id"
      if [ -e "$ld/${ls}hf$id" ] || [ -e "$ld/df$id" ] || [ -e "$ld/df/df$id" ]; then echo "$M $id fail queue files still there"
      else echo "$M $id done removed"; fi
    fi
  done <"$t.ok"
fi
