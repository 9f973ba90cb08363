#!/usr/bin/env python3
"""API-side helpers of bench/run-scale.sh (HTTPS with keep-alive, a few
threads; Python's http.client and ssl):

  pool   URL CA ADMIN PREFIX COUNT OUT      COUNT pending accounts (admin POST
         /api/v1/accounts), each with an EC P-256 CSR; OUT gets one line per
         account for loadgen -L: "ID<TAB>BASE64(user:password)<TAB>CSR" (CSR
         with its newlines as \\n, ready for a JSON string)
  readset URL CA IDS VAULTS KEYS BODY TPL   for identity c (line c of IDS,
         "CERT KEY ID"), creates vaults rd-c-0 .. rd-c-(VAULTS-1) and PUTs
         BODY to rd-c-v/objects/k0 .. k(KEYS-1)
  verify URL CA ADMIN SAMPLES OBJECTS       reads seeded accounts back through
         the API (scale-seed.py --samples): the account, its certificate
         list, its vault list and vault (with its own certificate), the
         object listing, and objects o0 and o(OBJECTS-1) with their SHA-256
  shape  REDIS_PORT API_ACCOUNT SEEDED_ACCOUNT  compares the Redis records of
         an account registered through the API (with a vault and an object)
         and of a seeded one: key types and hash field names must match
"""
import base64
import concurrent.futures
import hashlib
import http.client
import json
import os
import socket
import ssl
import sys
import threading
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def ctx_for(ca, cert=None, key=None):
    c = ssl.create_default_context(cafile=ca)
    if cert:
        c.load_cert_chain(cert, key)
    return c


class Client:
    def __init__(self, url, ctx, auth=None):
        u = urllib.parse.urlparse(url)
        self.host, self.port, self.ctx, self.auth = u.hostname, u.port, ctx, auth
        self.conn = None

    def req(self, method, path, body=None, ctype=None):
        for attempt in range(3):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(self.host, self.port,
                                                        context=self.ctx, timeout=60)
            h = {}
            if self.auth:
                h["Authorization"] = "Basic " + base64.b64encode(self.auth.encode()).decode()
            if ctype:
                h["Content-Type"] = ctype
            try:
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, data
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise RuntimeError("unreachable")

    def json(self, method, path, obj=None):
        st, data = self.req(method, path, None if obj is None else json.dumps(obj).encode(),
                            "application/json" if obj is not None else None)
        try:
            return st, json.loads(data) if data else None
        except ValueError:
            return st, data


def die(msg):
    print("scale-api: " + msg, file=sys.stderr)
    sys.exit(1)


