# hx(s): the lowercase hex of the bytes of s, as `od -An -v -tx1 | tr -d ' \n'` prints them; run
# awk with LC_ALL=C so that one character is one byte. The request on stdin carries every value
# in hex (src/mta/purge-stdin.ts), so values are compared byte for byte, never as patterns.
BEGIN { for (i = 1; i < 256; i++) HX[sprintf("%c", i)] = sprintf("%02x", i) }
function hx(s,   i, n, o) { o = ""; n = length(s); for (i = 1; i <= n; i++) o = o HX[substr(s, i, 1)]; return o }
