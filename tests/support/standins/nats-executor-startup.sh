#!/bin/sh
# Stand-in for bklite/nats-executor's /opt/startup.sh: writes /opt/config.yml from NATS_URLS, NATS_INSTANCE_ID and
# NATS_CA_FILE as the real one does (TLS settings when the URL is tls://), then runs the executor with it.
set -e
{
    printf 'nats_urls: "%s"\n' "$NATS_URLS"
    printf 'nats_instanceId: "%s"\n' "$NATS_INSTANCE_ID"
    case "$NATS_URLS" in
        tls:*) printf 'tls_enabled: "true"\ntls_skip_verify: "false"\ntls_ca_file: "%s"\n' "$NATS_CA_FILE" ;;
    esac
} > /opt/config.yml
exec /opt/nats-executor --config /opt/config.yml
