# The queue files' envelope records for attribution (src/mta/postfix/attribution.ts): section
# "qdir" (the queue directory), then section "postcat": the kept lines of `postcat -e` over every
# file of the queues in MS_QUEUES (one a line). Settings: MS_POSTCAT, MS_POSTCONF (tool paths),
# MS_CONFIG_DIR (tool.sh), MS_QD (the queue directory, "" to ask postconf), MS_KEEP (grep -E: the
# lines that cross the wire), MS_BATCH (postcat-batch.sh). Runs after queue.sh (attributed.sh),
# which brings pf_tool (tool.sh).
if [ -n "$MS_QD" ]; then qd=$MS_QD; rc=0; else qd=$(pf_tool "$MS_POSTCONF" -h queue_directory 2>&1); rc=$?; fi
printf '%s\n' "$qd"
echo "__MAILSWEEP_RC__ qdir $rc"
if [ "$rc" -ne 0 ]; then
  false
elif cd "$qd"; then
  set --
  while IFS= read -r q; do set -- "$@" "$q"; done <<MS_QUEUES_END
$MS_QUEUES
MS_QUEUES_END
  # The batch script gets the tool and its settings through the environment.
  export MS_POSTCAT MS_CONFIG_DIR
  ( find "$@" -type f -exec sh -c "$MS_BATCH" postcat {} + ) 2>&1 | grep -E "$MS_KEEP"
  [ "$?" -le 1 ]
else
  false
fi
echo "__MAILSWEEP_RC__ postcat $?"
