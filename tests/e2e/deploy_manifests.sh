#!/usr/bin/env bash
# deploy/ checked offline, not by eye: the Kubernetes manifests build with
# `kubectl kustomize`, every object validates against the Kubernetes schemas
# (kubernetes-models, bundled), has no unknown field (python3-kubernetes
# models) and follows the deployment rules (deploy/tools/k8s_policy.py); the
# Dockerfile passes dockerfile-utils lint and the structure rules. Each
# validator is also shown to fail on a broken copy.
. "$(dirname "$0")/../lib/stack.sh"
TOOLS=$MGR_ROOT/deploy/tools
W=$(mktemp -d "${TMPDIR:-/tmp}/mgr-deploy-manifests.XXXXXX")
trap 'rc=$?; [ "$T_FAILS" -eq 0 ] && rm -rf "$W"; echo "$T_PASSES passed, $T_FAILS failed"
  [ "$T_FAILS" -eq 0 ] && [ $rc -eq 0 ] && exit 0; exit 1' EXIT

command -v kubectl >/dev/null || fail_now "kubectl missing (scripts/lib/deps.sh installs kubernetes-client)"
command -v node >/dev/null || fail_now "node missing (scripts/lib/deps.sh installs nodejs)"
/usr/bin/python3 -c 'import kubernetes.client, yaml' 2>/dev/null ||
  fail_now "python3-kubernetes missing (scripts/lib/deps.sh installs it)"
if [ ! -d "$TOOLS/node_modules/kubernetes-models" ] || [ ! -d "$TOOLS/node_modules/dockerfile-utils" ]; then
  (cd "$TOOLS" && npm ci --no-audit --no-fund >/dev/null 2>&1) || fail_now "npm ci in deploy/tools failed"
fi

# k8s_check DIR: builds and validates; prints what failed.
k8s_check() {
  kubectl kustomize "$1" >"$W/built.yaml" 2>"$W/err" || { echo "kustomize: $(head -c 300 "$W/err")"; return 1; }
  node "$TOOLS/validate-k8s.mjs" "$W/built.yaml" >"$W/out" 2>&1 || { echo "schema: $(head -c 300 "$W/out")"; return 1; }
  /usr/bin/python3 "$TOOLS/k8s_policy.py" "$W/built.yaml" >"$W/out" 2>&1 || { echo "policy: $(head -c 300 "$W/out")"; return 1; }
  echo ok
}
docker_check() {
  (cd "$TOOLS" && npx --no-install dockerfile-utils lint "$1") >"$W/out" 2>&1 || { echo "lint: $(head -c 300 "$W/out")"; return 1; }
  python3 "$TOOLS/check-dockerfile.py" "$1" >"$W/out" 2>&1 || { echo "structure: $(head -c 300 "$W/out")"; return 1; }
  echo ok
}

out=$(k8s_check "$MGR_ROOT/deploy/k8s"); check '[ "$out" = ok ]' "deploy/k8s is valid ($out)"
kubectl kustomize "$MGR_ROOT/deploy/k8s" >"$W/final.yaml" 2>/dev/null
for k in Namespace ConfigMap Deployment StatefulSet Service NetworkPolicy PodDisruptionBudget; do
  check "grep -q '^kind: $k\$' '$W/final.yaml'" "the build has a $k"
done
out=$(docker_check "$MGR_ROOT/deploy/docker/Dockerfile"); check '[ "$out" = ok ]' "Dockerfile is valid ($out)"

# The ServiceMonitor (deploy/k8s/monitoring) against the main build.
sm_check() {
  kubectl kustomize "$1/monitoring" >"$W/sm.yaml" 2>"$W/err" || { echo "kustomize: $(head -c 300 "$W/err")"; return 1; }
  kubectl kustomize "$1" >"$W/sm-main.yaml" 2>"$W/err" || { echo "kustomize: $(head -c 300 "$W/err")"; return 1; }
  /usr/bin/python3 "$TOOLS/check-servicemonitor.py" "$W/sm.yaml" "$W/sm-main.yaml" >"$W/out" 2>&1 ||
    { echo "monitor: $(head -c 300 "$W/out")"; return 1; }
  echo ok
}
out=$(sm_check "$MGR_ROOT/deploy/k8s"); check '[ "$out" = ok ]' "deploy/k8s/monitoring is valid ($out)"
smutate() {
  local what=$1 file=$2 expr=$3 out
  rm -rf "$W/k8s"; cp -r "$MGR_ROOT/deploy/k8s" "$W/k8s"
  sed -i -e "$expr" "$W/k8s/$file"
  cmp -s "$W/k8s/$file" "$MGR_ROOT/deploy/k8s/$file" && { check false "mutation applied: $what"; return; }
  out=$(sm_check "$W/k8s")
  check '[[ $out == "monitor:"* ]]' "ServiceMonitor check fails on $what: ${out:0:200}"
}
smutate "a port the Service does not have" monitoring/servicemonitor.yaml 's/- port: https/- port: metrics/'
smutate "the gateway Service without its labels" gateway.yaml '0,/app.kubernetes.io\/component: gateway/s//app.kubernetes.io\/component: gw/'
smutate "plain HTTP" monitoring/servicemonitor.yaml 's/scheme: https/scheme: http/'
smutate "a misspelt field" monitoring/servicemonitor.yaml 's/scrapeTimeout: 10s/scrapeTimout: 10s/'
smutate "no trust in the CA" monitoring/servicemonitor.yaml 's/name: manager-ca/name: other-ca/'

