#!/bin/sh
# The telegraf image's entrypoint.sh: flags alone run telegraf with them; anything else runs as given. The program
# is the real Telegraf, built from its Go module with exactly the plugins the stack's telegraf.conf uses.
set -e
if [ "${1#-}" != "$1" ]; then
    set -- telegraf "$@"
fi
exec "$@"
