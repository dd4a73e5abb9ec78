# Shared settings of the local cluster scripts (sourced). Everything listens on 127.0.0.1 only.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN="${DEPIN_RUN_DIR:-$ROOT/.run}"
REDIS_PORT="${DEPIN_REDIS_PORT:-6390}"
SILO_DLL="$ROOT/src/DePin.Silo/bin/Release/net10.0/DePin.Silo.dll"
mkdir -p "$RUN"
silo_http_port() { echo $((5080 + $1)); }