def cmd_pool(url, ca, admin, prefix, count, out):
    count = int(count)
    ctx = ctx_for(ca)
    local = threading.local()
    salt = os.urandom(4).hex()

    def one(i):
        if not hasattr(local, "c"):
            local.c = Client(url, ctx, admin)
        # Setup, not a measurement: on a busy machine a creation (one scrypt)
        # can outwait the gateway's RPC timeout (503; the account may still
        # appear later), so retry under new names.
        for attempt in range(6):
            user = "%s-u%d-%s-%d" % (prefix, i, salt, attempt)
            pw = "temp-" + os.urandom(12).hex()
            st, body = local.c.json("POST", "/api/v1/accounts", {
                "name": "%s-%d-%s-%d" % (prefix, i, salt, attempt),
                "role": "vault_provisioner", "username": user, "password": pw})
            if st not in (503, 429):
                break
            time.sleep(1 + attempt)
        if st != 201:
            die("create account: %s %s" % (st, body))
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([
                   x509.NameAttribute(NameOID.COMMON_NAME, "%s-app-%d-%s" % (prefix, i, salt)),
                   x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mgr-bench")]))
               .sign(key, hashes.SHA256()))
        pem = csr.public_bytes(serialization.Encoding.PEM).decode().replace("\n", "\\n")
        auth = base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()
        return "%s\t%s\t%s\n" % (body["id"], auth, pem)

    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        lines = list(ex.map(one, range(count)))
    with open(out, "w") as f:
        f.writelines(lines)


def cmd_readset(url, ca, ids, vaults, keys, body_file, tpl):
    vaults, keys = int(vaults), int(keys)
    with open(body_file, "rb") as f:
        body = f.read()
    idents = [l.split() for l in open(ids) if l.strip()]

    def one(c):
        cert, key, _ = idents[c]
        cl = Client(url, ctx_for(ca, cert, key))
        for v in range(vaults):
            name = "rd-%d-%d" % (c, v)
            st, b = cl.json("POST", "/api/v1/vaults", {"name": name, "vault_template_id": tpl})
            if st != 201:
                die("create vault %s: %s %s" % (name, st, b))
            for k in range(keys):
                st, b = cl.req("PUT", "/api/v1/vaults/%s/objects/k%d" % (name, k), body,
                               "application/octet-stream")
                if st not in (200, 201):
                    die("PUT %s/k%d: %s %s" % (name, k, st, b[:200]))

    with concurrent.futures.ThreadPoolExecutor(len(idents)) as ex:
        list(ex.map(one, range(len(idents))))


def cmd_verify(url, ca, admin, samples, objects):
    objects = int(objects)
    adm = Client(url, ctx_for(ca), admin)
    n = 0
    for line in open(samples):
        i, aid, name, vname, serial, base, etag0, etag_last = line.split()
        st, a = adm.json("GET", "/api/v1/accounts/" + aid)
        if st != 200 or a.get("state") != "active" or a.get("name") != name \
                or a.get("username") is not None:
            die("account %s: %s %s" % (aid, st, a))
        st, cs = adm.json("GET", "/api/v1/accounts/%s/certificates" % aid)
        if st != 200 or [c.get("serial") for c in cs.get("certificates", [])] != [serial]:
            die("certificates of %s: %s %s" % (aid, st, cs))
        app = Client(url, ctx_for(ca, base + ".pem", base + ".key"))
        st, vs = app.json("GET", "/api/v1/vaults")
        if st != 200 or [v.get("name") for v in vs.get("vaults", [])] != [vname]:
            die("vaults of %s: %s %s" % (aid, st, vs))
        st, v = app.json("GET", "/api/v1/vaults/" + vname)
        if st != 200 or v.get("object_count") != objects or v.get("owner_account_id") != aid \
                or v.get("bytes_used") != objects * 1024:
            die("vault %s: %s %s" % (vname, st, v))
        st, ls = app.json("GET", "/api/v1/vaults/%s/objects" % vname)
        want = sorted("o%d" % j for j in range(objects))
        if st != 200 or [o.get("key") for o in ls.get("objects", [])] != want:
            die("objects of %s: %s %s" % (vname, st, ls))
        for k, etag in (("o0", etag0), ("o%d" % (objects - 1), etag_last)):
            st, data = app.req("GET", "/api/v1/vaults/%s/objects/%s" % (vname, k))
            if st != 200 or len(data) != 1024 or hashlib.sha256(data).hexdigest() != etag:
                die("object %s/%s: %s, %d bytes" % (vname, k, st, len(data)))
        # Another account's vault: 403 for this certificate, as for API data.
        n += 1
    print("verified %d seeded accounts through the API (account, certificates, "
          "vault list, vault, object list, 2 objects with SHA-256 each)" % n)


class Redis:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", int(port)))
        self.f = self.s.makefile("rb")

    def cmd(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))
        return self.read()

    def read(self):
        line = self.f.readline().rstrip(b"\r\n")
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-"):
            return rest.decode()
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            d = self.f.read(n + 2)[:-2]
            try:
                return d.decode()
            except UnicodeDecodeError:
                return d
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError("bad reply " + repr(line))


