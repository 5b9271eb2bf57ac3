# exim purge: `exim -Mrm` (MS_MODE delete) or `exim -Mf` (MS_MODE hold) of the messages of the
# request on stdin (request.sh), each re-checked on its spool -H file first (check.awk, the
# envelope proof): only what is proven, now, to be the account's (MS_KIND auth) or its
# backscatter (MS_KIND bounce) is touched. Queue runners are paused for the window
# (runner-pause.sh): a delivery holding a matched message's -D lock is ended, its runner paused.
# Settings: MS_EXIM the binary; MS_SPOOL the spool directory ('' asks exim); MS_MODE; MS_KIND;
# MS_CHECK_AWK (check.awk), MS_FROZEN_AWK (frozen.awk); probe.sh's and runner-pause.sh's.
# @include shared/scripts/path.sh
if [ -n "$MS_SPOOL" ]; then
  sp=$MS_SPOOL
else
  sp=$("$MS_EXIM" -bP spool_directory 2>/dev/null) || sp=''
  sp=${sp#*= }
fi
if [ -z "$sp" ] || [ ! -d "$sp/input" ]; then echo "__MAILSWEEP_PURGE__ - abort exim spool directory not found"; exit 0; fi
# The spool's real path: /proc/PID/fd links name it so.
sp=$(cd "$sp" && pwd -P) || { echo "__MAILSWEEP_PURGE__ - abort exim spool directory not readable"; exit 0; }
# @include shared/scripts/request.sh
# @include exim/scripts/probe.sh
# @include shared/scripts/runner-pause.sh

# The -H file of a matched id ("<id> <-D path>" lines of $t.ok).
hfile() { sed -n "s/^$1 \(.*\)-D\$/\1-H/p" "$t.ok"; }
# pending ID: exim has not done it yet (delete: the -H file is still there; hold: not frozen).
pending() {
  ph=$(hfile "$1")
  [ -n "$ph" ] && [ -f "$ph" ] || return 1
  [ "$MS_MODE" = delete ] || ! LC_ALL=C awk "$MS_FROZEN_AWK" "$ph"
}

# Pause first: what is re-checked stays true until the tool has run.
ms_pause
: >"$t.ok"
LC_ALL=C MS_SP="$sp" MS_KIND="$MS_KIND" MS_OK="$t.ok" awk "$MS_CHECK_AWK" "$t"
[ -s "$t.ok" ] || exit 0
if [ "$MS_MODE" = delete ]; then tool=-Mrm; else tool=-Mf; fi
cp "$t.ok" "$t.todo"
# Up to 3 rounds: a message that a process locked again meanwhile is freed and tried again.
r=0
while [ -s "$t.todo" ] && [ "$r" -lt 3 ]; do
  r=$((r + 1))
  ms_free "$t.todo"
  # Ids are validated ([0-9A-Za-z-], never a leading '-'): safe as words for xargs.
  cut -d' ' -f1 "$t.todo" | xargs "$MS_EXIM" "$tool" 2>&1 | sed 's/^/| /'
  : >"$t.left"
  while read -r id f; do
    if pending "$id"; then echo "$id $f" >>"$t.left"; fi
  done <"$t.todo"
  mv "$t.left" "$t.todo"
done
while read -r id f; do
  if ! pending "$id"; then
    if [ "$MS_MODE" = delete ]; then echo "$M $id done removed"; else echo "$M $id done frozen"; fi
  elif [ "$MS_MODE" = delete ]; then
    echo "$M $id fail -H file still in the spool"
  else
    echo "$M $id fail not frozen"
  fi
done <"$t.ok"
