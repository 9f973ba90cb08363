#!/usr/bin/env python3
"""Seeds registered accounts, their vaults and 1 KiB objects straight into
Redis, for bench/run-scale.sh: writes the Redis protocol (RESP) for
`redis-cli --pipe` on stdout.

Each seeded account i gets exactly the records the services write when an
administrator creates it (POST /api/v1/accounts), it registers with an EC
P-256 CSR (POST .../certificates), creates one locked vault and PUTs OBJECTS
1 KiB objects into it -- the commands of the Lua scripts in
services/account/accounts.c (lua_create), services/ca/certs.c (lua_register
with put_cert from services/ca/issue.c), services/vault/store.c
(lua_vault_create, lua_put_begin/chunk/commit) and the audit and event
streams (common/audit.c, common/events.c), in their final state:

  acct:{id} (hash, active: username and pwhash deleted), acct:name:<name>,
  acct:all; cert:<serial> (a real certificate signed with the CA key, the
  same profile as services/ca: serial of 127 bits, not_before now - 300 s,
  not_after now + 1 year, CA:FALSE, digitalSignature+keyEncipherment,
  clientAuth, SKI, AKI), spki:<sha256>, dn:<sha256 of the canonical DN>,
  certs:expiry, acct:{id}:certs, ev:{id} (certificate.issued);
  vault:name:<n>, vault:{vid}, vault:all, acct:{id}:vaults; per object
  vault:{vid}:c:<ver>:0:0 (the data), vault:{vid}:o:<key>, vault:{vid}:objs;
  audit records account.create, certificate.register, vault.create and one
  object.put per object (XADD MAXLEN ~ 1000000, like audit_log).

run-scale.sh checks the key shapes against records written through the API
and reads seeded accounts, vaults and objects back through the API.

usage: scale-seed.py --ca-key K --ca-cert C --template TPL_ID --first I
         --count N [--objects 10] [--samples DIR] | redis-cli --pipe
"""
import argparse
import base64
import datetime
import hashlib
import json
import os
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

B32 = "abcdefghijklmnopqrstuvwxyz234567"
AUDIT_MAXLEN = b"1000000"   # common/keys.h KEY_AUDIT_MAXLEN
EVENTS_MAXLEN = b"10000"    # common/keys.h KEY_EVENTS_MAXLEN
CA_BACKDATE_S = 300         # services/ca/issue.c
CA_YEAR_S = 365 * 86400


def new_id(prefix):
    """mgr_new_id: prefix, '_', 16 random bytes in lowercase base32."""
    n = int.from_bytes(os.urandom(16), "big") << 2   # 130 bits, 26 chars
    return prefix + "_" + "".join(B32[(n >> (125 - 5 * i)) & 31] for i in range(26))


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def fold(v):
    """services/ca/dn.c fold_value for ASCII: trim, collapse, lowercase."""
    return " ".join(v.split()).lower()


