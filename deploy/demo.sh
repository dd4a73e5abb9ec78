#!/usr/bin/env bash
# The main command (README): a working DePin network on embedded defaults, all on 127.0.0.1 — one silo with the
# HTTP API and a CPU worker node, a community node agent (`depin node run`: its own key, reaching the API's node
# gateway like a stranger's GPU would), plus a local EVM chain (anvil) with the settlement contracts deployed — then
# the demo: jobs in, verified results out, the operators credited, an epoch settled on chain and claimed.
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
node=""
stop() {
  [ -n "$node" ] && { kill -TERM "$node" 2>/dev/null || true; wait "$node" 2>/dev/null || true; }
  kill -TERM "$silo" 2>/dev/null || true; wait "$silo" 2>/dev/null || true
}
trap stop EXIT

depin() { dotnet src/DePin.Cli/bin/Release/net10.0/depin.dll --api "$api" "$@"; }
if ! depin wait-ready --timeout 120s; then
  echo "the silo did not start; its log:" >&2
  tail -n 40 .run/demo-silo.log >&2
  exit 1
fi
# A community node: its key lives in .run/node (made once), bound to anvil's PUBLIC dev account #2 as payout address
# (a dev-chain key, never for a real network). It joins through the node gateway; no API key, no cluster access.
node_home="$PWD/.run/node"
if [ ! -f "$node_home/keystore.json" ]; then
  depin node init --dir "$node_home" --payout 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC --dev-payout-account 2 >/dev/null 2>&1
fi
dotnet src/DePin.Cli/bin/Release/net10.0/depin.dll --api "$api" node run --dir "$node_home" > .run/demo-node.log 2>&1 &
node=$!
# Let the node log in first, so the demo lists it among the online nodes.
for _ in $(seq 300); do
  grep -q " joined " .run/demo-node.log 2>/dev/null && break
  kill -0 "$node" 2>/dev/null || { echo "the community node stopped; its log:" >&2; tail -n 20 .run/demo-node.log >&2; exit 1; }
  sleep 0.2
done
# The demo closes an epoch: it runs with the bootstrap admin key (whatever DEPIN_API_KEY this shell may hold).
# Redundancy 2: every unit is computed by two distinct nodes whose outputs must agree — the silo's own worker and the
# community node — and each is paid for it.
DEPIN_API_KEY= DEPIN_API_KEY_FILE="$DEPIN_Auth__KeysDirectory/admin.key" depin demo --out .run --redundancy 2

if [ "${1:-}" != "--once" ]; then
  echo
  echo "The network is still running: API $api (OpenAPI at $api/openapi/v1.json), logs .run/demo-silo.log and .run/demo-node.log."
  echo "Community node: dotnet src/DePin.Cli/bin/Release/net10.0/depin.dll node status --dir .run/node; its earnings: ... account 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
  echo "API keys: .run/keys/client.key and .run/keys/admin.key (readable by you only); the CLI uses them from this directory."
  echo "Try: dotnet src/DePin.Cli/bin/Release/net10.0/depin.dll nodes    — Ctrl+C stops everything."
  echo "     curl -H \"Authorization: Bearer \$(cat .run/keys/client.key)\" $api/jobs"
  wait "$silo"
fi
