# `postcat -e` over the queue files in "$@" (run by find -exec in postcat-envelopes.sh). A file
# that vanishes between find and postcat (delivered, moved by qmgr) makes postcat exit fatally for
# the whole batch: that batch is then retried one file at a time. Environment: MS_POSTCAT,
# MS_CONFIG_DIR (tool.sh).
# @include postfix/scripts/tool.sh
pf_tool "$MS_POSTCAT" -e "$@" || for f in "$@"; do pf_tool "$MS_POSTCAT" -e "$f"; done
