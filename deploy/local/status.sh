#!/usr/bin/env bash
# Shows the local cluster: redis and each silo's pid, ports, GET /health and the registered node count (GET /nodes).
source "$(dirname "$0")/common.sh"
if [[ -f "$RUN/redis.pid" ]] && kill -0 "$(cat "$RUN/redis.pid")" 2>/dev/null; then
  echo "redis  pid $(cat "$RUN/redis.pid")  127.0.0.1:$REDIS_PORT  $(redis-cli -p "$REDIS_PORT" ping 2>&1)"
else
  echo "redis  not running"
fi
api=""
for f in $(ls "$RUN"/silo*.pid 2>/dev/null | sort -V); do
  i="${f##*/silo}"; i="${i%.pid}"
  pid="$(cat "$f")"; http=$(silo_http_port "$i")
  if kill -0 "$pid" 2>/dev/null; then
    health="$(curl -fs -m 2 "http://127.0.0.1:$http/health" 2>/dev/null || echo unreachable)"
    echo "silo $i  pid $pid  silo $((11111 + i)) gateway $((30000 + i)) http $http  health: $health"
    [[ -z "$api" ]] && curl -fs -m 2 "http://127.0.0.1:$http/kernels" >/dev/null 2>&1 && api=$http
  else
    echo "silo $i  pid $pid  not running"
  fi
done
if [[ -n "$api" ]]; then
  key="$(cat "$RUN/keys/client.key" 2>/dev/null || true)"
  nodes="$(curl -fs -m 5 -H "Authorization: Bearer $key" "http://127.0.0.1:$api/nodes" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo '?')"
  echo "nodes registered: $nodes (via http://127.0.0.1:$api)"
fi
