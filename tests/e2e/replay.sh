#!/usr/bin/env bash
# Idempotent replays (issue #8): when a replica dies after it committed a
# request but before its reply got out, nng resends the same request (same
# request id, same bytes) to another replica. That resend must get the same
# successful reply and change nothing more: here each mutating RPC is sent
# twice straight to its service (tests/lib/rpc_send.c) and the stored state
# is checked to have changed once. Another caller using the same request id
# must not get the first caller's reply, and two HTTP requests with the same
# X-Request-Id are two requests.
. "$(dirname "$0")/../lib/stack.sh"
stack_up

. "$(dirname "$0")/../lib/rpc.sh"
[ -x "$RS" ] || fail_now "no $RS (build the tests)"
RC="redis-cli -p $MGR_REDIS_PORT"
body() { printf '%s' "${1#* }"; }

# Twice the same request: both OK, the same reply. Sets R1.
twice() {
  local what=$1 r2; shift
  R1=$(rs "$@")
  r2=$(rs "$@")
  check '[ "$(st "$R1")" = ok ]' "$what: the request succeeds ($R1)"
  check '[ "$r2" = "$R1" ]' "$what: the resend gets the same reply ($r2)"
}

# --- account.Create -------------------------------------------------------
P=$(pb 's(1,"replay-acct")+s(2,"vault_provisioner")+s(3,"replayuser")+s(4,"replay-temp-password-1")')
twice "account.Create" "$P" account account.Create rq-create admin admin
ACC=$(pbget "$(body "$R1")" 1.1)
check '[ -n "$ACC" ]' "account.Create replies with the account"
check '[ "$($RC ZCARD acct:all)" = 1 ]' "account.Create resent: one account"
check '[ "$($RC GET acct:user:replayuser)" = "$ACC" ]' "the one-time user name is the first account's"
check '[ "$($RC --scan --pattern "rpc:done:*" | wc -l)" -ge 1 ]' "a replay record is stored"
TTL=$($RC TTL "$($RC --scan --pattern 'rpc:done:*' | head -1)")
check '[ "$TTL" -gt 0 ] && [ "$TTL" -le 900 ]' "replay records expire ($TTL s)"
R=$(rs "$P" account account.Create rq-create admin someone-else)
check '[ "$(st "$R")" = conflict ]' "another caller with the same request id runs anew: 409 ($R)"
R=$(rs "$P" account account.Create rq-create-2 admin admin)
check '[ "$(st "$R")" = conflict ]' "another request id runs anew: 409 ($R)"
# A second account (pending) for the other-caller checks below.
P=$(pb 's(1,"replay-other")+s(2,"vault_provisioner")+s(3,"replayother")+s(4,"replay-temp-password-2")')
R=$(rs "$P" account account.Create rq-create-other admin admin)
OTHER=$(pbget "$(body "$R")" 1.1)
check '[ -n "$OTHER" ]' "a second account"

# --- ca.Register ----------------------------------------------------------
openssl req -new -newkey rsa:2048 -nodes -keyout "$T_DIR/app.key" \
  -subj "/O=Replay tests/CN=replay-app" -out "$T_DIR/app.csr" 2>/dev/null
P=$(pb "s(1,\"$ACC\")+s(2,open(\"$T_DIR/app.csr\").read())")
twice "ca.Register" "$P" ca ca.Register rq-register temp "$ACC" 1
SERIAL1=$(pbget "$(body "$R1")" 1.1)
pbget "$(body "$R1")" 1.6 >"$T_DIR/app.pem"
check '[ -n "$SERIAL1" ]' "ca.Register replies with the certificate"
check '[ "$($RC ZCARD "acct:{$ACC}:certs")" = 1 ]' "ca.Register resent: one certificate"
check '[ "$($RC HGET "acct:{$ACC}" state)" = active ]' "the account is registered"
check '[ "$($RC EXISTS acct:user:replayuser)" = 0 ]' "the one-time user name is consumed"
check '[ "$($RC XLEN "ev:{$ACC}")" = 1 ]' "one certificate.issued event"
R=$(rs "$P" ca ca.Register rq-register temp "$OTHER" 1)
check '[ "$(st "$R")" != ok ] && [ "$R" != "$R1" ]' "another caller with the same request id does not get the reply ($R)"
api GET "/api/v1/accounts/$ACC/certificates" --cert "$T_DIR/app.pem" --key "$T_DIR/app.key"
expect_status 200 "the replayed certificate works"
check '[ "$(jfield certificates.0.serial)" = "$SERIAL1" ]' "it is the stored one"

