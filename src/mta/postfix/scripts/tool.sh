# pf_tool PATH ARGS…: run a postfix tool, with "-c MS_CONFIG_DIR" for a second instance.
pf_tool() {
  pf_t=$1
  shift
  if [ -n "${MS_CONFIG_DIR:-}" ]; then "$pf_t" -c "$MS_CONFIG_DIR" "$@"; else "$pf_t" "$@"; fi
}
