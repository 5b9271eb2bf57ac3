# The first header lines of the mess files, for the proof (attribution.ts reads the output, proof.ts
# judges it). Input: the file names find prints, then "__MAILSWEEP_QMAIL_FIND__ <exit code
# of find>"; the complaints of find come out behind "! ". MS_Q (environment): "<queue>/mess/"; -v N, -v W:
# the limits of the proof (QMAIL_PROOF_MAX_LINES, QMAIL_PROOF_MAX_LINE).
# Per file, only the lines the rule can need: line 1; if qmail-queue wrote it, the header fields up
# to the first "Received:" one after it, the next line of that field and the line after (or up to a
# blank line, EOF, N lines or a line longer than W bytes). Output per file:
#   __MAILSWEEP_QMAIL__ <id>
#   |<line>                     every content line behind "|": nothing in a header is a marker
#   __MAILSWEEP_QMAIL_END__ <id> eof|done|cap|long|unreadable|error
# Control characters other than tab become DEL (0x7f), which no part of the rule accepts either,
# so a CR cannot be lost on the way.
BEGIN { Q = ENVIRON["MS_Q"] }
index($0, Q) != 1 || Q == "" { if ($0 ~ /^__MAILSWEEP_QMAIL_FIND__ [0-9]+$/) print; else print "! " $0; next }
{
  f = $0; id = f; sub(/^.*\//, "", id); if (id !~ /^[0-9]+$/) next
  print "__MAILSWEEP_QMAIL__ " id; n = 0; s = 0; w = "eof"
  while ((r = (getline x < f)) > 0) {
    if (++n > N + 0) { w = "cap"; break }
    if (length(x) > W + 0) { w = "long"; break }
    gsub(/[\001-\010\013-\037]/, "\177", x); print "|" x
    if (n == 1) { if (x !~ /^Received: [(]qmail /) { w = "done"; break } continue }
    if (s == 0) { if (x == "") { w = "done"; break } if (x ~ /^[Rr][Ee][Cc][Ee][Ii][Vv][Ee][Dd][ \t]*:/) s = 1; continue }
    if (++s == 3) { w = "done"; break }
  }
  if (r < 0) w = (n == 0 ? "unreadable" : "error"); close(f)
  print "__MAILSWEEP_QMAIL_END__ " id " " w
}
