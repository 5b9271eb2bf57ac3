# The sendmail AUTH->from join: the awk twin of src/mta/sendmail/join.ts, where the rule is
# written down (rules 1-5 there are numbered the same here). test/mta/sendmail-proof.test.ts runs
# one table of log excerpts through both. Portable awk (mawk, gawk, busybox); run with LC_ALL=C.
# Input: the mail log (its AUTH=server and from= lines are enough), in order.
# ENVIRON MS_WANT: a file of queue ids, one a line: only those are reported (unset: every one).
# Output, at the end, one line per queue id in the order first seen: "<id> <hex of the authid>"
# when its latest from= line joins a session with an authid, else "<id> -".
# @include shared/scripts/hex.awk

# The position of the last t in s (0: none).
function last(s, t,   i, p) { p = 0; while ((i = index(substr(s, p + 1), t)) > 0) p += i; return p }

function v4ok(s,   a, i) {
  if (split(s, a, ".") != 4) return 0
  for (i = 1; i <= 4; i++) if (a[i] !~ /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])$/) return 0
  return 1
}
function g16(s) { return s ~ /^[0-9A-Fa-f]+$/ && length(s) <= 4 }
function h16(s,   i, v) { v = 0; s = tolower(s); for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }

# The address as src/logs/line.ts bareIp writes it (IPv4 as logged; IPv6 in RFC 5952 form,
# an IPv4-mapped one as its IPv4), or "" when it is none.
function ipaddr(a,   t, z, i, n, g, v, L, R, nl, nr, la, ra, k, bs, bl, cs, cl, out) {
  t = a
  if (tolower(substr(t, 1, 5)) == "ipv6:") t = substr(t, 6)
  if (t ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/) {
    split(t, g, ".")
    for (i = 1; i <= 4; i++) if (length(g[i]) > 3) return ""
    return t
  }
  if (index(t, ":") == 0) return ""
  z = ""
  i = index(t, "%")
  if (i) { z = substr(t, i); t = substr(t, 1, i - 1); if (z !~ /^%[0-9A-Za-z.:-]+$/) return "" }
  # An IPv4 tail is two 16-bit groups.
  i = last(t, ":")
  if (index(substr(t, i + 1), ".")) {
    if (!v4ok(substr(t, i + 1))) return ""
    split(substr(t, i + 1), g, ".")
    t = substr(t, 1, i) sprintf("%x:%x", g[1] * 256 + g[2], g[3] * 256 + g[4])
  }
  i = index(t, "::")
  if (i) {
    if (index(substr(t, i + 1), "::")) return ""
    L = substr(t, 1, i - 1); R = substr(t, i + 2)
    nl = (L == "") ? 0 : split(L, la, ":")
    nr = (R == "") ? 0 : split(R, ra, ":")
    if (nl + nr > 7) return ""
    n = 0
    for (k = 1; k <= nl; k++) { if (!g16(la[k])) return ""; v[++n] = h16(la[k]) }
    for (k = nl + nr; k < 8; k++) v[++n] = 0
    for (k = 1; k <= nr; k++) { if (!g16(ra[k])) return ""; v[++n] = h16(ra[k]) }
  } else {
    if (split(t, la, ":") != 8) return ""
    for (k = 1; k <= 8; k++) { if (!g16(la[k])) return ""; v[k] = h16(la[k]) }
  }
  # The first longest run of two or more zero groups becomes "::".
  bs = 0; bl = 0; cl = 0
  for (k = 1; k <= 8; k++) {
    if (v[k] == 0) { if (!cl) cs = k; cl++; if (cl > bl) { bl = cl; bs = cs } } else cl = 0
  }
  if (bl < 2) bs = 0
  out = ""
  for (k = 1; k <= 8; k++) {
    if (bs && k >= bs && k < bs + bl) { if (k == bs) out = out "::"; continue }
    if (out != "" && substr(out, length(out)) != ":") out = out ":"
    out = out sprintf("%x", v[k])
  }
  if (z == "" && out ~ /^::ffff:[0-9a-f]+:[0-9a-f]+$/)
    return sprintf("%d.%d.%d.%d", int(v[7] / 256), v[7] % 256, int(v[8] / 256), v[8] % 256)
  return out z
}

