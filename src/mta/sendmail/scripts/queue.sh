# The queue listing (queue.ts parses it): the server's clock, then `mailq` (the MTA queue; on
# Debian the MSP queue too) and `mailq -Ac` (the MSP client queue), each section closed by
# "__MAILSWEEP_RC__ <name> <exit code>". MS_MAILQ: mailq, or sendmail's binary with MS_BP=1.
# @include shared/scripts/path.sh
date '+__MAILSWEEP_NOW__ %s %z'
ms_mailq() { if [ -n "$MS_BP" ]; then "$MS_MAILQ" -bp "$@"; else "$MS_MAILQ" "$@"; fi; }
ms_mailq 2>&1; echo "__MAILSWEEP_RC__ mta $?"
ms_mailq -Ac 2>&1; echo "__MAILSWEEP_RC__ msp $?"