# --- vault.CreateTemplate, vault.Create -----------------------------------
P=$(pb 's(1,"replay-tpl")+s(2,"vault")')
twice "vault.CreateTemplate" "$P" vault vault.CreateTemplate rq-tpl admin admin
TPL=$(pbget "$(body "$R1")" 1)
check '[ "$($RC ZCARD vtpl:all)" = 1 ]' "vault.CreateTemplate resent: one template"
P=$(pb "s(1,\"replay-vault\")+s(2,\"$TPL\")")
twice "vault.Create" "$P" vault vault.Create rq-vault app "$ACC" 0 vault_provisioner
VID=$(pbget "$(body "$R1")" 1)
check '[ "$($RC ZCARD vault:all)" = 1 ]' "vault.Create resent: one vault"
R=$(rs "$P" vault vault.Create rq-vault app "$OTHER" 0 vault_provisioner)
check '[ "$(st "$R")" = conflict ]' "another caller with the same request id runs anew: 409 ($R)"

# --- an object PUT: PutBegin, PutChunk, PutCommit -------------------------
DATA="replayed object data"
SUM=$(printf '%s' "$DATA" | sha256sum | cut -d' ' -f1)
P=$(pb "s(1,\"replay-vault\")+s(2,\"dir/obj.txt\")+v(3,${#DATA})")
R=$(rs "$P" vault vault.PutBegin rq-put app "$ACC")
UP=$(pbget "$(body "$R")" 2)
check '[ -n "$UP" ]' "vault.PutBegin ($R)"
P=$(pb "s(1,\"$VID\")+s(2,\"$UP\")+s(4,\"$DATA\")")
twice "vault.PutChunk" "$P" vault vault.PutChunk rq-put app "$ACC"
P=$(pb "s(1,\"$VID\")+s(2,\"$UP\")+v(3,${#DATA})+s(4,\"$SUM\")")
twice "vault.PutCommit" "$P" vault vault.PutCommit rq-put app "$ACC"
check '[ "$(pbget "$(body "$R1")" 1.1)" = dir/obj.txt ]' "the replayed reply names the object"
check '[ "$(pbget "$(body "$R1")" 2)" = 1 ]' "the replayed reply says created"
check '[ "$($RC HGET "vault:{$VID}" object_count)" = 1 ]' "vault.PutCommit resent: object count 1"
check '[ "$($RC HGET "vault:{$VID}" bytes_used)" = "${#DATA}" ]' "vault.PutCommit resent: bytes counted once"
R=$(rs "$P" vault vault.PutCommit rq-put app "$OTHER")
check '[ "$(st "$R")" != ok ]' "another caller with the same request id does not get the reply ($R)"
api GET /api/v1/vaults/replay-vault/objects/dir/obj.txt --cert "$T_DIR/app.pem" --key "$T_DIR/app.key"
expect_status 200 "the object reads back"
check '[ "$BODY" = "$DATA" ]' "with its data"

# --- vault.DeleteObject, vault.Delete -------------------------------------
P=$(pb 's(1,"replay-vault")+s(2,"dir/obj.txt")')
twice "vault.DeleteObject" "$P" vault vault.DeleteObject rq-objdel app "$ACC"
check '[ "$($RC HGET "vault:{$VID}" object_count)" = 0 ]' "vault.DeleteObject resent: object count 0"
check '[ "$($RC HGET "vault:{$VID}" bytes_used)" = 0 ]' "vault.DeleteObject resent: bytes 0"

# --- ca.Rotate with a revoke list -----------------------------------------
openssl req -new -newkey rsa:2048 -nodes -keyout "$T_DIR/app2.key" \
  -subj "/O=Replay tests/CN=replay-app" -out "$T_DIR/app2.csr" 2>/dev/null
