# The postfix purge (src/mta/postfix/ops.ts): re-check every requested id on the server at delete
# time (verdict.awk over `postcat -e -q ID`), then `postsuper -d -` (MS_MODE delete) or
# `postsuper -h -` (hold) with the matched ids on stdin, then check each one is gone / held.
# Settings: MS_POSTCAT, MS_POSTSUPER, MS_POSTCONF (each the tool's argv words, one a line: the
# path, then "-c DIR" for a second instance), MS_QD (the queue directory, "" to ask postconf),
# MS_KIND (auth or bounce), MS_MODE (delete or hold), MS_VERDICT_AWK (verdict.awk). Data: the
# request on stdin (request.sh).
# @include shared/scripts/path.sh
# @include shared/scripts/request.sh
# @include postfix/scripts/tool.sh
qd=$MS_QD
if [ -z "$qd" ]; then qd=$(pf_tool "$MS_POSTCONF" -h queue_directory 2>/dev/null </dev/null); fi
if [ -z "$qd" ] || [ ! -d "$qd" ]; then echo "$M - abort postfix queue directory not found"; exit 0; fi
# The queue files present, by name (= queue id), in one pass: postcat -q on a missing id retries
# for about a second, far too slow for hundreds of gone or deleted ids.
present() { ( cd "$qd" && find incoming active deferred hold maildrop -type f 2>/dev/null ) | sed 's#.*/##' | tr '\n' ' '; }
have=" $(present) "
# The dump: "@ ID", then postcat's envelope as hex bytes (nothing when the file is gone).
ms_ids | while read -r id; do
  echo "@ $id"
  case "$have" in
    *" $id "*) pf_tool "$MS_POSTCAT" -e -q "$id" 2>/dev/null </dev/null | od -An -v -tx1 ;;
  esac
done >"$t.d"
MS_REQ="$t" LC_ALL=C awk -v K="$MS_KIND" -v M="$M" "$MS_VERDICT_AWK" "$t.d" >"$t.v"
cat "$t.v"
ok=$(sed -n "s/^$M \\([0-9A-Za-z]*\\) match\$/\\1/p" "$t.v" | tr '\n' ' ')
[ -n "$ok" ] || exit 0
if [ "$MS_MODE" = delete ]; then flag=-d; else flag=-h; fi
# shellcheck disable=SC2086 # $ok: the matched ids, one word each ([0-9A-Za-z] only)
printf '%s\n' $ok | pf_tool "$MS_POSTSUPER" "$flag" - 2>&1 | sed 's/^/| /'
have=" $(present) "
for id in $ok; do
  if [ "$MS_MODE" = delete ]; then
    case "$have" in
      *" $id "*) echo "$M $id fail still in the queue" ;;
      *) echo "$M $id done removed" ;;
    esac
  elif pf_tool "$MS_POSTCAT" -e -q "$id" 2>/dev/null </dev/null | grep -q '^[*][*][*] ENVELOPE RECORDS hold/'; then
    echo "$M $id done held"
  else
    echo "$M $id fail not in the hold queue"
  fi
done
