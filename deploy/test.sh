#!/usr/bin/env bash
# The test command (README): builds the solution and runs every test project against real components
# (in-process silos on loopback, ILGPU's CPU accelerator, a local anvil chain from npm when settlement tests exist).
# Ends with one line "N passed, N failed, N skipped" counted from the TRX result files.
set -uo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh || exit 1

results="$(pwd)/TestResults"
rm -rf "$results"
# The cluster tests start real silo processes and Redis: they run alone, after the in-process suites, so that on a
# 2-core machine they do not compete with the other test hosts for CPU.
dotnet test DePin.Orleans.sln --configuration Release --logger "trx" --results-directory "$results" \
  --filter "FullyQualifiedName!~DePin.Cluster.Tests" "$@"
status=$?
dotnet test tests/DePin.Cluster.Tests --configuration Release --no-build --logger "trx" --results-directory "$results" "$@"
[ $? -eq 0 ] || status=1

passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$(get total); executed=$(get executed); p=$(get passed); f=$(get failed); e=$(get error); t=$(get timeout); a=$(get aborted)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0} + ${t:-0} + ${a:-0}))
  skipped=$((skipped + ${total:-0} - ${executed:-0}))
done

if [ "$files" -eq 0 ]; then
  echo "no test results were produced (build failure?)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then exit 1; fi
