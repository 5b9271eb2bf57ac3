# od -t o1 prints the bytes of a file as octal; this turns each NUL-terminated item into one line of
# "\0ooo" escapes: only backslashes and octal digits, safe on any shell line, read back with
# printf %b (qsv_dec, supervise.sh). With -v env=1 it keeps only NAME=VALUE items with a valid
# name, and no LD_* one (the environment recorded to start qmail-send again).
function out() {
  if (n > 0 || !env) { if (!env || (!nm && ok && name !~ /^LD_/)) print s }
  s = ""; n = 0; nm = 1; ok = 1; name = ""
}
BEGIN { s = ""; n = 0; nm = 1; ok = 1; name = "" }
{
  for (i = 1; i <= NF; i++) {
    o = $i
    if (o == "000") { out(); continue }
    s = s "\\0" o; n++
    # Still in the name: "=" ends it (not as the first byte); letters, "_", digits after the first.
    if (env && nm) {
      v = (substr(o, 1, 1) * 64) + (substr(o, 2, 1) * 8) + substr(o, 3, 1)
      if (v == 61) { nm = 0; if (n == 1) ok = 0 }
      else if ((v >= 65 && v <= 90) || (v >= 97 && v <= 122) || v == 95 || (n > 1 && v >= 48 && v <= 57)) name = name sprintf("%c", v)
      else ok = 0
    }
  }
}
END { if (n > 0) out() }
