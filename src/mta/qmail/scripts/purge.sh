# The qmail purge (ops.ts says why it is done this way). The request is on stdin (request.sh);
# settings: MS_PATH_EXTRA (path.sh), MS_QUEUE (the queue directory), MS_KIND (auth|bounce),
# MS_VERDICT_AWK (verdict.awk), MS_AFTER_KILL_WAIT (seconds), proof.sh's and supervise.sh's.
#   1. re-check every id while qmail-send runs (verdict.awk; kind auth: the mess file's proof);
#   2. stop qmail-send the way it is supervised (qctl); from then on the EXIT trap starts it again;
#   3. the same re-check again, now that it is down; remove every file of each id that matches;
#   4. start qmail-send again (the trap).
# @include shared/scripts/path.sh
# @include shared/scripts/request.sh
q=$MS_QUEUE
if [ ! -d "$q/info" ] || [ ! -d "$q/mess" ]; then echo "$M - abort qmail queue $q not found"; exit 0; fi
# @include qmail/scripts/supervise.sh
# @include qmail/scripts/proof.sh
# The queue subdirectories: mess, info, local, remote split by conf-split; intd, todo split or
# not, depending on the build; bounce.
SUBS='mess info local remote intd todo bounce'

# inf ID: the info file (info/<split>/ID), or nothing.
inf() {
  for f in "$q"/info/*/"$1" "$q/info/$1"; do
    if [ -f "$f" ]; then echo "$f"; return; fi
  done
}
# hx: stdin as hex, no separators.
hx() { od -An -v -tx1 | tr -d ' \n'; }
# dump: for each id on stdin, what verdict.awk reads; every file goes to hx by redirection (the
# loop's stdin is the id list).
dump() {
  while read -r id; do
    echo "@ $id"
    f=$(inf "$id")
    [ -n "$f" ] || continue
    printf 'I '; hx <"$f"; echo
    for ch in local remote; do
      for g in "$q/$ch"/*/"$id" "$q/$ch/$id"; do
        if [ -f "$g" ]; then printf 'T '; hx <"$g"; echo; fi
      done
    done
    if [ "$MS_KIND" = auth ]; then printf 'W '; who "$id" </dev/null | head -n 1 | tr -d '\n' | hx; echo; fi
  done
}
# verdicts OUT: verdict.awk over the dump "$t.d" into OUT.
verdicts() { MS_REQ="$t" LC_ALL=C awk -v K="$MS_KIND" -v M="$M" "$MS_VERDICT_AWK" "$t.d" >"$1"; }

# 1. Re-check while qmail-send runs: nothing is stopped unless some id matches.
ms_ids | dump >"$t.d"
verdicts "$t.v"
cat "$t.v"
ok=$(sed -n "s/^$M \\([0-9]*\\) match\$/\\1/p" "$t.v" | tr '\n' ' ')
[ -n "$ok" ] || exit 0

# 2. Stop qmail-send. From here on it is started again whatever happens: the EXIT trap (also on
# HUP/INT/TERM/PIPE, request.sh) runs resume, which runs at most once and cannot be cut short.
resumed=''
resume() {
  [ -z "$resumed" ] || return 0
  resumed=1
  trap '' HUP INT TERM PIPE
  qctl start >"$t.r" 2>&1; rrc=$?
  sed 's/^/| /' "$t.r" 2>/dev/null
  p=$(qsend)
  if [ -n "$p" ] && [ "$p" != "$qp" ]; then echo "$M - resumed qmail-send running, pid $p ($qsv_how)"
  elif [ -n "$p" ]; then echo "$M - notresumed qmail-send pid $p is the one asked to stop (still finishing deliveries?): check that it runs again"
  elif [ "$rrc" -eq 0 ] && [ -z "$qp" ]; then echo "$M - resumed qctl start exited 0 ($qsv_how)"
  else echo "$M - notresumed qmail-send is not running after qctl start (exit $rrc, $qsv_how)"; fi
}
trap 'resume; fin' EXIT
qp=$(qsend)
qctl stop >"$t.s" 2>&1; src=$?
sed 's/^/| /' "$t.s"
# qmail-send exits only once its deliveries in progress end (notqmail qmail-send.c: the main
# loop runs while !flagexitasap || !del_canexit()); a qmail-remote hanging on a stalled peer
# holds it for up to timeoutremote (1200 s). Those are ended (the delivery is deferred and
# retried later); qmail-local deliveries are left to finish.
if [ -n "$qp" ] && [ -n "$(qsend)" ]; then
  rr=''
  for r in $(pgrep -P "$qp" -x qmail-rspawn 2>/dev/null); do
    rr="$rr $(pgrep -P "$r" -x qmail-remote 2>/dev/null | tr '\n' ' ')"
  done
  # shellcheck disable=SC2086 # pids: one word each
  set -- $rr
  if [ $# -gt 0 ]; then
    kill -TERM "$@" 2>/dev/null
    echo "$M - paused ended $# qmail-remote delivery attempt(s) in progress so that qmail-send could stop (the messages stay queued and are retried)"
    i=0
    while [ -n "$(qsend)" ] && [ "$i" -lt $((MS_AFTER_KILL_WAIT * 2)) ]; do i=$((i+1)); sleep 0.5; done
  fi
fi
# Stopped: the pid asked to stop is gone (qctl's exit code counts only when none was seen).
if [ -n "$(qsend)" ] || { [ "$src" -ne 0 ] && [ -z "$qp" ]; }; then
  for id in $ok; do echo "$M $id fail qmail-send did not stop (qctl stop exited $src): nothing removed"; done
  exit 0
fi
echo "$M - paused qmail-send stopped for the removal (${qsv_how:-qctl stop})"

# 3. The same re-check again, now that nothing else reads or writes the queue; then remove.
# shellcheck disable=SC2086 # $ok: the matched ids (digits), one word each
printf '%s\n' $ok | dump >"$t.d"
verdicts "$t.w"
while read -r _ id v rest; do
  case "$v" in match) ;; *) echo "$M $id skip changed while qmail-send was stopped: ${rest}"; continue;; esac
  for sub in $SUBS; do
    for f in "$q/$sub/$id" "$q/$sub"/*/"$id"; do
      if [ -f "$f" ] || [ -L "$f" ]; then rm -f "$f"; fi
    done
  done
  left=''
  for sub in $SUBS; do
    for f in "$q/$sub/$id" "$q/$sub"/*/"$id"; do
      if [ -f "$f" ] || [ -L "$f" ]; then left="$left ${f#"$q"/}"; fi
    done
  done
  if [ -z "$left" ]; then echo "$M $id done removed"; else echo "$M $id fail files left:$left"; fi
done <"$t.w"
# 4. resume runs from the EXIT trap.
