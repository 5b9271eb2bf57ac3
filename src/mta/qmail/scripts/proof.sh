# who ID: the SMTP AUTH login the mess file of ID proves (proof.awk), or nothing. Needs $q (the
# queue directory) and the settings MS_PROOF_AWK (proof.awk), MS_PROOF_LINES, MS_PROOF_WIDTH
# (its limits) and MS_SMTPD_UIDS (qmail_smtpd_uids, validated digits). NULs become \001 so that
# no awk cuts a line short at one.
who() {
  m=''
  for f in "$q"/mess/*/"$1" "$q/mess/$1"; do
    if [ -f "$f" ]; then m=$f; break; fi
  done
  [ -n "$m" ] || return 0
  head -n "$((MS_PROOF_LINES + 1))" "$m" | LC_ALL=C tr '\000' '\001' |
    U="$MS_SMTPD_UIDS" LC_ALL=C awk -v N="$MS_PROOF_LINES" -v W="$MS_PROOF_WIDTH" "$MS_PROOF_AWK"
}
