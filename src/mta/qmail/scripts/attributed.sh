# After the queue listing (listing.ts): the first header lines of every mess file, for the proof
# (attribution.ts; the rule: proof.ts). Settings: MS_QUEUE (the queue directory), MS_MESS_AWK
# (mess.awk), MS_PROOF_LINES and MS_PROOF_WIDTH (the proof's limits).
q=$MS_QUEUE
if [ -d "$q/mess" ]; then
  { find "$q/mess" -type f; echo "__MAILSWEEP_QMAIL_FIND__ $?"; } 2>&1 |
    MS_Q="$q/mess/" LC_ALL=C awk -v N="$MS_PROOF_LINES" -v W="$MS_PROOF_WIDTH" "$MS_MESS_AWK"
else
  echo "no directory $q/mess"
  false
fi
echo "__MAILSWEEP_RC__ mess $?"
