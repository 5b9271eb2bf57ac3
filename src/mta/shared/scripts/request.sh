# The purge request on stdin (src/mta/purge-stdin.ts writes it): saved to a private temporary
# file "$t" (every "$t.*" is removed on exit, also on HUP/INT/TERM/PIPE); a request that is not
# whole (no final ". N" line, or N id lines missing) aborts before anything is read from the queue.
# fin is the EXIT handler: a script that must undo something on exit redefines it and calls
# fin_files.
M=__MAILSWEEP_PURGE__
t=$(mktemp 2>/dev/null) || { echo "$M - abort cannot create a temporary file"; exit 0; }
fin_files() { rm -f "$t" "$t".*; }
# shellcheck disable=SC2317 # run by the EXIT trap (runner-pause.sh redefines it)
fin() { fin_files; }
trap 'fin' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 141' PIPE
cat >"$t" || { echo "$M - abort cannot read the request on stdin"; exit 0; }
if ! awk '$1 == "A" { a++ } $1 == "." { n = $2; e = NR } END { exit !(NR > 0 && e == NR && n == NR - 1 - a) }' "$t"; then
  echo "$M - abort the request on stdin is missing or incomplete"
  exit 0
fi
# The request's ids, one a line.
ms_ids() { awk '$1 != "A" && $1 != "." { print $1 }' "$t"; }
