#!/usr/bin/env bash
# Deploys (or previews) one stack with local file state and no prompts: `npm run up:dev`.
#
#   scripts/up.sh STACK [--preview] [--create]
#
#   --preview   show what `pulumi up` would change (pulumi preview --diff); deploys nothing
#   --create    create STACK when it does not exist yet (never implied: a typo must not make a new stack)
#
# The stack's secrets are encrypted with its passphrase: PULUMI_CONFIG_PASSPHRASE, or the file named by
# PULUMI_CONFIG_PASSPHRASE_FILE. An empty passphrase is accepted only for the `dev` stack on your own machine.
set -euo pipefail

usage() {
  echo "usage: scripts/up.sh STACK [--preview] [--create]" >&2
  exit 2
}
fail() {
  echo "error: $*" >&2
  exit 2
}

[ $# -ge 1 ] || usage
case "$1" in
  -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
stack=$1
shift
preview=false
create=false
for arg in "$@"; do
  case "$arg" in
    --preview) preview=true ;;
    --create) create=true ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$arg' (nothing was run)" >&2; usage ;;
  esac
done
case "$stack" in
  -*) usage ;;
esac
[[ "$stack" =~ ^[A-Za-z0-9_.-]+$ ]] || fail "'$stack' is not a stack name (letters, digits, _ . -)"
$preview && $create && fail "--preview never creates a stack; create it with: scripts/up.sh $stack --create"

cd "$(dirname "$0")/.."
if [ ! -f "Pulumi.$stack.yaml" ]; then
  known=$(ls Pulumi.*.yaml 2>/dev/null | sed -e 's/^Pulumi\.//' -e 's/\.yaml$//' | tr '\n' ' ')
  fail "there is no Pulumi.$stack.yaml, the stack's config; stacks here: ${known:-none}"
fi
command -v pulumi >/dev/null || fail "the Pulumi CLI is not on PATH: install it (3.248.0 or newer) from the files you carried, as docs/offline-site.md says under 'What travels'"

# The passphrase. Pulumi prefers PULUMI_CONFIG_PASSPHRASE over the file, even when it is empty: an empty one left in
# the environment must never override a file.
if [ -n "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  [ -r "$PULUMI_CONFIG_PASSPHRASE_FILE" ] || fail "PULUMI_CONFIG_PASSPHRASE_FILE=$PULUMI_CONFIG_PASSPHRASE_FILE is not a readable file"
  if [ -n "${PULUMI_CONFIG_PASSPHRASE:-}" ]; then
    fail "both PULUMI_CONFIG_PASSPHRASE and PULUMI_CONFIG_PASSPHRASE_FILE are set; unset one of them"
  fi
  unset PULUMI_CONFIG_PASSPHRASE
  # Pulumi trims the file's whitespace: a file of blanks and newlines is an empty passphrase.
  if ! grep -q '[^[:space:]]' "$PULUMI_CONFIG_PASSPHRASE_FILE" && [ "$stack" != dev ]; then
    fail "PULUMI_CONFIG_PASSPHRASE_FILE=$PULUMI_CONFIG_PASSPHRASE_FILE is empty or only whitespace (Pulumi trims it to an empty passphrase); stack '$stack' needs a real passphrase"
  fi
elif [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ]; then
  [ "$stack" = dev ] || fail "stack '$stack' needs a passphrase: set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE (an empty passphrase is only for the dev stack on your own machine)"
  export PULUMI_CONFIG_PASSPHRASE=""
fi
export PULUMI_SKIP_UPDATE_CHECK=true

# Read the whole list first: `pulumi stack ls | grep -q` lets grep stop early, and with pipefail the SIGPIPE Pulumi
# gets then reads as "no such stack".
stacks=$(pulumi stack ls --json --non-interactive) || fail "pulumi stack ls failed (is the backend reachable? pulumi whoami -v)"
if grep -q "\"name\": *\"$stack\"" <<<"$stacks"; then
  pulumi stack select "$stack" --non-interactive
elif $create; then
  pulumi stack init "$stack" --secrets-provider passphrase --non-interactive
else
  fail "stack '$stack' does not exist in this backend; to create it, run: scripts/up.sh $stack --create"
fi
if $preview; then
  exec pulumi preview --stack "$stack" --diff --non-interactive
fi
exec pulumi up --stack "$stack" --yes --skip-preview --non-interactive
