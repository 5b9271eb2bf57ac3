# The attributed queue's second part: the spool directory (section "spooldir": `exim -bP
# spool_directory`, or the inventory's MS_SPOOL), then every spool -H file's envelope (section
# "spool", spool-dump.awk in MS_DUMP_AWK), flat input/ and split input/<c>/ alike (recursive).
# Settings: MS_EXIM the binary, MS_SPOOL ('' asks exim), MS_DUMP_AWK.
if [ -n "$MS_SPOOL" ]; then
  sp="spool_directory = $MS_SPOOL"; rc=0
else
  sp=$("$MS_EXIM" -bP spool_directory 2>&1); rc=$?
fi
printf '%s\n' "$sp"
echo "__MAILSWEEP_RC__ spooldir $rc"
sp=${sp#*= }
if [ "$rc" -ne 0 ]; then
  echo "spool directory unknown"
  false
elif [ -d "$sp/input" ]; then
  ( find "$sp/input" -type f -name '*-H' -exec env LC_ALL=C awk "$MS_DUMP_AWK" {} + ) 2>&1
else
  echo "no directory $sp/input"
  false
fi
echo "__MAILSWEEP_RC__ spool $?"
