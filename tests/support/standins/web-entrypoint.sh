#!/bin/sh
# Stand-in for bklite/web (Next.js on 3000): a page on 3000, which is all its health check and Traefik ask of it.
set -e
mkdir -p /www
printf '<html><body>bk-lite web stand-in</body></html>\n' > /www/index.html
# PID 1 ignores SIGTERM unless it handles it: stop at once, as the real server does.
httpd -f -p 3000 -h /www &
trap 'kill $!; exit 0' TERM INT
wait $!
