#!/bin/sh
# What `npm run bench:fleet` needs, from Debian's packages: OpenSSH's sshd (only ever started by the
# benchmark with its own config; the system's ssh service is never started: policy-rc.d holds it
# during the install), parallel-ssh (pssh), ansible (ansible-core: `ansible -m raw` is all it
# runs) and GNU time. Idempotent: installs only what is missing. Exit 3 when something is missing
# and cannot be installed here (not root, no apt-get).
set -eu

missing=""
[ -x /usr/sbin/sshd ] || missing="$missing openssh-server"
command -v ssh-keygen >/dev/null 2>&1 || missing="$missing openssh-client"
command -v parallel-ssh >/dev/null 2>&1 || missing="$missing pssh"
command -v ansible >/dev/null 2>&1 || missing="$missing ansible-core"
# GNU time: CPU and max RSS of a whole process tree (getrusage of the waited-for children).
[ -x /usr/bin/time ] || missing="$missing time"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "bench:fleet needs:$missing (Debian packages); not root, so not installing them: run as root or install them yourself" >&2
  exit 3
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "bench:fleet needs:$missing (Debian packages); no apt-get here: install the equivalents yourself" >&2
  exit 3
fi

# Installing openssh-server would start the system's sshd: a policy-rc.d answering 101 forbids it.
# An existing one (containers ship it) is left as it is; ours is removed afterwards.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# Written by mailsweep bench:fleet for the length of its apt-get install.\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  own_policy=1
fi
cleanup() { if [ "$own_policy" -eq 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "bench:fleet: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends $missing </dev/null
