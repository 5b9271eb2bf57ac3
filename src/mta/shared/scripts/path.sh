# The MTA tools live in the sbin directories, which a non-login SSH session's PATH often lacks.
# MS_PATH_EXTRA: more directories (colon-separated), e.g. qmail's bin.
PATH="$PATH:/usr/sbin:/sbin:/usr/local/sbin${MS_PATH_EXTRA:+:$MS_PATH_EXTRA}"
export PATH