def dn_key(entries):
    """ca_dn_key: entries in certificate order, one RDN each."""
    canon = ",".join("%s=%d:%s" % (oid, len(fold(v).encode()), fold(v))
                     for oid, v in entries)
    return "dn:" + hashlib.sha256(canon.encode()).hexdigest()


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if not isinstance(a, bytes):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def audit(now, actor_kind, actor, action, target, detail):
    return resp("XADD", "audit", "MAXLEN", "~", AUDIT_MAXLEN, "*", "time", iso(now),
                "request_id", "req_" + os.urandom(12).hex(), "actor_kind", actor_kind,
                "actor", actor, "action", action, "target", target, "outcome", "ok",
                "detail", detail)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ca-key", required=True)
    ap.add_argument("--ca-cert", required=True)
    ap.add_argument("--template", required=True)
    ap.add_argument("--first", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--objects", type=int, default=10)
    ap.add_argument("--object-size", type=int, default=1024)
    ap.add_argument("--samples", default="")
    a = ap.parse_args()

    with open(a.ca_key, "rb") as f:
        ca_key = serialization.load_pem_private_key(f.read(), None)
    with open(a.ca_cert, "rb") as f:
        ca_cert = x509.load_pem_x509_certificate(f.read())
    ca_not_after = int(ca_cert.not_valid_after_utc.timestamp())
    try:
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
            ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value)
    except x509.ExtensionNotFound:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key())
    out = sys.stdout.buffer
    buf = []
    size = 0
    samples = []
    last = a.first + a.count - 1

    def emit(b):
        nonlocal size
        buf.append(b)
        size += len(b)
        if size > 4 << 20:
            out.write(b"".join(buf))
            buf.clear()
            size = 0

    for i in range(a.first, a.first + a.count):
        now = int(time.time())
        ms = int(time.time() * 1000)
        aid = new_id("acc")
        name = "scale-%d" % i
        cn = "scale-app-%d" % i
        # POST /api/v1/accounts (lua_create), then the registration (lua_register)
        emit(audit(now, "admin", "admin", "account.create", aid, "pending_registration"))
        key = ec.generate_private_key(ec.SECP256R1())
        not_before = now - CA_BACKDATE_S
        not_after = min(now + CA_YEAR_S, ca_not_after)
        sb = bytearray(os.urandom(16))
        sb[0] = (sb[0] & 0x7F) | 0x40
        serial_int = int.from_bytes(sb, "big")
        serial = "%x" % serial_int
        subj = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mgr-bench")])
        cert = (x509.CertificateBuilder()
                .subject_name(subj).issuer_name(ca_cert.subject)
                .public_key(key.public_key()).serial_number(serial_int)
                .not_valid_before(datetime.datetime.fromtimestamp(not_before, datetime.timezone.utc))
                .not_valid_after(datetime.datetime.fromtimestamp(not_after, datetime.timezone.utc))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                             key_encipherment=True, data_encipherment=False,
                                             key_agreement=False, key_cert_sign=False,
                                             crl_sign=False, encipher_only=False,
                                             decipher_only=False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                               critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                               critical=False)
                .add_extension(aki, critical=False)
                .sign(ca_key, hashes.SHA256()))
        der = cert.public_bytes(serialization.Encoding.DER)
        pem = cert.public_bytes(serialization.Encoding.PEM)
        spki = hashlib.sha256(key.public_key().public_bytes(
            serialization.Encoding.DER,
            serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()
        dkey = dn_key([("2.5.4.3", cn), ("2.5.4.10", "mgr-bench")])
        subject = "O=mgr-bench,CN=%s" % cn
        holder = "acct:" + aid
        emit(resp("HSET", "acct:{%s}" % aid, "id", aid, "name", name, "role",
                  "vault_provisioner", "state", "active", "cred_version", "1",
                  "created_at", now, "registered_at", now))
        emit(resp("SET", "acct:name:" + name, aid))
        emit(resp("ZADD", "acct:all", ms, aid))
        emit(resp("SET", dkey, holder))
        emit(resp("HSET", "cert:" + serial, "serial", serial, "holder", holder,
                  "account_id", aid, "subject", subject, "dn", dkey, "not_before", not_before,
                  "not_after", not_after, "pem", pem, "fingerprint",
                  hashlib.sha256(der).hexdigest(), "spki", spki, "issued_at", now,
                  "revoked_at", ""))
        emit(resp("SET", "spki:" + spki, serial))
        emit(resp("ZADD", "certs:expiry", not_after, serial))
        emit(resp("ZADD", "acct:{%s}:certs" % aid, ms, serial))
        emit(resp("XADD", "ev:{%s}" % aid, "MAXLEN", "~", EVENTS_MAXLEN, "*", "type",
                  "certificate.issued", "time", iso(now), "data",
                  json.dumps({"subject": subject, "serial": serial,
                              "not_after": iso(not_after)}, separators=(",", ":"))))
        emit(audit(now, "temp", aid, "certificate.register", aid, "serial " + serial))
        # POST /api/v1/vaults (lua_vault_create)
        vid = new_id("vlt")
        vname = "sv-%d" % i
        emit(resp("SET", "vault:name:" + vname, vid))
        emit(resp("HSET", "vault:{%s}" % vid, "id", vid, "name", vname,
                  "owner_account_id", aid, "vault_template_id", a.template,
                  "mirror_template_id", "", "created_at", now,
                  "object_count", a.objects, "bytes_used", a.objects * a.object_size,
                  "quota_bytes", "", "mirror", "0"))
        emit(resp("ZADD", "vault:all", ms, vid))
        emit(resp("ZADD", "acct:{%s}:vaults" % aid, ms, vid))
        emit(audit(now, "app", aid, "vault.create", vid, vname))
        # PUT .../objects/o<j> (put_begin, put_chunk, put_commit: final state)
        etags = []
        for j in range(a.objects):
            data = os.urandom(a.object_size)
            ver = os.urandom(16).hex()
            okey = "o%d" % j
            etag = hashlib.sha256(data).hexdigest()
            etags.append(etag)
            emit(resp("SET", "vault:{%s}:c:%s:0:0" % (vid, ver), data))
            emit(resp("HSET", "vault:{%s}:o:%s" % (vid, okey), "key", okey, "size",
                      a.object_size, "etag", etag, "modified_at", now, "ver", ver, "n", 1))
            emit(resp("ZADD", "vault:{%s}:objs" % vid, 0, okey))
            emit(audit(now, "app", aid, "object.put", vid, "size=%d" % a.object_size))
        if a.samples and i in (a.first, last):
            base = os.path.join(a.samples, str(i))
            with open(base + ".key", "wb") as f:
                f.write(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
            with open(base + ".pem", "wb") as f:
                f.write(pem)
            samples.append("%d %s %s %s %s %s %s %s\n" % (
                i, aid, name, vname, serial, base, etags[0] if etags else "-",
                etags[-1] if etags else "-"))
    out.write(b"".join(buf))
    out.flush()
    if a.samples:
        with open(os.path.join(a.samples, "samples.txt"), "a") as f:
            f.writelines(samples)


if __name__ == "__main__":
    main()
