#!/usr/bin/env bash
# The stack starts, answers health, readiness and metrics over TLS, and
# /readyz follows the services: 503 when one is down, 200 when it is back.
. "$(dirname "$0")/../lib/stack.sh"
stack_up

api GET /healthz; expect_status 200 "healthz"
api GET /readyz; expect_status 200 "readyz with everything up"
api GET /metrics; expect_status 200 "metrics"
check '[[ $BODY == *manager_http_requests_total* ]]' "metrics has request counters"
check '[[ $BODY == *manager_http_request_duration_seconds_bucket* ]]' "metrics has latency histogram"
api GET /api/v1/ca/certificate; expect_status 200 "CA certificate"
check 'openssl x509 -noout -subject <<<"$BODY" >/dev/null' "CA certificate is PEM"
api GET /api/v1/nope; expect_status 404 "unknown route"; expect_code not_found "unknown route code"
api DELETE /healthz; expect_status 405 "wrong method"

# The CA key is 0600; the server certificate verifies with the CA.
check '[ "$(stat -c %a "$MANAGER_DATA_DIR/ca/ca.key")" = 600 ]' "CA key mode 0600"
check 'openssl s_client -connect 127.0.0.1:$MANAGER_HTTPS_PORT -CAfile "$CA" -verify_return_error </dev/null 2>/dev/null | grep -q "Verify return code: 0"' "server certificate chains to the CA"

# Each service down makes /readyz 503; back up makes it 200.
for svc in account ca vault; do
  eval "pid=\$MGR_PID_$svc"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null
  api GET /readyz; expect_status 503 "readyz with $svc down"
  expect_code unavailable "readyz code with $svc down"
  mgr_spawn "$svc" "$MGR_BIN/services/$svc/mgr-$svc"
  mgr_wait "curl -sf --cacert $CA $URL/readyz" 20
  api GET /readyz; expect_status 200 "readyz after $svc restart"
done
# Redis down: 503.
kill -TERM "$MGR_REDIS_PID"; wait "$MGR_REDIS_PID" 2>/dev/null
api GET /readyz; expect_status 503 "readyz with redis down"
mgr_start_redis
mgr_wait "curl -sf --cacert $CA $URL/readyz" 20
api GET /readyz; expect_status 200 "readyz after redis restart"