# Broken copies must fail: mutate DESCRIPTION FILE SED-EXPRESSION EXPECTED-STAGE
mutate() {
  local what=$1 file=$2 expr=$3 stage=$4 out
  rm -rf "$W/k8s"; cp -r "$MGR_ROOT/deploy/k8s" "$W/k8s"
  sed -i -e "$expr" "$W/k8s/$file"
  cmp -s "$W/k8s/$file" "$MGR_ROOT/deploy/k8s/$file" && { check false "mutation applied: $what"; return; }
  out=$(k8s_check "$W/k8s")
  check '[[ $out == "$stage:"* ]]' "fails on $what ($stage): ${out:0:200}"
}
mutate "a missing resource file" kustomization.yaml 's/- pdb.yaml/- nosuch.yaml/' kustomize
mutate "a port that is not a number" account.yaml 's/containerPort: 7001/containerPort: rpc-port/' schema
mutate "replicas that is not a number" gateway.yaml 's/replicas: 2/replicas: two/' schema
mutate "a misspelt field" vault.yaml 's/readOnlyRootFilesystem: true/readOnlyRootFilesytem: true/' policy
mutate "a writable root filesystem" gateway.yaml 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/' policy
mutate "a single account replica" account.yaml 's/replicas: 2/replicas: 1/' policy
mutate "the CA key mounted outside ca-svc" vault.yaml 's/secretName: manager-internal-vault/secretName: manager-ca/' policy
mutate "Redis without AOF" redis.yaml '/- --appendonly/{n;s/"yes"/"no"/}' policy
mutate "Redis without maxmemory" redis.yaml '/- --maxmemory$/,+1d' policy
mutate "Redis maxmemory at its limit" redis.yaml 's/- 1536mb/- 2gb/' policy
mutate "Redis password in the manifest" redis.yaml 's/- \$(REDIS_PASSWORD)/- hunter2/' policy
mutate "internal traffic without TLS" config.env 's|^MANAGER_CA_ADDR=tls+tcp://|MANAGER_CA_ADDR=tcp://|' policy
mutate "an address list missing a replica" config.env 's|,tls+tcp://vault-1.vault:7001||' policy
mutate "a gateway probe on the wrong path" gateway.yaml 's|path: /readyz|path: /healthz|' policy
mutate "no limits" ca.yaml '/limits:/,/memory: 256Mi/d' policy
mutate "no default deny" networkpolicy.yaml 's/name: default-deny-ingress/name: default-deny-ingress\n  namespace: manager/;0,/podSelector: {}/s//podSelector: {matchLabels: {role: other}}/' policy

dmutate() {
  local what=$1 expr=$2 stage=$3 out
  sed -e "$expr" "$MGR_ROOT/deploy/docker/Dockerfile" >"$W/Dockerfile"
  out=$(docker_check "$W/Dockerfile")
  check '[[ $out == "$stage:"* ]]' "Dockerfile fails on $what ($stage): ${out:0:200}"
}
dmutate "an unknown instruction" 's/^WORKDIR \/src/WORKDIRR \/src/' lint
dmutate "running as root" 's/^USER 10001:10001/USER root/' structure
dmutate "no USER" '/^USER /d' structure
dmutate "another base image" 's/^FROM debian:12-slim AS runtime/FROM ubuntu:24.04 AS runtime/' structure
dmutate "build tools in the runtime image" 's/libhiredis0.14 libjansson4/libhiredis0.14 libjansson4 build-essential/' structure
dmutate "a single stage" '/^FROM debian:12-slim AS runtime/,$d' structure
