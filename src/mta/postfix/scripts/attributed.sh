# The attributed queue (src/mta/postfix/listing.ts): the listing, then the queue files' envelope
# records that say who submitted each message. Settings: those of both scripts.
# @include postfix/scripts/queue.sh
# @include postfix/scripts/postcat-envelopes.sh
