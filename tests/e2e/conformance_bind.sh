#!/usr/bin/env bash
# MANAGER_BIND=0.0.0.0: the gateway answers on every address, and its TLS
# certificate (signed by the Manager CA) names this host's name and
# addresses, so that curl --cacert ca-cert.pem verifies whichever one a
# client uses, not only localhost.
export MANAGER_BIND=0.0.0.0
. "$(dirname "$0")/../lib/stack.sh"
stack_up

PORT=$MANAGER_HTTPS_PORT
HOST=$(hostname)
api GET /healthz
expect_status 200 "healthz on 127.0.0.1 with MANAGER_BIND=0.0.0.0"
check 'curl -sf --cacert "$CA" --resolve "$HOST:$PORT:127.0.0.1" "https://$HOST:$PORT/healthz" >/dev/null' \
  "the certificate names the host name $HOST"
IP=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' | grep -v '^127\.' | head -1)
if [ -n "$IP" ]; then
  check 'curl -sf --cacert "$CA" "https://$IP:$PORT/healthz" >/dev/null' \
    "the certificate names the address $IP"
fi
check 'curl -sf --cacert "$CA" "https://localhost:$PORT/healthz" >/dev/null' \
  "the certificate still names localhost"