# What two relays of the same client have in common (rule 4), or "": names no client.
function relaykey(r,   b, addr, host, ip) {
  if (r == "" || index(r, ",")) return ""
  if (length(r) >= 16 && substr(r, length(r) - 15) == " (may be forged)") r = substr(r, 1, length(r) - 16)
  if (r == "") return ""
  if (substr(r, length(r)) == "]" && (b = index(r, "["))) {
    addr = substr(r, b + 1, length(r) - b - 1); host = substr(r, 1, b - 1)
    if (index(addr, "[") == 0 && index(addr, "]") == 0 && (host == "" || (host ~ / $/ && index(substr(host, 1, length(host) - 1), " ") == 0 && index(host, "]") == 0 && length(host) > 1))) {
      ip = ipaddr(addr)
      if (ip != "") return "ip " ip
    }
  }
  return "text " r
}

BEGIN {
  wf = ENVIRON["MS_WANT"]; every = (wf == "")
  if (!every) while ((getline l < wf) > 0) want[l] = 1
}

{
  # Rule 1: the tag before the first ": ", "prog[pid]", the host the word before it.
  i = index($0, ": "); if (!i) next
  head = substr($0, 1, i - 1); body = substr($0, i + 2); sub(/[ \t\r]+$/, "", body)
  j = last(head, " "); tag = substr(head, j + 1); before = (j > 0) ? substr(head, 1, j - 1) : ""
  host = substr(before, last(before, " ") + 1)
  b = index(tag, "["); if (b < 2 || substr(tag, length(tag)) != "]") next
  prog = substr(tag, 1, b - 1); pid = substr(tag, b + 1, length(tag) - b - 1)
  if (pid !~ /^[0-9]+$/ || length(pid) > 10 || prog !~ /^(sendmail|sm-[A-Za-z0-9_.-]+)$/) next
  key = host " " pid

  # Rule 2: an AUTH line starts its key's session; one not of the shape joins nothing.
  if (substr(body, 1, 13) == "AUTH=server, ") {
    srel[key] = ""; sid[key] = ""
    if (substr(body, 1, 19) != "AUTH=server, relay=") next
    r = substr(body, 20); i = index(r, ", authid="); if (!i) next
    rest = substr(r, i + 9); j = last(rest, ", mech=")
    if (!j || substr(rest, j + 7) !~ /^[^,]*, bits=[0-9]+$/) next
    srel[key] = relaykey(substr(r, 1, i - 1)); sid[key] = substr(rest, 1, j - 1)
    next
  }

  # Rule 3: a from= line, its relay and proto read from the end.
  if (!match(body, /^[0-9A-Za-z]+: from=/)) next
  q = substr(body, 1, index(body, ":") - 1)
  if (length(q) < 8 || length(q) > 20 || (!every && !(q in want))) next
  rest = substr(body, RLENGTH + 1)
  k = last(rest, ", relay="); rel = ""; pre = rest
  if (k) { rel = relaykey(substr(rest, k + 8)); pre = substr(rest, 1, k - 1) }
  p = last(pre, ", proto="); authp = 1
  if (p) { proto = substr(pre, p + 8); sub(/,.*$/, "", proto); authp = (toupper(proto) ~ /^(E?SMTPS?A|UTF8SMTPS?A)$/) }

  # Rules 4 and 5: the same client, an authenticated proto or none; the latest line wins.
  if (!(q in res)) order[++nq] = q
  res[q] = (rel != "" && (key in srel) && srel[key] == rel && authp && sid[key] != "") ? hx(sid[key]) : "-"
}

END { for (i = 1; i <= nq; i++) print order[i], res[order[i]] }
