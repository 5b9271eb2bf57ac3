# The postfix submission proof, awk twin of src/mta/postfix/proof.ts (the rules are written there):
# which account submitted a queued message, from its queue file's `postcat -e` lines, as hex.
# Needs LC_ALL=C. Input: L[1..nl], the lines of one file's dump, each the lowercase hex of its bytes
# (split at 0a only). proof(id) sets:
#   PF_WHY     "" when the dump is understood, else why not (the words of proof.ts)
#   PF_AUTH    hex of the submitting account (sasl_username), "" for none
#   PF_SENDER  hex of the envelope sender ("" for the null sender)
#   PF_NR, PF_R[1..PF_NR]   hex of the recipients, in order
# @include shared/scripts/hex.awk
BEGIN {
  PF_M[0] = hx("*** ENVELOPE RECORDS "); PF_M[1] = hx("*** MESSAGE CONTENTS ")
  PF_M[2] = hx("*** HEADER EXTRACTED "); PF_M[3] = hx("*** MESSAGE FILE END ")
  PF_SND = hx("sender: "); PF_RCP = hx("recipient: "); PF_SASL = hx("named_attribute: sasl_username=")
}
# Which marker the line starts (0..3), or -1.
function pf_marker(x,   k) { for (k = 0; k < 4; k++) if (index(x, PF_M[k]) == 1) return k; return -1 }
function pf_ends(x, s) { return length(x) >= length(s) && substr(x, length(x) - length(s) + 1) == s }
function proof(id,   suf, i, x, m, seen, ns, spos, na, apos, al) {
  PF_WHY = ""; PF_AUTH = ""; PF_SENDER = ""; PF_NR = 0; split("", PF_R)
  suf = hx("/" id " ***")
  if (nl < 2 || pf_marker(L[1]) != 0 || !pf_ends(L[1], suf) || pf_marker(L[nl]) != 3 || !pf_ends(L[nl], suf)) { PF_WHY = "queue file not readable"; return }
  seen = 0; ns = 0; na = 0; spos = 0; apos = 0
  for (i = 2; i <= nl; i++) {
    x = L[i]; m = pf_marker(x)
    if (m >= 0) {
      if (m != seen + 1 || !pf_ends(x, suf)) { PF_WHY = "queue file not understood: markers"; return }
      seen = m; continue
    }
    # inside the message content: not records
    if (seen == 1) continue
    if (index(x, PF_SND) == 1) { ns++; spos = i; PF_SENDER = substr(x, length(PF_SND) + 1) }
    else if (index(x, PF_SASL) == 1) { na++; apos = i; al = substr(x, length(PF_SASL) + 1) }
    else if (index(x, PF_RCP) == 1) PF_R[++PF_NR] = substr(x, length(PF_RCP) + 1)
  }
  if (seen != 3) { PF_WHY = "queue file not understood: markers"; return }
  if (ns != 1) { PF_WHY = "queue file not understood: " ns " sender records"; PF_SENDER = ""; return }
  if (na == 1 && apos < spos) PF_AUTH = al
}
