# The qmail Received proof (the rule: src/mta/qmail/proof.ts, qmailSubmitter, its TypeScript twin;
# test/mta/qmail-proof.test.ts runs both over one table). Input: the first lines of one mess file, NULs
# made \001 (who(), proof.sh). Prints the login the header proves, or nothing. POSIX awk (mawk,
# gawk, busybox, BSD), LC_ALL=C. Settings: -v N=<max lines> -v W=<max line length>
# (QMAIL_PROOF_MAX_LINES, QMAIL_PROOF_MAX_LINE); U in the environment: qmail_smtpd_uids, " "-joined.

# ip(t): t is an IPv4 address, or looks like an IPv6 one (hex digits, dots, two colons or more).
function ip(t,  c) {
  if (t ~ /^[0-9][0-9]?[0-9]?[.][0-9][0-9]?[0-9]?[.][0-9][0-9]?[0-9]?[.][0-9][0-9]?[0-9]?$/) return 1
  if (length(t) > 45 || t !~ /^[0-9A-Fa-f.:]+$/) return 0
  c = t
  return gsub(/:/, "", c) >= 2
}

# decide: r1, r2 are the two Received lines of qmail-smtpd, with an AUTH protocol; the parenthesis at
# the end of r1 is remoteinfo: "<login>@<ip>" (stock received.c) or the login (the sagredo form).
function decide(  p, i, j, l, t) {
  if (r1 !~ R1 || r2 !~ R2) return
  match(r1, /[(][^()]*[)]$/)
  p = substr(r1, RSTART + 1, RLENGTH - 2)
  # Empty, or a character safeput() replaced: no one login.
  if (p == "" || index(p, "?") > 0) return
  j = 0
  for (i = 1; i <= length(p); i++) if (substr(p, i, 1) == "@") j = i
  if (j > 0) { l = substr(p, 1, j - 1); t = substr(p, j + 1) } else { l = ""; t = p }
  if (ip(t)) { if (j > 0 && l != "") print l; return }
  if (t == "unknown") return
  print p
}

BEGIN {
  S = "[][A-Za-z0-9.@%+/=:?-]"
  D = "[0-9][0-9]? [A-Z][a-z][a-z] [0-9][0-9][0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] [-+][0-9][0-9][0-9][0-9]"
  QQ = "^Received: [(]qmail [0-9]+ invoked (from network|by uid [0-9]+)[)]; " D "$"
  R1 = "^Received: from " S "*( [(]HELO " S "*[)])? [(]" S "*[)]$"
  R2 = "^  by " S "* with (ESMTP|(UTF8)+SMTP)(A|SA [(][A-Za-z0-9_-]+ encrypted, authenticated[)]); " D "$"
  U = " " ENVIRON["U"] " "
  # st: 0 looking for the first Received field after line 1; 1 its first line read; 2 its
  # second; 9 decided (no proof).
  st = 0
}
# Past the limits: undecided, no proof.
NR > N + 0 || length($0) > W + 0 { st = 9; exit }
# Line 1: written by qmail-queue, from qmail-smtpd (qmaild) or a uid listed in U.
NR == 1 {
  if ($0 !~ QQ) { st = 9; exit }
  if ($0 ~ /invoked by uid/) {
    x = $0
    sub(/^Received: [(]qmail [0-9]+ invoked by uid /, "", x)
    sub(/[)].*$/, "", x)
    if (index(U, " " x " ") == 0) { st = 9; exit }
  }
  next
}
# Header fields before the Received one are skipped (DKIM-Signature, X-Spam-* of a wrapper).
st == 0 {
  if ($0 == "") { st = 9; exit }
  if ($0 ~ /^[ \t]/) { if (NR == 2) { st = 9; exit } next }
  if (tolower($0) ~ /^received[ \t]*:/) { r1 = $0; st = 1; next }
  if ($0 !~ /^[!-9;-~]+:/) { st = 9; exit }
  next
}
st == 1 { r2 = $0; st = 2; next }
# Exactly two lines: a third one continuing the field is not the format of qmail-smtpd.
st == 2 { if ($0 !~ /^[ \t]/) decide(); st = 9; exit }
END { if (st == 2) decide() }
