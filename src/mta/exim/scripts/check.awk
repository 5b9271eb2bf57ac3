# The purge re-check (purge.sh): every id of the request (stdin format, src/mta/purge-stdin.ts)
# against its spool -H file (flat input/ or split input/<6th char of the id>/), read by the
# envelope proof (envelope.awk). Values are compared as hex of the bytes of the file (hex.awk):
#   - line 1 names the id (a file that is not that of this message is never trusted);
#   - with an expected sender: line 3 is "<sender>", byte for byte (ESC, CR, quotes included);
#   - kind auth: the -auth_id of the envelope is the auth id of the request, and exim recorded SMTP
#     authentication (ev_smtpauth: a local submission's -auth_id is the caller's login);
#   - kind bounce: line 3 is "<>" and every undelivered recipient (the recipient list minus the
#     non-recipients tree) is one of the expected ones, and there is at least one.
# ENVIRON: MS_SP the spool directory, MS_KIND auth|bounce, MS_OK the file for "<id> <-D path>"
# lines of the matched ids. Prints one marker line (match / skip) per id. Run with LC_ALL=C.
# A value holding NUL or a newline cannot be in one -H line: such an id never matches.
# @include shared/scripts/hex.awk
# @include exim/scripts/envelope.awk
function skip(id, why) { print "__MAILSWEEP_PURGE__ " id " skip " why }
BEGIN { sp = ENVIRON["MS_SP"]; kind = ENVIRON["MS_KIND"]; okf = ENVIRON["MS_OK"] }
$1 == "A" { auth = $2; next }
$1 == "." { next }
{
  id = $1; es = $2; er = $3
  if (id !~ /^[0-9A-Za-z]+-[0-9A-Za-z]+-[0-9A-Za-z]+$/) next
  # The expected recipients: "r" then "x<hex>" items joined by ","; "-": no recipient check.
  split("", want)
  if (er != "-") { n = split(substr(er, 2), w, ","); for (k = 1; k <= n; k++) want[w[k]] = 1 }
  f = sp "/input/" id "-H"
  if (!envelope(f)) {
    f = sp "/input/" substr(id, 6, 1) "/" id "-H"
    if (!envelope(f)) { skip(id, "gone: no spool -H file"); next }
  }
  if (ev_line1 != id "-H") { skip(id, "spool -H file does not name this id"); next }
  if (ev_err != "") { skip(id, "spool -H file not understood: " ev_err); next }
  if (!ev_complete()) { skip(id, "spool -H file ends before its recipients"); next }
  if (es != "-" && hx(ev_sender) != "3c" substr(es, 2) "3e") { skip(id, "envelope sender changed: id reused?"); next }
  if (kind == "auth" && !(ev_hasauth && auth != "" && hx(ev_auth) == auth)) { skip(id, "not submitted by this auth id"); next }
  if (kind == "auth" && !ev_smtpauth()) { skip(id, "a local submission by that login, not an SMTP AUTH one"); next }
  if (kind == "bounce") {
    if (ev_sender != "<>") { skip(id, "not a null-sender message"); next }
    if (er == "-") { skip(id, "no expected recipients: cannot re-check"); next }
  }
  if (er != "-") {
    nu = ev_undelivered(); rbad = 0
    for (k = 1; k <= nu; k++) if (!(("x" hx(ev_und[k])) in want)) rbad = 1
    if (nu == 0) { skip(id, "recipients changed: none is left undelivered"); next }
    if (rbad) { skip(id, "recipients changed: an undelivered recipient is not among the expected ones"); next }
  }
  print "__MAILSWEEP_PURGE__ " id " match"
  d = f; sub(/-H$/, "-D", d); print id, d > okf
}
