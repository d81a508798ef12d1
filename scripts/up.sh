#!/usr/bin/env bash
# Deploys (or previews) one stack with local file state and no prompts: `npm run up:dev`.
# The stack's secrets are encrypted with PULUMI_CONFIG_PASSPHRASE (empty when unset: fine for a dev stack on
# this machine; set a real one, or PULUMI_CONFIG_PASSPHRASE_FILE, for any other stack).
set -euo pipefail
stack=${1:?usage: scripts/up.sh <stack> [--preview]}
mode=${2:-}
cd "$(dirname "$0")/.."
command -v pulumi >/dev/null || { echo "error: the Pulumi CLI is not on PATH (see README, 'Quick start')" >&2; exit 1; }
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
export PULUMI_SKIP_UPDATE_CHECK=true
pulumi stack select "$stack" --create --secrets-provider passphrase --non-interactive
if [ "$mode" = "--preview" ]; then
  exec pulumi preview --stack "$stack" --diff --non-interactive
fi
exec pulumi up --stack "$stack" --yes --skip-preview --non-interactive
