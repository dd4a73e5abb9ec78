#!/usr/bin/env bash
# Installs what the tests and the demo need that is not a NuGet package: redis-server (Debian) for the cluster
# tests and, when the repo has a package-lock.json, the npm packages (anvil, solc, OpenZeppelin) for settlement.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    echo "installing redis-server (apt-get)..."
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "warning: redis-server is not installed and cannot be installed here (needs root + apt-get)" >&2
  fi
fi

if [ -f package-lock.json ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "installing npm packages (npm ci)..."
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi
