# Round trip 2 of the local domains (src/mta/local-domains.ts): the files, directories and postfix
# tables the MTA's configuration names, one "<how> <path>" request a line on stdin. Each answer is
# framed by "__MAILSWEEP_LDF__ <how> <path>" and "__MAILSWEEP_LDF__ rc <exit code>".
# @include shared/scripts/path.sh
F=__MAILSWEEP_LDF__
while IFS=' ' read -r how p; do
  echo "$F $how $p"
  case "$how" in
    dir) ls -1 -- "$p" 2>&1 ;;
    postmap) postmap -s -- "$p" 2>&1 || postmap -s "$p" 2>&1 ;;
    *) cat -- "$p" 2>&1 ;;
  esac
  echo "$F rc $?"
done
