#!/usr/bin/env bash
# Makes the internal CA and one certificate per process for internal
# tls+tcp:// traffic (MANAGER_INTERNAL_TLS_CERT/KEY/CA).
#
#   make-internal-certs.sh [-n NAMESPACE] [-d DAYS] [--new-ca] OUTDIR [NAME...]
#
# NAMEs default to: gateway account ca vault. Writes OUTDIR/internal-ca.pem
# (give it to every process), OUTDIR/internal-ca.key (keep it offline; only
# this script needs it), and OUTDIR/NAME.pem + OUTDIR/NAME.key per process.
# An existing internal CA in OUTDIR is reused (to add or renew process
# certificates) unless --new-ca is given.
#
# The internal CA must be its own CA: never the Manager CA that signs
# application certificates (those must not open internal connections).
#
# Each certificate is for both TLS server and client use, EC P-256, with
# subjectAltNames for loopback (localhost, 127.0.0.1, ::1) and for Kubernetes
# (NAME, *.NAME, *.NAME.NAMESPACE.svc, *.NAME.NAMESPACE.svc.cluster.local),
# plus MGR_INTERNAL_EXTRA_SANS (e.g. "DNS:svc.example.net,IP:10.0.0.5").
# A client checks that the server's certificate names the host it dials.
set -euo pipefail

ns=manager
days=825
new_ca=0
while [ $# -gt 0 ]; do
  case $1 in
    -n) ns=$2; shift 2 ;;
    -d) days=$2; shift 2 ;;
    --new-ca) new_ca=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: $0 [-n NAMESPACE] [-d DAYS] [--new-ca] OUTDIR [NAME...]" >&2; exit 2; }
out=$1; shift
names=${*:-gateway account ca vault}
case $days in ''|*[!0-9]*) echo "-d needs a number of days" >&2; exit 2 ;; esac

umask 077
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "$new_ca" = 1 ] || [ ! -f "$out/internal-ca.pem" ] || [ ! -f "$out/internal-ca.key" ]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/internal-ca.key" 2>/dev/null
  openssl req -new -x509 -key "$out/internal-ca.key" -sha256 -days $((days + 365)) \
    -subj "/O=Manager/CN=Manager internal CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$out/internal-ca.pem"
  echo "made internal CA $out/internal-ca.pem" >&2
fi

for name in $names; do
  case $name in *[!a-z0-9-]*|'') echo "bad name '$name'" >&2; exit 2 ;; esac
  sans="DNS:$name,DNS:*.$name,DNS:*.$name.$ns.svc,DNS:*.$name.$ns.svc.cluster.local"
  # mbedTLS (nng's TLS) matches a dialed IP literal against DNS names only.
  sans="$sans,DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1,IP:::1"
  [ -n "${MGR_INTERNAL_EXTRA_SANS:-}" ] && sans="$sans,$MGR_INTERNAL_EXTRA_SANS"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/$name.key" 2>/dev/null
  openssl req -new -key "$tmp/$name.key" -subj "/O=Manager/OU=internal/CN=$name" \
    -out "$tmp/$name.csr"
  cat >"$tmp/$name.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyAgreement
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$sans
EXT
  openssl x509 -req -in "$tmp/$name.csr" -CA "$out/internal-ca.pem" \
    -CAkey "$out/internal-ca.key" -CAcreateserial -CAserial "$tmp/serial" \
    -sha256 -days "$days" -extfile "$tmp/$name.ext" -out "$tmp/$name.pem" 2>/dev/null
  openssl verify -CAfile "$out/internal-ca.pem" "$tmp/$name.pem" >/dev/null
  mv "$tmp/$name.key" "$out/$name.key"
  mv "$tmp/$name.pem" "$out/$name.pem"
  chmod 600 "$out/$name.key"
  chmod 644 "$out/$name.pem" "$out/internal-ca.pem"
  echo "made $out/$name.pem" >&2
done
