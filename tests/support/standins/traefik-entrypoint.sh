#!/bin/sh
# Stand-in for the traefik image's entrypoint: flags alone run traefik with them.
set -e
if [ "${1#-}" != "$1" ]; then
    set -- traefik "$@"
fi
exec "$@"
