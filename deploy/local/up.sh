#!/usr/bin/env bash
# Starts a local cluster: redis-server on 127.0.0.1:$DEPIN_REDIS_PORT (default 6390) and N silo processes.
# Silo i (0-based): silo port 11111+i, gateway 30000+i, HTTP 5080+i. Silo 0 is api+gpu, the others gpu only.
# Redis requires a password and the silos talk mutual TLS, with DEV-ONLY secrets made in .run/ (common.sh).
# Usage: deploy/local/up.sh [N=3]      (logs and pid files in .run/)
source "$(dirname "$0")/common.sh"
N="${1:-3}"
command -v redis-server >/dev/null || { echo "redis-server is not installed (deploy/install-deps.sh installs it)" >&2; exit 1; }

if [[ ! -f "$SILO_DLL" || "${DEPIN_BUILD:-1}" == 1 ]]; then
  dotnet build "$ROOT/src/DePin.Silo" -c Release -v q -nologo >"$RUN/build.log" 2>&1 || { cat "$RUN/build.log" >&2; exit 1; }
fi

ensure_dev_secrets

if [[ -f "$RUN/redis.pid" ]] && kill -0 "$(cat "$RUN/redis.pid")" 2>/dev/null; then
  echo "redis already running (pid $(cat "$RUN/redis.pid"))"
else
  # The password goes through a config file (mode 600), not the command line that `ps` shows.
  ( umask 077; echo "requirepass $REDISCLI_AUTH" >"$RUN/dev-redis.conf" )
  redis-server "$RUN/dev-redis.conf" --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$RUN/redis.pid" --logfile "$RUN/redis.log" --dir "$RUN"
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "redis on 127.0.0.1:$REDIS_PORT (pid $(cat "$RUN/redis.pid"))"
fi

for ((i = 0; i < N; i++)); do
  if [[ -f "$RUN/silo$i.pid" ]] && kill -0 "$(cat "$RUN/silo$i.pid")" 2>/dev/null; then
    echo "silo $i already running (pid $(cat "$RUN/silo$i.pid"))"; continue
  fi
  roles=gpu; [[ $i == 0 ]] && roles=api,gpu
  http=$(silo_http_port "$i")
  DEPIN_Silo__Redis="127.0.0.1:$REDIS_PORT" \
  DEPIN_Silo__RedisPassword="$REDISCLI_AUTH" \
  DEPIN_Silo__Tls__CertificatePath="$DEV_CERT" \
  DEPIN_Silo__Tls__KeyPath="$DEV_KEY" \
  DEPIN_Silo__Roles="$roles" \
  DEPIN_Silo__SiloPort=$((11111 + i)) \
  DEPIN_Silo__GatewayPort=$((30000 + i)) \
  DEPIN_Silo__ClusterId="${DEPIN_CLUSTER_ID:-depin-local}" \
  DEPIN_Worker__NodeName="local-silo$i" \
  DEPIN_Auth__KeysDirectory="$RUN/keys" \
  DEPIN_urls="http://127.0.0.1:$http" \
  nohup dotnet "$SILO_DLL" >"$RUN/silo$i.log" 2>&1 &
  echo $! >"$RUN/silo$i.pid"
  echo "silo $i ($roles) pid $! silo 127.0.0.1:$((11111 + i)) gateway $((30000 + i)) http http://127.0.0.1:$http"
done

# Wait until every silo answers /health.
for ((i = 0; i < N; i++)); do
  http=$(silo_http_port "$i")
  for _ in $(seq 120); do
    curl -fs "http://127.0.0.1:$http/health" >/dev/null 2>&1 && break
    kill -0 "$(cat "$RUN/silo$i.pid")" 2>/dev/null || { echo "silo $i exited; see $RUN/silo$i.log:" >&2; tail -5 "$RUN/silo$i.log" >&2; exit 1; }
    sleep 0.5
  done
done
echo "cluster up: API at http://127.0.0.1:$(silo_http_port 0); API keys in $RUN/keys (client.key, admin.key; DEPIN_API_KEY_FILE for the CLI)"
