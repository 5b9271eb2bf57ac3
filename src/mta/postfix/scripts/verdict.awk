# The purge's delete-time re-check, one verdict line per id ("$M <id> match" or "$M <id> skip <why>").
# Run with LC_ALL=C. Input: the dump, "@ <id>" then `od -An -v -tx1` of `postcat -e -q <id>`
# (nothing when the file is gone). Settings: K ("auth" or "bounce"), M (the marker); MS_REQ
# (environment): the request file (src/mta/purge-stdin.ts), every value in hex.
# Per id: the submission proof (proof.awk), then the request's expectations:
#   - kind auth: the proven submitter is the request's auth id;
#   - kind bounce: the sender is empty, every recipient is an expected one, and there is one;
#   - with an expected sender: the envelope sender is it, byte for byte or as showq prints it.
# @include postfix/scripts/proof.awk
BEGIN {
  for (i = 0; i < 256; i++) { X[i] = sprintf("%02x", i); V[X[i]] = i }
  D = ENVIRON["MS_REQ"]
  while ((getline l < D) > 0) {
    split(l, f, " ")
    if (f[1] == "A") A = f[2]
    else if (f[1] != ".") { S[f[1]] = f[2]; R[f[1]] = f[3] }
  }
  id = ""
}
# bytes: hex string -> bytes in B[1..n]; returns n.
function bytes(h,   i, n) { split("", B); n = length(h) / 2; for (i = 1; i <= n; i++) B[i] = V[substr(h, 2 * i - 1, 2)]; return n }
# sq: showq's form of an internal address (quote_822_local, then printable(.., "?")), as hex; the
# listing comes from `postqueue -j` (real postfix 3.7 lists "a\x1bb c"@x as "\"a?b c\"@x").
# u: keep UTF-8 sequences (smtputf8) or not.
function sq(h, u,   n, i, s, e, dot, m, out, c) {
  n = bytes(h); s = 1
  if (n > 0 && B[1] == 64) for (i = 1; i <= n; i++) if (B[i] == 58) { s = i + 1; break }
  e = n + 1; for (i = s; i <= n; i++) if (B[i] == 64) e = i
  dot = (e > s && B[s] != 46 && B[e - 1] != 46)
  for (i = s; dot && i < e; i++) {
    c = B[i]
    if ((c == 46 && i + 1 < e && B[i + 1] == 46) || c <= 32 || c == 127 || c == 40 || c == 41 || c == 60 || c == 62 || c == 64 || c == 44 || c == 59 || c == 58 || c == 92 || c == 34 || c == 91 || c == 93) dot = 0
  }
  split("", Q); m = 0
  if (dot) for (i = 1; i <= n; i++) Q[++m] = B[i]
  else {
    for (i = 1; i < s; i++) Q[++m] = B[i]
    Q[++m] = 34
    for (i = s; i < e; i++) { if (B[i] == 34 || B[i] == 92 || B[i] == 13) Q[++m] = 92; Q[++m] = B[i] }
    Q[++m] = 34
    for (i = e; i <= n; i++) Q[++m] = B[i]
  }
  out = ""
  for (i = 1; i <= m; i++) {
    c = Q[i]
    if (c >= 32 && c <= 126) out = out X[c]
    else if (u && c >= 194 && c <= 254 && i < m && Q[i + 1] >= 128 && Q[i + 1] < 192) { out = out X[c]; while (i < m && Q[i + 1] >= 128 && Q[i + 1] < 192) out = out X[Q[++i]] }
    else out = out "3f"
  }
  return out
}
# same: the server value (hex) is the expected one, byte for byte or in showq's form.
function same(srv, want) { return srv == want || sq(srv, 1) == want || sq(srv, 0) == want }
function say(v) { print M " " id " " v }
function verdict(   i, j, ok, bad) {
  if (cur != "") { L[++nl] = cur; cur = "" }
  if (nl == 0) return say("skip gone: not in the queue")
  proof(id)
  if (PF_WHY != "") return say("skip " PF_WHY)
  if (K != "auth" && PF_SENDER != "") return say("skip not a null-sender message")
  if (S[id] != "-" && !same(PF_SENDER, substr(S[id], 2))) return say("skip envelope sender changed: id reused?")
  if (K == "auth") {
    if (PF_AUTH == "" || PF_AUTH != A) return say("skip not submitted by this auth id")
  } else {
    if (substr(R[id], 1, 1) != "r") return say("skip no expected recipients: cannot re-check it")
    split(substr(R[id], 2), W, ","); bad = 0
    for (i = 1; i <= PF_NR; i++) {
      ok = 0
      for (j in W) if (substr(W[j], 1, 1) == "x" && same(PF_R[i], substr(W[j], 2))) { ok = 1; break }
      if (!ok) bad++
    }
    if (PF_NR == 0 || bad > 0) return say("skip recipients changed")
  }
  say("match")
}
/^@ / { if (id != "") verdict(); nl = 0; cur = ""; split("", L); id = $2; next }
{ for (i = 1; i <= NF; i++) if ($i == "0a") { L[++nl] = cur; cur = "" } else cur = cur $i }
END { if (id != "") verdict() }
