# The mail log for the attribution (attribution.ts parses it): the first of MS_LOGS (one a line)
# that exists, its previous rotation (".1", uncompressed with logrotate's delaycompress) first,
# each behind a "__MAILSWEEP_LOGFILE__ <path>" line and filtered with grep -F to the AUTH=server
# and from= lines; the section ends with "__MAILSWEEP_RC__ log <rc>", 0 when the current log was
# read.
l=''
while IFS= read -r f; do if [ -f "$f" ]; then l=$f; break; fi; done <<MS_LOGS_END
$MS_LOGS
MS_LOGS_END
if [ -z "$l" ]; then
  echo "no mail log found"; rc=1
else
  rc=0
  for f in "$l.1" "$l"; do
    if [ -f "$f" ]; then
      echo "__MAILSWEEP_LOGFILE__ $f"
      grep -F -e 'AUTH=server, ' -e ': from=' "$f"; g=$?
      if [ "$g" -gt 1 ]; then rc=$g; fi
    fi
  done
fi
echo "__MAILSWEEP_RC__ log $rc"
