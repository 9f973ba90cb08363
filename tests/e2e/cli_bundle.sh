#!/usr/bin/env bash
# mgr enroll refuses broken, truncated, mistyped, stale and consumed bundles:
# exit 1, one line naming the cause, nothing written (not even the
# directory), nothing consumed on the server (the account stays
# pending_registration and a good bundle still works after). It refuses to
# overwrite an enrolled directory. Files get their modes.
. "$(dirname "$0")/../lib/stack.sh"
. "$MGR_ROOT/tests/lib/cli.sh"
stack_up
export MANAGER_URL=$URL MANAGER_CA_CERT=$CA
W=$T_DIR/w && mkdir -p "$W" && cd "$W" || fail_now "no work dir"
umask 022

mgr_run account create --name "bundle test" --bundle good.json; expect_rc 0 "account create"
ACC=$(jfield account_id "$(cat good.json)")
pending() { mgr_run account show "$ACC" --json; [ "$(out_field state)" = pending_registration ]; }

# bad bundles, each: exit 1, one line, no directory, still pending
python3 - good.json <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
def w(name, d): open(name, "w").write(d if isinstance(d, str) else json.dumps(d))
raw = open(sys.argv[1]).read()
w("trunc-half.json", raw[: len(raw) // 2])
w("trunc-end.json", raw.rstrip()[:-1])
w("empty.json", "")
w("garbage.json", "\x00\x01not json at all")
w("array.json", [b])
for f in ("password", "username", "account_id", "ca_certificate", "url"):
    d = dict(b); del d[f]; w("no-%s.json" % f, d)
d = dict(b); d["password"] = 12345678901234; w("type-password.json", d)
d = dict(b); d["url"] = "http://127.0.0.1:1"; w("plain-url.json", d)
d = dict(b); d["ca_certificate"] = b["ca_certificate"][:200]; w("cut-ca.json", d)
d = dict(b); d["account_id"] = "acc_../../etc"; w("bad-id.json", d)
d = dict(b); d["password"] = "short"; w("short-password.json", d)
PY
for f in trunc-half trunc-end empty garbage array no-password no-username no-account_id \
         no-ca_certificate no-url type-password plain-url cut-ca bad-id short-password nonexistent; do
  mgr_run enroll --bundle "$f.json" --dir "app-$f"
  expect_rc 1 "enroll with $f"
  expect_one_line_err "enroll with $f"
  check 'grep -q "bundle" <<<"$ERR"' "$f: the reason names the bundle ($ERR)"
  check '[ ! -e "app-$f" ]' "$f: nothing written"
done
check 'pending' "after the broken bundles the account is still pending"

# a well-formed bundle with a wrong password: refused by the server, nothing written
python3 -c '
import json,sys; b=json.load(open("good.json")); b["password"]="wrong password 123"; print(json.dumps(b))' > wrong.json
mgr_run enroll --bundle wrong.json --dir app-wrong; expect_rc 1 "wrong password"
check 'grep -q "401 unauthenticated" <<<"$ERR" && [ ! -e app-wrong ]' "401 named, nothing written"
# a bundle whose CA is another one: TLS refuses before the password is sent
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key -subj /CN=other-ca \
  -addext basicConstraints=critical,CA:TRUE -days 1 -out other.pem 2>/dev/null
python3 -c '
import json; b=json.load(open("good.json")); b["ca_certificate"]=open("other.pem").read(); print(json.dumps(b))' > other-ca.json
(unset MANAGER_CA_CERT; "$MGR" enroll --bundle other-ca.json --dir app-other >/dev/null 2>other.err)
rc=$?
check '[ $rc -eq 1 ] && grep -qi "certificate" other.err && [ ! -e app-other ]' "a foreign CA: refused, nothing written ($(cat other.err))"
check 'pending' "still pending"

# an existing directory with a file of the state: refused before anything is sent
mkdir -p busy && echo x > busy/cert.pem
mgr_run enroll --bundle good.json --dir busy; expect_rc 1 "enroll into a directory with cert.pem"
check '[ "$(ls -A busy)" = cert.pem ] && [ "$(cat busy/cert.pem)" = x ]' "left as it was"
check 'pending' "still pending"

# the good bundle works, with the modes
mgr_run enroll --bundle good.json --dir app --key-type rsa3072 --subject "/O=Example/CN=bundle-test-$ACC"
expect_rc 0 "enroll with the good bundle"
check '[ "$(stat -c %a app)" = 700 ] && [ "$(stat -c %a app/key.pem)" = 600 ]' "dir 0700, key 0600"
check '[ "$(stat -c %a app/cert.pem)" = 644 ] && [ "$(stat -c %a app/ca.pem)" = 644 ] && [ "$(stat -c %a app/account.json)" = 644 ]' "public files 0644"
check 'openssl pkey -in app/key.pem -noout -text | grep -q "3072 bit"' "rsa3072 key"
check 'openssl x509 -in app/cert.pem -noout -subject | grep -q "CN *= *bundle-test-$ACC"' "the given DN"
check 'pair_match app' "key and certificate match"
check '[ -z "$(ls -A app | grep -v -e "^key.pem$" -e "^cert.pem$" -e "^ca.pem$" -e "^account.json$" -e "^.mgr.lock$")" ]' "no temporary files left"
sums=$(sha256sum app/*)

# consumed: the same bundle again
mgr_run enroll --bundle good.json --dir app2; expect_rc 1 "enroll with a consumed bundle"
check 'grep -q "401" <<<"$ERR" && [ ! -e app2 ]' "consumed: 401 named, nothing written"
# enrolled directory: refused before the second bundle is used, which stays good
mgr_run account create --name "second" --bundle second.json; expect_rc 0 "second account"
ACC2=$(jfield account_id "$(cat second.json)")
mgr_run enroll --bundle second.json --dir app; expect_rc 1 "enroll over an enrolled directory"
check 'grep -q "exists" <<<"$ERR"' "the reason says why ($ERR)"
check '[ "$(sha256sum app/*)" = "$sums" ]' "the enrolled files are unchanged"
mgr_run account show "$ACC2" --json
check '[ "$(out_field state)" = pending_registration ]' "the second bundle was not consumed"
mgr_run enroll --bundle - --dir app3 < second.json; expect_rc 0 "the second bundle from stdin"
mgr_run --dir app3 status --json
check '[ "$(out_field account_id)" = "$ACC2" ]' "enrolled as the second account"
# the DN is unique per enrollment: the same --subject for another account is a conflict
mgr_run account create --name "third" --bundle third.json
mgr_run enroll --bundle third.json --dir app4 --subject "/O=Example/CN=bundle-test-$ACC"
expect_rc 1 "a Subject DN held by another account"
check 'grep -q "409 conflict" <<<"$ERR" && [ ! -e app4 ]' "409 named, nothing written"
