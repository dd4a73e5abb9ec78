#!/usr/bin/env bash
# Stops the local cluster: SIGTERM to every silo (they drain: finish and report leased units, then leave the
# cluster), waits for them to exit (up to 40 s each), then stops redis.
source "$(dirname "$0")/common.sh"
pids=()
for f in "$RUN"/silo*.pid; do
  [[ -f "$f" ]] || continue
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; pids+=("$pid:$f"); else rm -f "$f"; fi
done
for entry in "${pids[@]}"; do
  pid="${entry%%:*}"; f="${entry#*:}"
  for _ in $(seq 400); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then echo "silo pid $pid did not exit; SIGKILL"; kill -KILL "$pid"; else echo "silo pid $pid stopped"; fi
  rm -f "$f"
done
if [[ -f "$RUN/redis.pid" ]]; then
  pid="$(cat "$RUN/redis.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || kill -TERM "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "redis stopped"
  fi
  rm -f "$RUN/redis.pid"
fi
