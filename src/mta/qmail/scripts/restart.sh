# Restart qmail-send the way it is supervised (supervise.sh: qctl), report how, and check that a
# qmail-send runs afterwards with a NEW pid: qmail-send finishes the deliveries in progress
# before it exits. Settings: MS_PATH_EXTRA (path.sh), supervise.sh's.
# @include shared/scripts/path.sh
# @include shared/scripts/restart.sh
# @include qmail/scripts/supervise.sh
ms_probe() { qsv_pid; }
ms_restart_lock
ms_before
o=$(mktemp 2>/dev/null || echo "/tmp/mailsweep-restart.$$")
qctl restart </dev/null >"$o" 2>&1 9>&-; rrc=$?
case "$qsv_how" in
  ''|none) echo "$R how none";;
  *) echo "$R how $(qsv_clean "$qsv_how")";;
esac
sed 's/^/| /' "$o" | tail -n 20; rm -f "$o"
echo "$R rc $rrc"
# How long to wait for the new pid: qsv_W seconds after a restart that worked, 5 after one that
# failed, none when there was no way to restart.
pid=''; i=0; n=$((qsv_W * 2))
[ "$rrc" -eq 0 ] || n=10
case "$qsv_how" in ''|none) n=1;; esac
while [ "$i" -lt "$n" ]; do
  pid=$(qsv_pid)
  if [ -n "$pid" ] && [ "$pid" != "$b" ]; then break; fi
  i=$((i+1)); sleep 0.5
done
if [ -n "$pid" ]; then echo "$R running $pid"; else echo "$R down"; fi
