#!/bin/sh
# Stand-in for the minio/minio image (its docker-entrypoint.sh runs `minio "$@"`): MinIO's server is served by no
# registry here, so `server DIR` runs versitygw, a real S3 server (Apache 2.0, from the Go module proxy), over DIR
# with MINIO_ROOT_USER and MINIO_ROOT_PASSWORD as the root credentials, on MinIO's port 9000 with MinIO's readiness
# path. The console (--console-address) is not served. versitygw keeps objects' metadata beside the data, in a
# directory it will not have inside the served one: the container's own, so metadata (not data) goes with it.
set -e
if [ "$1" = "minio" ]; then shift; fi
if [ "$1" != "server" ] || [ -z "$2" ]; then
    echo "minio stand-in: only \`server DIR\` is supported, got: $*" >&2
    exit 2
fi
mkdir -p "$2" /var/lib/versitygw
export ROOT_ACCESS_KEY="$MINIO_ROOT_USER" ROOT_SECRET_KEY="$MINIO_ROOT_PASSWORD"
exec /usr/local/bin/versitygw --port :9000 --health /minio/health/ready posix --sidecar /var/lib/versitygw "$2"
