# exim restart: one restart at a time on the host, the daemon's pid before, the daemon woken (a
# purge killed outright may have left it SIGSTOPped), the service restarted the distribution's
# way (the first of MS_UNITS, one a line, that exists), then wait until the daemon runs.
# Settings: MS_UNITS; probe.sh's MS_PID_FILES, MS_PGREP; shared restart.sh's MS_LOCK_WAIT,
# MS_SYSTEMD_DIR, MS_WAIT.
# @include shared/scripts/path.sh
# @include exim/scripts/probe.sh
ms_restart_lock
ms_before
ms_wake
set --
# The units as arguments, in order.
while IFS= read -r u; do
  if [ -n "$u" ]; then set -- "$@" "$u"; fi
done <<MS_UNITS_END
$MS_UNITS
MS_UNITS_END
ms_service_restart "$@"
ms_wait_running
