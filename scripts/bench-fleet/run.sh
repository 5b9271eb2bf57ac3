#!/usr/bin/env bash
# `npm run bench:fleet -- ARGS`: the driver (dist/bench/fleet/main.js) with the open-files limit
# raised to the hard limit (N sshd listeners, --forks connections per tool, its children inherit it).
# The driver checks its arguments, then installs what is missing (install.sh beside this file).
set -euo pipefail
here=$(dirname -- "$0")
ulimit -n "$(ulimit -Hn)" 2>/dev/null || echo "bench:fleet: could not raise ulimit -n above $(ulimit -n)" >&2
exec node "$here/../../dist/bench/fleet/main.js" "$@"
