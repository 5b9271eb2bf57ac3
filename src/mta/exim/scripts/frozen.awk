# Exit 0 when the spool -H file named by the argument is frozen: its envelope (envelope.awk) has a
# -frozen line. the check of purge.sh that exim -Mf took effect. Run with LC_ALL=C.
# @include exim/scripts/envelope.awk
BEGIN { exit !(envelope(ARGV[1]) && ev_frozen) }
