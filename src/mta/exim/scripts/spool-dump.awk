# The dump for the attributed queue of spool -H files (spool-dump.sh): per file a line
# "__MAILSWEEP_H__ <path>", then its lines up to the first blank one (the end of the envelope; the
# headers follow), each prefixed "|", so nothing a sender or recipient wrote passes for a marker.
# The bytes of an -acl value (envelope.awk ev_acl; they may hold blank lines) are prefixed "+"
# instead: the reader (attribution.ts) has text decoded from UTF-8, whose bytes it cannot count.
# A line ending in CR goes as "%" then "|" or "+" then its hex: the line split of the reader would
# drop the CR. Run with LC_ALL=C.
# @include shared/scripts/hex.awk
# @include exim/scripts/envelope.awk
function out(pfx, l) { if (l ~ /\r$/) print "%" pfx hx(l); else print pfx l }
FNR == 1 { p = 1; s = 0; env = 1; print "__MAILSWEEP_H__ " FILENAME }
p && s > 0 {
  if (length($0) + 1 <= s) { out("+", $0); s -= length($0) + 1; next }
  # The value ends inside this line (as fread in exim): the rest is read as a line of its own.
  out("+", substr($0, 1, s)); $0 = substr($0, s + 1); s = 0
}
p && $0 == "" { p = 0 }
p {
  out("|", $0)
  # The envelope: the hyphen lines from line 5 on.
  if (env && FNR >= 5) { if ($0 ~ /^-/) { s = ev_acl($0); if (s < 0) s = 0 } else env = 0 }
}
