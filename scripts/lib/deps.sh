# Debian 12 packages the Manager needs to build, run and test. Sourced.
MGR_PACKAGES="build-essential cmake pkg-config protobuf-c-compiler libprotobuf-c-dev
libnng-dev libssl-dev openssl libmicrohttpd-dev libgnutls28-dev libhiredis-dev
libjansson-dev libxml2-dev zlib1g-dev libcurl4-openssl-dev redis-server redis-tools curl ca-certificates python3 procps iproute2 jq valgrind
chromium nodejs python3-yaml python3-kubernetes python3-cryptography
libengine-pkcs11-openssl softhsm2 opensc clang-format
rclone s3cmd python3-boto3 awscli stunnel4"
# rclone, s3cmd, python3-boto3 and awscli: real S3 clients for the S3
# listener's tests (tests/e2e/s3*.sh), driven as their users drive them;
# stunnel4 presents the client certificate for aws-cli, which cannot.
# The CA key in a PKCS#11 token (MANAGER_CA_PKCS11_MODULE): the pkcs11 engine
# of libp11 (OpenSSL 3's pkcs11 provider is not packaged in Debian 12); the
# tests keep the key in SoftHSM2 and make it with opensc's pkcs11-tool.
# clang-format (14 in Debian 12): scripts/check-style checks the layout of
# .clang-format with it.
# python3-cryptography builds CSRs that openssl req cannot (control
# characters in a Subject, tests/e2e/csr_strict.sh).
# Offline checks of deploy/ (tests/e2e/deploy_manifests.sh): kubectl for
# `kubectl kustomize` (any kubectl will do; Debian's is kubernetes-client)
# and npm for the validators in deploy/tools (`npm ci` there; nodesource's
# nodejs brings its own npm, Debian's does not).
command -v kubectl >/dev/null 2>&1 || MGR_PACKAGES="$MGR_PACKAGES kubernetes-client"
command -v npm >/dev/null 2>&1 || MGR_PACKAGES="$MGR_PACKAGES npm"
# scripts/fuzz (not scripts/test) adds these: libFuzzer needs clang.
MGR_FUZZ_PACKAGES="clang libclang-rt-14-dev"

# tests/e2e/image.sh alone needs these (it installs them when missing): it
# builds deploy/docker/Dockerfile with podman on a Debian base that
# debootstrap makes from the machine's mirror, and runs the image's
# processes with buildah.
MGR_IMAGE_PACKAGES="podman buildah debootstrap"

# Installs what is missing (as root), or prints the one apt-get line and fails.
mgr_install_deps() {
  mgr_install_packages $MGR_PACKAGES
}

# mgr_install_packages PACKAGE...: the same for these packages.
mgr_install_packages() {
  local missing="" p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages; run as root:" >&2
    echo "  apt-get install -y$missing" >&2
    return 1
  fi
  echo "installing:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq $missing >/dev/null
}

# Configures and builds into $1 with extra cmake arguments after it.
mgr_build() {
  local dir=$1; shift
  cmake -S "$MGR_ROOT" -B "$dir" "$@" >/dev/null &&
    cmake --build "$dir" -j "$(nproc)" -- --no-print-directory >/dev/null
}
