#!/usr/bin/env bash
# The container image builds and runs (issue 22): deploy/docker/Dockerfile
# built with podman (--isolation=chroot --network=host) on a Debian 12 base
# made here by `debootstrap --variant=minbase bookworm` from the machine's
# own mirror (no image registry is reachable) and imported under the name
# its FROM uses; then a stack run from the image: the four processes with
# `buildah run --isolation chroot` on the host network (podman run cannot
# set rlimits in this sandbox), a real Redis with its password, through
# readyz 200, a registration (CSR with one-time credentials), a vault write
# and its read-back with the issued certificate. The image: runs as uid
# 10001, every process of the stack too; no compiler, linker or build tool
# in it; its size printed. Everything lives in a private container storage
# under the test's directory, removed at the end.
#
# Slow (a Debian base and the whole build): the plain pass only. Skips, with
# the reason, only when podman is missing and cannot be installed.
. "$(dirname "$0")/../lib/stack.sh"
. "$(dirname "$0")/../lib/certs.sh"
. "$MGR_ROOT/scripts/lib/deps.sh"

for t in podman buildah debootstrap; do
  command -v "$t" >/dev/null 2>&1 || { mgr_install_packages $MGR_IMAGE_PACKAGES || true; break; }
done
if ! command -v podman >/dev/null 2>&1; then
  echo "SKIP: podman is missing and could not be installed ($MGR_IMAGE_PACKAGES)"
  exit 0
fi
command -v buildah >/dev/null 2>&1 || fail_now "buildah missing ($MGR_IMAGE_PACKAGES)"
command -v debootstrap >/dev/null 2>&1 || fail_now "debootstrap missing ($MGR_IMAGE_PACKAGES)"

W=$(mktemp -d /var/tmp/mgr-image.XXXXXX)
T_DIR=$W
STORE=(--root "$W/storage" --runroot "$W/runroot" --storage-driver overlay)
PODMAN=(podman "${STORE[@]}")
BUILDAH=(buildah "${STORE[@]}")
IMG=localhost/manager-image-test:$$
RUN_PIDS=""
CTR=""

