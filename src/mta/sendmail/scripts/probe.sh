# ms_probe: the sendmail daemon's pid, from the first of MS_PID_FILES (one a line) that names a
# live process; nothing when none does. Needs shared/scripts/restart.sh (ms_pidfile_probe).
ms_probe() {
  while IFS= read -r ms_pf; do
    ms_pp=$(ms_pidfile_probe "$ms_pf")
    if [ -n "$ms_pp" ]; then echo "$ms_pp"; return 0; fi
  done <<MS_PID_FILES_END
$MS_PID_FILES
MS_PID_FILES_END
}
