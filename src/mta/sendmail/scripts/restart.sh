# Restarting sendmail (ops.ts sendmailRestart parses the report): one restart at a time on the
# host, the daemon's pid before, the daemon woken first (a purge killed outright may have left it
# SIGSTOPped, and a stopped daemon ignores the init script's SIGTERM), the distribution's
# restart, then wait until it runs. Settings: MS_PID_FILES, one a line.
# @include shared/scripts/path.sh
# @include shared/scripts/restart.sh
# @include sendmail/scripts/probe.sh
ms_restart_lock
ms_before
ms_wake
ms_service_restart sendmail
ms_wait_running
