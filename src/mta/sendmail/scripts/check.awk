# The purge's re-check of every located id (purge.sh), in portable awk; run with LC_ALL=C.
# Input: "<id> <S> <R> <qf path>" lines (the request's fields, src/mta/purge-stdin.ts).
# ENVIRON: MS_KIND auth|bounce; MS_JOINED a file of the ids the log join (join.awk) ties to the
# auth id, one a line (kind auth); MS_OK the file for the "<id> <qf path>" lines of the matched
# ids. Prints one purge marker line (match / skip) per id.
# @include shared/scripts/hex.awk
function skip(id, why) { print "__MAILSWEEP_PURGE__ " id " skip " why }
BEGIN {
  kind = ENVIRON["MS_KIND"]; okf = ENVIRON["MS_OK"]; jf = ENVIRON["MS_JOINED"]
  if (jf != "") while ((getline l < jf) > 0) joined[l] = 1
}
{
  id = $1; es = $2; er = $3; f = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", f)
  split("", want)
  if (er != "-") { n = split(substr(er, 2), w, ","); for (k = 1; k <= n; k++) want[w[k]] = 1 }
  snd = ""; hs = 0; nu = 0; rbad = 0
  while ((getline line < f) > 0) {
    if (!hs && line ~ /^S/) { snd = substr(line, 2); hs = 1; continue }
    # R<flags>:<address>, the address maybe in angle brackets (older qf files: R<address>).
    if (line ~ /^R/) {
      a = substr(line, 2)
      if (a ~ /^[A-Za-z]*:/) sub(/^[A-Za-z]*:/, "", a)
      if (a ~ /^<.*>$/) a = substr(a, 2, length(a) - 2)
      nu++
      if (!(("x" hx(a)) in want)) rbad = 1
      continue
    }
    if (line ~ /^H/ || line == ".") break
  }
  close(f)
  if (!hs) { skip(id, "qf file has no sender line (being written?)"); next }
  # mailq cuts long senders (no closing ">" then: the listing keeps the "<"): a prefix match.
  if (es != "-") {
    e = substr(es, 2); h = hx(snd)
    if (substr(e, 1, 2) == "3c") ok = (index(h, e) == 1); else ok = (h == "3c" e "3e" || h == e)
    if (!ok) { skip(id, "envelope sender changed: id reused?"); next }
  }
  if (kind == "auth" && !(id in joined)) { skip(id, "not submitted by this auth id (mail log join)"); next }
  if (kind == "bounce") {
    if (snd != "<>" && snd != "") { skip(id, "not a null-sender message"); next }
    if (er == "-") { skip(id, "no expected recipients: cannot re-check"); next }
  }
  if (er != "-" && nu == 0) { skip(id, "recipients changed: none is left undelivered"); next }
  if (er != "-" && rbad) { skip(id, "recipients changed: an undelivered recipient is not among the expected ones"); next }
  print "__MAILSWEEP_PURGE__ " id " match"
  print id, f > okf
}
