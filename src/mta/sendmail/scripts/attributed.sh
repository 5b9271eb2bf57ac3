# The attributed queue (attribution.ts parses it): the queue listing, then the mail log.
# @include sendmail/scripts/queue.sh
# @include sendmail/scripts/maillog.sh
