# ms_probe: the pid of exim's listening daemon (for the restart and the purge's pause), or
# nothing: the first pid file of MS_PID_FILES (one a line) naming a live process; else, when
# MS_PGREP is 1, the oldest exim process running -bd.
# @include shared/scripts/restart.sh
ms_probe() {
  ms_pp=''
  while IFS= read -r ms_pf; do
    if [ -z "$ms_pp" ] && [ -n "$ms_pf" ]; then ms_pp=$(ms_pidfile_probe "$ms_pf"); fi
  done <<MS_PID_FILES_END
$MS_PID_FILES
MS_PID_FILES_END
  if [ -n "$ms_pp" ]; then
    echo "$ms_pp"
  elif [ "$MS_PGREP" = 1 ]; then
    pgrep -o -f '^[^ ]*exim[^ ]* .*-bd' 2>/dev/null
  fi
}
