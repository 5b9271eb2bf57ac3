# The postfix queue listing (src/mta/postfix/listing.ts), one round trip: the server's clock, then
# `postqueue -j` (section "json") and, when it works, the `postqueue -p` footer for the total
# (section "footer"); when it fails (postfix < 3.1: no -j), the full -p listing (section "plain").
# Settings: MS_POSTQUEUE (tool path), MS_CONFIG_DIR (tool.sh).
# @include shared/scripts/path.sh
# @include postfix/scripts/tool.sh
date '+__MAILSWEEP_NOW__ %s %z'
pf_tool "$MS_POSTQUEUE" -j 2>&1
rc=$?
echo "__MAILSWEEP_RC__ json $rc"
if [ "$rc" -eq 0 ]; then
  pf_tool "$MS_POSTQUEUE" -p 2>&1 | tail -n 1
  echo "__MAILSWEEP_RC__ footer $?"
else
  pf_tool "$MS_POSTQUEUE" -p 2>&1
  echo "__MAILSWEEP_RC__ plain $?"
fi
