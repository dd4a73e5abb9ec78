#!/usr/bin/env bash
# The main command (README): a working DePin network on embedded defaults, all on 127.0.0.1 — one silo with the
# HTTP API and a CPU worker node, plus a local EVM chain (anvil) with the settlement contracts deployed — then the
# demo: jobs in, verified results out, the operator credited, an epoch settled on chain and claimed.
#   deploy/demo.sh          run the demo, then keep the network up until Ctrl+C
#   deploy/demo.sh --once   run the demo and stop
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh
echo "building..."
dotnet build src/DePin.Silo -c Release -v quiet --nologo >/dev/null
dotnet build src/DePin.Cli -c Release -v quiet --nologo >/dev/null

mkdir -p .run
port="${DEPIN_HTTP_PORT:-5080}"
api="http://127.0.0.1:${port}"
export DEPIN_Settlement__Mode="${DEPIN_Settlement__Mode:-DevChain}"
export DEPIN_Ledger__EpochPeriod="${DEPIN_Ledger__EpochPeriod:-00:01:00}"
# The silo writes an admin and a client API key to .run/keys (mode 0600) when it has none; the CLI, run from here,
# finds them (client.key, or admin.key for admin commands such as the demo's close-epoch).
export DEPIN_Auth__KeysDirectory="${DEPIN_Auth__KeysDirectory:-$PWD/.run/keys}"
dotnet src/DePin.Silo/bin/Release/net10.0/DePin.Silo.dll --urls "$api" > .run/demo-silo.log 2>&1 &
silo=$!
stop() { kill -TERM "$silo" 2>/dev/null || true; wait "$silo" 2>/dev/null || true; }
trap stop EXIT

depin() { dotnet src/DePin.Cli/bin/Release/net10.0/depin.dll --api "$api" "$@"; }
if ! depin wait-ready --timeout 120s; then
  echo "the silo did not start; its log:" >&2
  tail -n 40 .run/demo-silo.log >&2
  exit 1
fi
# The demo closes an epoch: it runs with the bootstrap admin key (whatever DEPIN_API_KEY this shell may hold).
DEPIN_API_KEY= DEPIN_API_KEY_FILE="$DEPIN_Auth__KeysDirectory/admin.key" depin demo --out .run

if [ "${1:-}" != "--once" ]; then
  echo
  echo "The network is still running: API $api (OpenAPI at $api/openapi/v1.json), log .run/demo-silo.log."
  echo "API keys: .run/keys/client.key and .run/keys/admin.key (readable by you only); the CLI uses them from this directory."
  echo "Try: dotnet src/DePin.Cli/bin/Release/net10.0/depin.dll nodes    — Ctrl+C stops everything."
  echo "     curl -H \"Authorization: Bearer \$(cat .run/keys/client.key)\" $api/jobs"
  wait "$silo"
fi
