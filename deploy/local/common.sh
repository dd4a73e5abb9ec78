# Shared settings of the local cluster scripts (sourced). Everything listens on 127.0.0.1 only.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN="${DEPIN_RUN_DIR:-$ROOT/.run}"
REDIS_PORT="${DEPIN_REDIS_PORT:-6390}"
SILO_DLL="$ROOT/src/DePin.Silo/bin/Release/net10.0/DePin.Silo.dll"
mkdir -p "$RUN"
silo_http_port() { echo $((5080 + $1)); }

# DEV-ONLY secrets of the local cluster, made on first use in $RUN (never commit them, never use them elsewhere):
# the Redis password and a self-signed cluster certificate every local silo presents and requires (Silo:Tls).
REDIS_PASSWORD_FILE="$RUN/dev-redis.password"
DEV_CERT="$RUN/dev-cluster-cert.pem"
DEV_KEY="$RUN/dev-cluster-key.pem"
[[ -f "$REDIS_PASSWORD_FILE" ]] && export REDISCLI_AUTH="$(cat "$REDIS_PASSWORD_FILE")"

ensure_dev_secrets() {
  command -v openssl >/dev/null || { echo "openssl is needed to make the dev cluster certificate" >&2; exit 1; }
  ( umask 077
    if [[ ! -s "$REDIS_PASSWORD_FILE" ]]; then openssl rand -hex 24 >"$REDIS_PASSWORD_FILE"; fi
    # Regenerated when missing or expiring within a day. EC P-256, serverAuth + clientAuth: each silo is both ends.
    if [[ ! -s "$DEV_CERT" ]] || ! openssl x509 -checkend 86400 -noout -in "$DEV_CERT" >/dev/null 2>&1; then
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
        -subj "/CN=depin-local-dev-cluster (DEV ONLY)" \
        -addext "basicConstraints=critical,CA:FALSE" \
        -addext "keyUsage=critical,digitalSignature" \
        -addext "extendedKeyUsage=serverAuth,clientAuth" \
        -keyout "$DEV_KEY" -out "$DEV_CERT" >/dev/null 2>&1
      echo "made a DEV-ONLY self-signed cluster certificate: $DEV_CERT"
    fi )
  export REDISCLI_AUTH="$(cat "$REDIS_PASSWORD_FILE")"
}