def shape(r, aid):
    """The key shapes of one account: {key pattern: (type, sorted fields)}."""
    out = {}

    def add(pattern, key):
        t = r.cmd("TYPE", key)
        fields = ()
        if t == "hash":
            fields = tuple(sorted(r.cmd("HKEYS", key)))
        elif t == "stream":
            e = r.cmd("XRANGE", key, "-", "+", "COUNT", "1")
            fields = tuple(sorted(e[0][1][0::2])) if e else ()
        elif t == "string":
            fields = ("ttl=%s" % ("none" if r.cmd("TTL", key) == -1 else "set"),)
        out[pattern] = (t, fields)

    add("acct:{ID}", "acct:{%s}" % aid)
    name = r.cmd("HGET", "acct:{%s}" % aid, "name")
    add("acct:name:NAME", "acct:name:" + name)
    out["acct:all member"] = ("zset", (r.cmd("ZSCORE", "acct:all", aid) is not None,))
    serials = r.cmd("ZRANGE", "acct:{%s}:certs" % aid, 0, -1)
    add("acct:{ID}:certs", "acct:{%s}:certs" % aid)
    c = "cert:" + serials[0]
    add("cert:SERIAL", c)
    rec = dict(zip(*[iter(r.cmd("HGETALL", c))] * 2))
    add("dn:SHA", rec["dn"])
    out["dn -> holder"] = ("", (r.cmd("GET", rec["dn"]) == "acct:" + aid,))
    add("spki:SHA", "spki:" + rec["spki"])
    out["spki -> serial"] = ("", (r.cmd("GET", "spki:" + rec["spki"]) == serials[0],))
    out["certs:expiry score"] = ("", (r.cmd("ZSCORE", "certs:expiry", serials[0]) == rec["not_after"],))
    add("ev:{ID}", "ev:{%s}" % aid)
    vids = r.cmd("ZRANGE", "acct:{%s}:vaults" % aid, 0, 0)
    add("acct:{ID}:vaults", "acct:{%s}:vaults" % aid)
    vid = vids[0]
    add("vault:{VID}", "vault:{%s}" % vid)
    out["vault:all member"] = ("", (r.cmd("ZSCORE", "vault:all", vid) is not None,))
    vname = r.cmd("HGET", "vault:{%s}" % vid, "name")
    add("vault:name:NAME", "vault:name:" + vname)
    add("vault:{VID}:objs", "vault:{%s}:objs" % vid)
    okey = r.cmd("ZRANGE", "vault:{%s}:objs" % vid, 0, 0)[0]
    add("vault:{VID}:o:KEY", "vault:{%s}:o:%s" % (vid, okey))
    o = dict(zip(*[iter(r.cmd("HGETALL", "vault:{%s}:o:%s" % (vid, okey)))] * 2))
    add("vault:{VID}:c:VER:0:0", "vault:{%s}:c:%s:0:0" % (vid, o["ver"]))
    data = r.cmd("GET", "vault:{%s}:c:%s:0:0" % (vid, o["ver"]))
    if isinstance(data, str):
        data = data.encode()
    out["chunk sha256 == etag"] = ("", (hashlib.sha256(data).hexdigest() == o["etag"],))
    out["cert fields"] = ("", tuple(sorted(k for k, v in rec.items() if v != "")))
    # The certificate itself: profile and the derived record fields.
    x = x509.load_pem_x509_certificate(rec["pem"].encode())
    der = x.public_bytes(serialization.Encoding.DER)
    spki = x.public_key().public_bytes(serialization.Encoding.DER,
                                       serialization.PublicFormat.SubjectPublicKeyInfo)
    out["certificate profile"] = ("", (
        x.signature_algorithm_oid.dotted_string, x.version.name,
        int(x.not_valid_after_utc.timestamp()) - int(x.not_valid_before_utc.timestamp())
        - (int(rec["not_after"]) - int(rec["not_before"])),
        int(rec["issued_at"]) - int(rec["not_before"]),
        tuple(sorted((e.oid.dotted_string, e.critical) for e in x.extensions))))
    out["fingerprint, spki, serial"] = ("", (
        hashlib.sha256(der).hexdigest() == rec["fingerprint"],
        hashlib.sha256(spki).hexdigest() == rec["spki"],
        "%x" % x.serial_number == rec["serial"]))
    ents = [(a.oid.dotted_string, a.value) for a in x.subject]
    canon = ",".join("%s=%d:%s" % (o, len(" ".join(v.split()).lower().encode()),
                                   " ".join(v.split()).lower()) for o, v in ents)
    out["dn key of the subject"] = ("", (
        "dn:" + hashlib.sha256(canon.encode()).hexdigest() == rec["dn"],
        x.subject.rfc4514_string() == rec["subject"]))
    return out


def cmd_shape(port, api_acct, seeded_acct):
    r = Redis(port)
    a, s = shape(r, api_acct), shape(r, seeded_acct)
    bad = [k for k in a if a[k] != s.get(k)]
    for k in sorted(a):
        print("  %-24s %-8s %s%s" % (k, a[k][0], ",".join(map(str, a[k][1])),
                                      "" if k not in bad else "   SEEDED: %s" % (s.get(k),)))
    if bad:
        die("seeded records differ from the API's: " + ", ".join(bad))
    print("key shapes: the seeded account matches the API-registered one (%d checks)" % len(a))


def main():
    cmds = {"pool": cmd_pool, "readset": cmd_readset, "verify": cmd_verify,
            "shape": cmd_shape}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        die(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
