# The verdict of the purge for every id, in one run (POSIX awk, LC_ALL=C). Input: the dump (purge.sh,
# dump): per id "@ <id>", then "I <hex of the info file>", "T <hex of a local/remote file>" (each),
# and for kind auth "W <hex of the login the mess file proves>" (proof.awk); nothing after "@"
# when the info file is gone. MS_REQ (environment): the request file; -v K=auth|bounce, -v M=the
# marker. Prints one "<M> <id> match|skip <why>" line per id.
#
# Comparison: the listing is by qmail-qread, which prints every byte outside 32..126 as "_"
# (notqmail qmail-qread.c, out()), so a sender or recipient is compared after that same mapping
# on both sides: byte for byte for printable ASCII, and a control character in the info file
# matches the "_" the listing showed for it (and nothing printable but "_").
# Recipients: the records of local/<split>/<id> and remote/<split>/<id> are "T<addr>\0" (still
# to deliver) and "D<addr>\0" (done); only T records count.

# qm: the hex string with every byte outside 20..7e made "5f" (the "_" of qmail-qread).
function qm(h,  i, b, o) {
  o = ""
  for (i = 1; i < length(h); i += 2) { b = substr(h, i, 2); o = o ((b < "20" || b > "7e") ? "5f" : b) }
  return o
}
# recs: split a hex string into NUL-terminated records RC[1..n]; returns n.
function recs(h,  i, b, c, n) {
  split("", RC); n = 0; c = ""
  for (i = 1; i < length(h); i += 2) { b = substr(h, i, 2); if (b == "00") { RC[++n] = c; c = "" } else c = c b }
  if (c != "") RC[++n] = c
  return n
}
function say(v) { print M " " id " " v }
function verdict(  n, snd, i, j, k, r, ok, nr, bad) {
  if (ni == 0) return say("skip gone: no info file")
  n = recs(info)
  if (n < 1 || substr(RC[1], 1, 2) != "46") return say("skip info file not readable")
  # The info file: "F<sender>\0".
  snd = substr(RC[1], 3)
  if (K != "auth" && snd != "") return say("skip not a null-sender message")
  if (S[id] != "-" && qm(snd) != qm(substr(S[id], 2))) return say("skip envelope sender changed: id reused?")
  if (K == "auth") { if (!hasw || w != A) return say("skip not submitted by this auth id"); return say("match") }
  # A bounce: every recipient still to deliver is one the listing showed.
  if (substr(R[id], 1, 1) != "r") return say("skip no expected recipients: cannot re-check it")
  split(substr(R[id], 2), X, ","); nr = 0; bad = 0
  for (k = 1; k <= nt; k++) {
    n = recs(T[k])
    for (i = 1; i <= n; i++) {
      if (substr(RC[i], 1, 2) != "54") continue
      nr++; r = qm(substr(RC[i], 3)); ok = 0
      for (j in X) if (substr(X[j], 1, 1) == "x" && qm(substr(X[j], 2)) == r) { ok = 1; break }
      if (!ok) bad++
    }
  }
  if (nr == 0 || bad > 0) return say("skip recipients changed")
  say("match")
}
# The request (purge-stdin.ts): "A <hex auth id>", "<id> <S> <R>" lines, ". <n>".
BEGIN {
  D = ENVIRON["MS_REQ"]
  while ((getline l < D) > 0) { split(l, f, " "); if (f[1] == "A") A = f[2]; else if (f[1] != ".") { S[f[1]] = f[2]; R[f[1]] = f[3] } }
  id = ""
}
/^@ / { if (id != "") verdict(); id = $2; ni = 0; nt = 0; hasw = 0; w = ""; info = ""; split("", T); next }
$1 == "I" { ni++; info = $2; next }
$1 == "T" { T[++nt] = $2; next }
$1 == "W" { hasw = 1; w = $2; next }
END { if (id != "") verdict() }
