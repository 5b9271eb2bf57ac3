# The exim envelope proof, awk side: one spool -H file read as spool_in.c of exim reads it.
# Its twin is src/mta/exim/envelope.ts (parseEximSpoolHeader, recipientAddress, eximAclBytes):
# change both together; test/mta/exim-proof.test.ts runs one table of -H files through both.
# Run with LC_ALL=C: length() counts bytes, as the -acl lengths of exim do.
#
# Only the envelope (lines 5.. up to the first line not starting with "-") is searched for
# -auth_id and -frozen, so a header or a recipient cannot pass for one of its lines; an -acl
# value (which may hold newlines and text that the sender chose) is skipped by its length.

# ev_acl(l): bytes that an "-acl[cm] <name> <length>" line takes for its value after the line (its
# length and its newline); 0 for any other line; -1 for an acl line without a length (exim
# refuses such a file).
function ev_acl(l,   n, w) {
  if (l !~ /^--?acl[cm]?( |$)/) return 0
  if (l !~ /^--?acl[cm]? [^ ]+ [0-9]+$/) return -1
  n = split(l, w, " ")
  return w[n] + 1
}

function ev_ch(s, k) { return substr(s, k + 1, 1) }

# One "<text> <len>,<n>" block ending before index e (0-based): where <text> starts, or -1.
function ev_blk(l, e,   q, n) {
  q = e
  while (q > 0 && ev_ch(l, q - 1) ~ /[0-9,-]/) q--
  n = substr(l, q + 1, e - q); sub(/,.*/, "", n)
  if (n !~ /^[0-9]+$/ || ev_ch(l, q - 1) != " ") return -1
  n = q - 1 - n
  return n >= 1 ? n : -1
}

# A recipient line without the trailing data exim adds, read from the right (spool_in.c): "addr",
# "addr pno", "addr a,pno,b", "addr orcpt len,dsnflags errors_to len,pno#3" (addresses may hold
# spaces). Twin of recipientAddress in envelope.ts.
function ev_raddr(l,   n, p, f, e, s) {
  n = length(l); p = n - 1
  while (p >= 0 && ev_ch(l, p) ~ /[0-9]/) p--
  if (p < 0 || p == n - 1) return l
  if (ev_ch(l, p) == ",") { while (p >= 0 && ev_ch(l, p) ~ /[0-9,]/) p--; return ev_ch(l, p) == " " ? substr(l, 1, p) : l }
  if (ev_ch(l, p) == " ") return substr(l, 1, p)
  if (ev_ch(l, p) != "#") return l
  f = substr(l, p + 2) + 0; e = p
  # flag 1: an errors_to block; flag 2: an orcpt block before it.
  if (f % 2 == 1) { s = ev_blk(l, e); if (s < 0) return l; e = s - 1 } else e = p - 1
  if (int(f / 2) % 2 == 1) { s = ev_blk(l, e); if (s < 0) return l; e = s - 1 }
  return substr(l, 1, e > 0 ? e : 0)
}

# envelope(f): read the -H file f; 0 when it cannot be read (or is empty), else 1 and:
#   ev_line1   its first line ("<id>-H")
#   ev_sender  line 3, the envelope sender with its brackets ("<>" for a bounce)
#   ev_hasauth 1 when the envelope has an -auth_id (or tainted --auth_id) line; ev_auth the value
#              of the last one (exim keeps the last)
#   ev_frozen  1 when the envelope has a -frozen line
#   ev_hostauth, ev_hashost, ev_proto  the -host_auth value, whether -host_address is there, and
#              the -received_protocol value: ev_smtpauth() reads them
#   ev_dl[a]   the non-recipients tree: addresses already delivered
#   ev_nr      the recipient count (-1: not reached); ev_rcpt[1..ev_rc] the recipients read
#   ev_err     why the file is not understood, or ""
function envelope(f,   line, ln, st, sk, pend) {
  ev_line1 = ""; ev_sender = ""; ev_auth = ""; ev_hasauth = 0; ev_frozen = 0
  ev_hostauth = ""; ev_hashost = 0; ev_proto = ""
  ev_nr = -1; ev_rc = 0; ev_err = ""
  split("", ev_dl); split("", ev_rcpt)
  if ((getline line < f) <= 0) { close(f); return 0 }
  ev_line1 = line; ln = 1; st = "env"; sk = 0; pend = 0
  while ((getline line < f) > 0) {
    ln++
    if (ln == 3) { ev_sender = line; continue }
    if (ln < 5) continue
    if (st == "env") {
      # An -acl value: skipped by bytes, as fread in exim does (it may end inside a line).
      if (sk > 0) {
        if (length(line) + 1 <= sk) { sk -= length(line) + 1; continue }
        line = substr(line, sk + 1); sk = 0
      }
      if (line ~ /^-/) {
        if (line ~ /^--?auth_id /) { ev_auth = line; sub(/^--?auth_id /, "", ev_auth); ev_hasauth = 1 }
        if (line ~ /^--?frozen /) ev_frozen = 1
        if (line ~ /^--?host_auth( |$)/) { ev_hostauth = line; sub(/^--?host_auth ?/, "", ev_hostauth) }
        if (line ~ /^--?host_address( |$)/) ev_hashost = 1
        if (line ~ /^--?received_protocol( |$)/) { ev_proto = line; sub(/^--?received_protocol ?/, "", ev_proto) }
        sk = ev_acl(line)
        if (sk < 0) { ev_err = "acl line without a length"; break }
        continue
      }
      st = "tree"
    }
    # Pre-order nodes "<L><R> address" (L, R: Y when that subtree follows), or "XX" for none.
    if (st == "tree") {
      if (pend == 0 && line == "XX") { st = "count"; continue }
      if (line !~ /^[YN][YN] /) { ev_err = "non-recipients tree not understood"; break }
      if (pend == 0) pend = 1
      pend--
      if (substr(line, 1, 1) == "Y") pend++
      if (substr(line, 2, 1) == "Y") pend++
      ev_dl[substr(line, 4)] = 1
      if (pend == 0) st = "count"
      continue
    }
    if (st == "count") {
      if (line !~ /^[0-9]+$/) { ev_err = "recipient count not understood"; break }
      ev_nr = line + 0; st = "rcpt"
      if (ev_nr == 0) break
      continue
    }
    ev_rcpt[++ev_rc] = ev_raddr(line)
    if (ev_rc == ev_nr) break
  }
  close(f)
  return 1
}

# ev_complete(): the last envelope() understood the file and read all its recipients.
function ev_complete() { return ev_err == "" && ev_nr >= 0 && ev_rc == ev_nr }

# ev_undelivered(): fills ev_und[1..n] with the recipients not in the non-recipients tree; n.
function ev_undelivered(   k, n) {
  split("", ev_und); n = 0
  for (k = 1; k <= ev_rc; k++) if (!(ev_rcpt[k] in ev_dl)) ev_und[++n] = ev_rcpt[k]
  return n
}

# ev_smtpauth(): exim recorded SMTP authentication (an authenticator, or a TCP client with an
# authenticated protocol); a local submission's -auth_id is the caller's login, not an account.
# The TypeScript twin: smtpAuthenticated in envelope.ts.
function ev_smtpauth() { return ev_hostauth != "" || (ev_hashost && tolower(ev_proto) ~ /a$/) }