# The processes a `buildah run` started, and theirs.
tree() {
  local p c
  for p in "$@"; do
    echo "$p"
    for c in $(ps -o pid= --ppid "$p" 2>/dev/null); do tree "$c"; done
  done
}
image_down() {
  local rc=$? pids p
  pids=$(tree $RUN_PIDS)
  for p in $pids; do kill -TERM "$p" 2>/dev/null; done
  for _ in $(seq 1 50); do
    alive=0
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in $pids; do kill -KILL "$p" 2>/dev/null; done
  mgr_stop
  if [ -n "$CTR" ]; then
    "${BUILDAH[@]}" umount "$CTR" >/dev/null 2>&1
    "${BUILDAH[@]}" rm "$CTR" >/dev/null 2>&1
  fi
  "${PODMAN[@]}" rmi -a -f >/dev/null 2>&1
  if [ "$T_FAILS" -gt 0 ] && [ -d "$W/logs" ]; then
    echo "--- last log lines ---" >&2
    tail -n 15 "$W"/logs/*.log >&2
  fi
  # The storage's overlay mounts are gone with the images; what is left is
  # plain files (kept for a look when something failed).
  if [ "$T_FAILS" -eq 0 ]; then
    umount -R "$W/storage/overlay" 2>/dev/null
    rm -rf "$W" 2>/dev/null || echo "note: could not remove all of $W" >&2
  fi
  echo "$T_PASSES passed, $T_FAILS failed"
  [ "$T_FAILS" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
  exit 1
}
trap image_down EXIT

# The Debian mirror this machine's apt uses (deb822 sources or sources.list).
MIRROR=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
  awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }')
[ -n "$MIRROR" ] || MIRROR=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
  awk '$0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }')
[ -n "$MIRROR" ] || fail_now "no Debian mirror in /etc/apt/sources.list*"
BASE=$(awk 'toupper($1) == "FROM" { print $2; exit }' "$MGR_ROOT/deploy/docker/Dockerfile")
echo "base $BASE from debootstrap of bookworm at $MIRROR"
t0=$(date +%s)
debootstrap --variant=minbase bookworm "$W/rootfs" "$MIRROR" >"$W/debootstrap.log" 2>&1 ||
  { tail -5 "$W/debootstrap.log" >&2; fail_now "debootstrap failed"; }
# debootstrap leaves the packages it unpacked in apt's cache.
rm -rf "$W/rootfs/var/cache/apt/archives/"*.deb "$W/rootfs/var/lib/apt/lists/"*
tar -C "$W/rootfs" -c . | "${PODMAN[@]}" import - "$BASE" >/dev/null ||
  fail_now "podman import of the base failed"
rm -rf "$W/rootfs"
echo "base made in $(( $(date +%s) - t0 )) s"

t0=$(date +%s)
if ! (cd "$MGR_ROOT" && "${PODMAN[@]}" build --isolation=chroot --network=host \
  -f deploy/docker/Dockerfile --ignorefile deploy/docker/Dockerfile.dockerignore \
  -t "$IMG" .) >"$W/build.log" 2>&1; then
  tail -30 "$W/build.log" >&2
  fail_now "podman build of deploy/docker/Dockerfile failed"
fi
echo "image built in $(( $(date +%s) - t0 )) s"
check 'grep -q "embedding the console" "$W/build.log"' "the build embedded the console (web/ was in the context)"
SIZE=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMG")
echo "image size: $SIZE bytes ($((SIZE / 1048576)) MiB)"
check '[ "$SIZE" -gt 0 ] && [ "$SIZE" -lt $((400 * 1048576)) ]' "image under 400 MiB ($((SIZE / 1048576)) MiB)"
check '[ "$("${PODMAN[@]}" image inspect --format "{{.Config.User}}" "$IMG")" = 10001:10001 ]' \
  "the image's user is 10001:10001"

CTR=$("${BUILDAH[@]}" from --pull-never "$IMG") || fail_now "buildah from $IMG"
MNT=$("${BUILDAH[@]}" mount "$CTR") || fail_now "buildah mount"
for b in cc gcc g++ c++ cpp clang ld as make cmake protoc-c pkg-config; do
  check '[ ! -e "$MNT/usr/bin/$b" ] && [ ! -e "$MNT/usr/local/bin/$b" ]' "no $b in the image"
done
installed=$(dpkg-query --admindir="$MNT/var/lib/dpkg" -W -f='${Package} ${Status}\n' 2>/dev/null |
  awk '$NF == "installed" { print $1 }')
for p in gcc gcc-12 cpp cpp-12 binutils make cmake libc6-dev build-essential; do
  check '! grep -qx "$p" <<<"$installed"' "package $p not installed in the image"
done
for b in mgr-gateway mgr-account mgr-ca mgr-vault; do
  check '[ -x "$MNT/usr/local/bin/$b" ]' "$b in /usr/local/bin"
  v=$("${BUILDAH[@]}" run --isolation chroot "$CTR" -- "$b" --version 2>&1)
  check '[[ $v == "$b "* ]]' "$b --version in the image: $v"
done
check '[ "$(stat -c %u "$MNT/var/lib/manager")" = 10001 ]' "/var/lib/manager belongs to 10001"

# A stack from the image: Redis on the host (with its password), the four
# processes in the container on the host network, their data dir a bind mount.
export MANAGER_DATA_DIR=$W/host
mkdir -p "$MANAGER_DATA_DIR" "$W/logs"
mgr_start_redis || fail_now "redis did not start"
install -d -o 10001 -g 10001 -m 0700 "$W/data"
PORT=$(mgr_free_port)
S3_PORT=$(mgr_free_port)
while [ "$S3_PORT" = "$PORT" ]; do S3_PORT=$(mgr_free_port); done
ADMIN_PW=adminpw-$RANDOM$RANDOM$RANDOM
ENVS=(--env "MANAGER_REDIS_URL=$MANAGER_REDIS_URL" --env "MANAGER_HTTPS_PORT=$PORT"
  --env "MANAGER_S3_PORT=$S3_PORT"
  --env MANAGER_BIND=127.0.0.1 --env "MANAGER_ADMIN_PASSWORD=$ADMIN_PW"
  --env MANAGER_DATA_DIR=/var/lib/manager --env MANAGER_LOG_FORMAT=json)
for p in account ca vault gateway; do
  "${BUILDAH[@]}" run --isolation chroot --network host "${ENVS[@]}" \
    -v "$W/data:/var/lib/manager" "$CTR" -- "mgr-$p" >"$W/logs/$p.log" 2>&1 &
  RUN_PIDS="$RUN_PIDS $!"
done
URL=https://127.0.0.1:$PORT
mgr_wait "curl -sfk $URL/healthz" 120 || fail_now "the gateway from the image did not come up"
curl -sfk "$URL/api/v1/ca/certificate" -o "$W/ca.pem" || fail_now "no CA certificate"
CA=$W/ca.pem
ADMIN="admin:$ADMIN_PW"
mgr_wait "curl -sf --cacert $CA $URL/readyz" 60
api GET /readyz; expect_status 200 "readyz of the stack from the image"

for p in mgr-account mgr-ca mgr-vault mgr-gateway; do
  pid=""
  for q in $(tree $RUN_PIDS); do
    [ "$(cat "/proc/$q/comm" 2>/dev/null)" = "$p" ] && pid=$q
  done
  check '[ -n "$pid" ] && [ "$(awk "/^Uid:/ { print \$2 }" /proc/$pid/status)" = 10001 ]' \
    "$p runs as uid 10001 (pid ${pid:-none})"
done

TMP_USER=image-tmp-$RANDOM
api_json POST /api/v1/accounts "$(jq -n --arg u "$TMP_USER" \
  '{name:"image-app", role:"vault_provisioner", username:$u, password:"Image-temp-pass-1"}')" -u "$ADMIN"
expect_status 201 "admin creates an account with one-time credentials"
ACC=$(jfield id)
gen_csr "$W/c1" "/O=Image/CN=image app $RANDOM" ec
register "$ACC" "$W/c1.csr" "" "$TMP_USER:Image-temp-pass-1"
expect_status 201 "registration: CSR with the one-time credentials"
jfield certificate >"$W/c1.crt"
register "$ACC" "$W/c1.csr" "" "$TMP_USER:Image-temp-pass-1"
expect_status 401 "the one-time credentials do not work twice"
api_json POST /api/v1/vault-templates '{"name":"image-tpl","kind":"vault"}' -u "$ADMIN"
expect_status 201 "vault template"
TPL=$(jfield id)
app_json POST /api/v1/vaults "{\"name\":\"image-vault\",\"vault_template_id\":\"$TPL\"}" "$W/c1"
expect_status 201 "the application creates a vault"
head -c 300000 /dev/urandom >"$W/obj"
app PUT /api/v1/vaults/image-vault/objects/data.bin "$W/c1" -T "$W/obj"
expect_status 201 "vault write"
curl -sS --cacert "$CA" --cert "$W/c1.crt" --key "$W/c1.key" -o "$W/back" \
  "$URL/api/v1/vaults/image-vault/objects/data.bin"
check 'cmp -s "$W/obj" "$W/back"' "the object reads back the same"
check 'find "$W/data/objects" -type f | grep -q .' "the object data is in the data dir's volume"
check '[ -z "$(find "$W/data" ! -uid 10001 | head -1)" ]' "everything the stack wrote belongs to 10001"
