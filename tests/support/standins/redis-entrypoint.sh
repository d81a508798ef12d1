#!/bin/sh
# Stand-in for the official redis image's entrypoint: flags or a .conf run redis-server; as root it gives /data to
# user redis (uid 999) and drops to it, so a config file the program uploads as 999:999 0600 is readable.
set -e
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
    set -- redis-server "$@"
fi
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
    chown -R redis:redis /data
    exec su -s /bin/sh redis -c 'exec "$0" "$@"' "$@"
fi
exec "$@"
