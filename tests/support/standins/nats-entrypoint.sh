#!/bin/sh
# Stand-in for the nats Alpine image's docker-entrypoint.sh: flags alone run nats-server with them.
set -e
if [ "${1#-}" != "$1" ]; then
    set -- nats-server "$@"
fi
exec "$@"