P=$(pb "s(1,\"$ACC\")+s(2,open(\"$T_DIR/app2.csr\").read())+s(5,\"$SERIAL1\")+v(6,1)")
twice "ca.Rotate" "$P" ca ca.Rotate rq-rotate app "$ACC"
check '[ "$(pbget "$(body "$R1")" 3)" = "$SERIAL1" ]' "the replayed reply lists the revoked serial"
check '[ "$($RC ZCARD "acct:{$ACC}:certs")" = 2 ]' "ca.Rotate resent: one new certificate"
check '[ -n "$($RC HGET "cert:$SERIAL1" revoked_at)" ]' "the old certificate is revoked"
NREV=$($RC XRANGE "ev:{$ACC}" - + | grep -c '^certificate.revoked$')
check '[ "$NREV" = 1 ]' "ca.Rotate resent: one revocation event ($NREV)"
R=$(rs "$P" ca ca.Rotate rq-rotate app "$OTHER")
check '[ "$(st "$R")" != ok ]' "another caller with the same request id does not get the reply ($R)"

# --- ca.Renew (a later expiration forces it), ca.CreateDevice ------------
EXP=$(( $(date +%s) + 500 * 86400 ))
P=$(pb "s(1,\"$ACC\")+v(2,$EXP)+v(3,1)")
twice "ca.Renew" "$P" ca ca.Renew rq-renew app "$ACC"
check '[ "$(pbget "$(body "$R1")" 2)" = 1 ]' "the replayed reply says renewed"
check '[ "$($RC ZCARD "acct:{$ACC}:certs")" = 3 ]' "ca.Renew resent: one new certificate"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T_DIR/dev.key" \
  -subj "/O=Replay tests/CN=replay-device" -out "$T_DIR/dev.csr" 2>/dev/null
P=$(pb "s(1,\"replay-device\")+s(2,open(\"$T_DIR/dev.csr\").read())")
twice "ca.CreateDevice" "$P" ca ca.CreateDevice rq-device admin admin
check '[ "$($RC ZCARD dev:all)" = 1 ]' "ca.CreateDevice resent: one device"

P=$(pb 's(1,"replay-vault")')
twice "vault.Delete" "$P" vault vault.Delete rq-vdel app "$ACC"
check '[ "$($RC ZCARD vault:all)" = 0 ]' "vault.Delete resent: no vault"

# --- account.SetPassword, account.Disable, account.Delete -----------------
P=$(pb "s(1,\"$OTHER\")+s(2,\"replay-temp-password-3\")")
twice "account.SetPassword" "$P" account account.SetPassword rq-pw admin admin
check '[ "$($RC HGET "acct:{$OTHER}" cred_version)" = 2 ]' "account.SetPassword resent: one change"
P=$(pb "s(1,\"$ACC\")")
twice "account.Disable" "$P" account account.Disable rq-disable admin admin
check '[ "$(pbget "$(body "$R1")" 1.4)" = disabled ]' "the replayed reply says disabled"
check '[ "$($RC XRANGE "ev:{$ACC}" - + | grep -c '^account.disabled$')" = 1 ]' "one account.disabled event"
P=$(pb "s(1,\"$OTHER\")")
twice "account.Delete" "$P" account account.Delete rq-delete admin admin
check '[ "$($RC ZCARD acct:all)" = 1 ]' "account.Delete resent: deleted once"

# --- HTTP: the same X-Request-Id on two requests --------------------------
B='{"name":"http-acct","role":"vault_provisioner","username":"httpuser","password":"http-temp-password-1"}'
api_json POST /api/v1/accounts "$B" -u "$ADMIN" -H 'X-Request-Id: client-chosen-1'
expect_status 201 "a create with a client-chosen request id"
check '[ "$(jfield error.request_id)" = "" ]' "no error"
api_json POST /api/v1/accounts "$B" -u "$ADMIN" -H 'X-Request-Id: client-chosen-1'
expect_status 409 "the same body with the same X-Request-Id is a new request, not a replay"
expect_code conflict "the same X-Request-Id"
check '[ "$(jfield error.request_id)" = client-chosen-1 ]' "the error names the client's request id"
api GET "/api/v1/audit?limit=1000" -u "$ADMIN"; expect_status 200 "audit"
check '[ "$(jq "[.records[] | select(.request_id == \"client-chosen-1\" and .action == \"account.create\")] | length" <<<"$BODY")" = 2 ]' \
  "the audit names both creates by the client's request id (not the envelope's)"
