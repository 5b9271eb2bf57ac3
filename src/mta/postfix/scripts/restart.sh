# Restart postfix (src/mta/postfix/ops.ts): systemd / init script / service, one restart per host
# at a time, then wait until master runs. Settings: MS_POSTFIX, MS_POSTCONF (tool paths),
# MS_CONFIG_DIR (tool.sh), MS_SYSTEMD_DIR, MS_LOCK_WAIT, MS_WAIT (shared/scripts/restart.sh).
# @include shared/scripts/path.sh
# @include postfix/scripts/tool.sh
# @include shared/scripts/restart.sh
# master's pid file under the queue directory; `postfix status` says whether it runs.
ms_probe() {
  q=$(pf_tool "$MS_POSTCONF" -h queue_directory 2>/dev/null)
  p=$(head -n 1 "$q/pid/master.pid" 2>/dev/null | tr -d ' ')
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null && pf_tool "$MS_POSTFIX" status >/dev/null 2>&1; then echo "$p"; fi
}
ms_restart_lock
ms_before
ms_service_restart postfix
ms_wait_running
