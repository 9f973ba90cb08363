#!/usr/bin/env bash
# The whole workflow of WORKFLOW.txt through mgr only: an administrator
# creates templates and a private account with its hand-over bundle; the
# application enrolls, creates locked vaults, streams objects in and out,
# renews, rotates; the administrator disables and enables; events and audit.
. "$(dirname "$0")/../lib/stack.sh"
. "$MGR_ROOT/tests/lib/cli.sh"
stack_up
export MANAGER_URL=$URL MANAGER_CA_CERT=$CA
W=$T_DIR/w && mkdir -p "$W" && cd "$W" || fail_now "no work dir"

# --- the command line itself
mgr_run --version; expect_rc 0 "--version"
check '[[ "$OUT" == mgr\ * ]]' "--version names mgr"
mgr_run --help; expect_rc 0 "--help"
check 'grep -q "account create" <<<"$OUT" && grep -q "renew" <<<"$OUT"' "--help lists the commands"
for c in "account create" "account list" "enroll" "status" "renew" "rotate" "vault create" "put" "get" "ls" "rm" "events" "audit" "template create"; do
  # shellcheck disable=SC2086
  mgr_run $c --help; expect_rc 0 "$c --help"
  check 'grep -q "usage: mgr $c" <<<"$OUT"' "$c --help shows its usage"
done
mgr_run frobnicate; expect_rc 2 "unknown command"; expect_one_line_err "unknown command"
mgr_run account create; expect_rc 2 "account create without --name"
mgr_run account create --name x --no-such-option; expect_rc 2 "unknown option"
mgr_run account show; expect_rc 2 "missing argument"
mgr_run; expect_rc 2 "no command"
# the man page renders and names every command; the completion completes
check 'MANWIDTH=100 man -l "$MGR_ROOT/cli/mgr.1" 2>&1 | grep -q "renew --daemon"' "man page renders"
for c in "account create" enroll status rotate "vault create" put get ls rm events audit; do
  check 'grep -q "$c" <(MANWIDTH=200 man -l "$MGR_ROOT/cli/mgr.1" 2>/dev/null)' "man page: $c"
done
comp=$(bash -c '. "$1"; COMP_WORDS=(mgr acc); COMP_CWORD=1; _mgr; echo "${COMPREPLY[*]}";
  COMP_WORDS=(mgr account cr); COMP_CWORD=2; _mgr; echo "${COMPREPLY[*]}";
  COMP_WORDS=(mgr enroll --key-type ""); COMP_CWORD=3; _mgr; echo "${COMPREPLY[*]}"' _ "$MGR_ROOT/cli/mgr.bash-completion")
check '[ "$comp" = "$(printf "account\ncreate\nec-p256 rsa2048 rsa3072")" ]' "bash completion ($comp)"
MANAGER_ADMIN_PASSWORD=wrong-password-1 mgr_run account list; expect_rc 1 "wrong admin password"
check 'grep -q "HTTP 401 unauthenticated" <<<"$ERR"' "the reason names the status and code ($ERR)"
expect_one_line_err "wrong admin password"
(unset MANAGER_ADMIN_PASSWORD; setsid "$MGR" account list </dev/null >/dev/null 2>"$W/nopw.err")
rc=$?
check '[ $rc -eq 1 ] && grep -q MANAGER_ADMIN_PASSWORD "$W/nopw.err"' "no password and no terminal: a clear failure"
echo "$MANAGER_ADMIN_PASSWORD" > "$W/admin.pw"
(unset MANAGER_ADMIN_PASSWORD; MANAGER_ADMIN_PASSWORD_FILE=$W/admin.pw "$MGR" account list >/dev/null 2>&1)
rc=$?
check '[ $rc -eq 0 ]' "the admin password from MANAGER_ADMIN_PASSWORD_FILE"

# --- 1-3: templates, the account, the bundle
mgr_run template create --name standard --kind vault --quota 1073741824 --json; expect_rc 0 "template create"
TPL=$(out_field id)
mgr_run template create --name copy --kind mirror --json; expect_rc 0 "mirror template create"
MIR=$(out_field id)
mgr_run template create --name x --kind other; expect_rc 2 "bad --kind"
mgr_run template list --json; expect_rc 0 "template list"
check 'grep -q "$TPL" <<<"$OUT" && grep -q "$MIR" <<<"$OUT"' "both templates listed"
mgr_run template create --name fallback --kind vault --default --json; expect_rc 0 "template create --default"
DEF=$(out_field id)
check '[ "$(out_field default)" = true ]' "--default makes it the default"
mgr_run template list
check 'grep -q "fallback.*(default)" <<<"$OUT" && ! grep -q "standard.*(default)" <<<"$OUT"' "template list marks the default alone ($OUT)"

mgr_run account create --name "billing app" --template "$TPL" --mirror-template "$MIR" --bundle bundle.json
expect_rc 0 "account create"
check '[ "$(stat -c %a bundle.json)" = 600 ]' "bundle is 0600"
B=$(cat bundle.json)
ACC=$(jfield account_id "$B")
check '[[ "$ACC" == acc_* ]]' "bundle has the account id"
check '[ "$(jfield url "$B")" = "$URL" ] && [ "$(jfield vault_template_id "$B")" = "$TPL" ] && [ "$(jfield mirror_template_id "$B")" = "$MIR" ]' "bundle url and templates"
check '[ ${#B} -gt 100 ] && [ "$(jfield ca_certificate "$B" | openssl x509 -noout -subject 2>/dev/null | wc -l)" = 1 ]' "bundle has the CA certificate"
check '[ "$(jfield s3_url "$B")" = "https://127.0.0.1:8444" ]' "s3_url: same host, port 8444"
PW=$(jfield password "$B")
check '[ ${#PW} -ge 12 ] && [ -n "$(jfield username "$B")" ]' "a random temporary password and a user name"
check '! pgrep -af "mgr.*$PW" >/dev/null' "no secret in argv"
# the one-time password from stdin (not the command line)
echo "a password from a pipe" | "$MGR" account create --name "piped pw" --password-file - --json > piped.json
check '[ "$(jfield password "$(cat piped.json)")" = "a password from a pipe" ]' "--password-file -: bundle on stdout holds it"
mgr_run account create --name "short" --password short; expect_rc 2 "a too short one-time password"
mgr_run account create --name "other" --template "$TPL" --bundle bundle.json
expect_rc 1 "account create onto an existing bundle file"
mgr_run account list --json
check '! grep -q "\"other\"" <<<"$OUT"' "refused before the account was created"
B=$(mktemp "$W/empty.XXXXXX")
mgr_run account create --name "into mktemp" --bundle "$B"; expect_rc 0 "account create into an empty file (mktemp)"
check '[ "$(stat -c %a "$B")" = 600 ] && [ -n "$(jfield account_id "$(cat "$B")")" ]' "written, 0600"
mgr_run account create --name "bad tpl" --template tpl_nonexistent --bundle b-bad.json
expect_rc 1 "account create with an unknown template"
check '[ ! -e b-bad.json ]' "no bundle for it"
mgr_run account show "$ACC" --json; expect_rc 0 "account show"
check '[ "$(out_field state)" = pending_registration ]' "pending registration"
mgr_run account rename "$ACC" "billing app v2" --json; expect_rc 0 "rename"
check '[ "$(out_field name)" = "billing app v2" ]' "renamed"
# a new password and bundle: the first bundle is dead
mgr_run account password "$ACC" --template "$TPL" --mirror-template "$MIR" --bundle bundle2.json; expect_rc 0 "account password --bundle"
check '[ "$(stat -c %a bundle2.json)" = 600 ] && [ "$(jfield password "$(cat bundle2.json)")" != "$PW" ]' "a new random password"
mgr_run enroll --bundle bundle.json --dir app-old; expect_rc 1 "enroll with the replaced password"
check '[ ! -e app-old ]' "nothing written"

# --- 4-7: enroll
mgr_run enroll --bundle bundle2.json --dir app --json; expect_rc 0 "enroll"
check '[ "$(stat -c %a app/key.pem)" = 600 ] && [ "$(stat -c %a app)" = 700 ]' "key 0600, dir 0700"
check '[ -s app/cert.pem ] && [ -s app/ca.pem ] && [ -s app/account.json ]' "the four files"
check 'pair_match app' "key and certificate match"
check 'openssl verify -CAfile "$CA" app/cert.pem >/dev/null' "certificate verifies with the Manager CA"
check 'openssl x509 -in app/cert.pem -noout -subject | grep -q "$ACC"' "a unique DN naming the account"
check '! grep -q "PRIVATE" app/account.json app/cert.pem app/ca.pem' "the key is only in key.pem"
mgr_run account show "$ACC" --json
check '[ "$(out_field state)" = active ] && [ -z "$(out_field username)" ]' "registered: active, no user name"
mgr_run account password "$ACC"; expect_rc 1 "password after registration"
mgr_run account delete "$ACC"; expect_rc 1 "delete after registration"
check 'grep -q "409 conflict" <<<"$ERR"' "409 conflict named ($ERR)"
mgr_run --dir app status --json; expect_rc 0 "status"
check '[ "$(out_field account_id)" = "$ACC" ] && [ "$(out_field account_state)" = active ]' "status: account"
check '[ "$(out_field serial)" = "$(cert_serial app/cert.pem)" ] && [ "$(out_field days_left)" -ge 364 ]' "status: serial and days left"
check '[ -n "$(out_field not_after)" ]' "status: not_after"

# --- 8: vaults and objects
mgr_run --dir app vault create billing-data --json; expect_rc 0 "vault create (bundle template)"
check '[ "$(out_field vault_template_id)" = "$TPL" ] && [ "$(out_field locked)" = true ]' "vault from the bundle's template"
mgr_run --dir app vault create billing-copy --mirror-template "$MIR" --json; expect_rc 0 "mirrored vault"
check '[ "$(out_field mirror_template_id)" = "$MIR" ]' "mirror template"
mgr_run --dir app vault create billing-data; expect_rc 1 "duplicate vault"
check 'grep -q "409 conflict" <<<"$ERR"' "duplicate: 409 conflict"
mgr_run --dir app vault list --json
check 'grep -q billing-data <<<"$OUT" && grep -q billing-copy <<<"$OUT"' "vault list"
echo 'hello, vault' > hello.txt
mgr_run --dir app put hello.txt billing-data/greetings/hello.txt; expect_rc 0 "put"
mgr_run --dir app get billing-data/greetings/hello.txt back.txt; expect_rc 0 "get"
check 'cmp -s hello.txt back.txt' "same bytes back"
mgr_run --dir app get billing-data/greetings/hello.txt -
check '[ "$OUT" = "hello, vault" ]' "get to stdout"
# 60 MB: under the 64 MiB object limit of v1 stacks too
head -c 60000000 /dev/urandom > big.bin
/usr/bin/time -f '%M' -o put.rss "$MGR" --dir app put big.bin billing-copy/big.bin >/dev/null 2>put.err
rc=$?
check '[ $rc -eq 0 ]' "put of 60 MB ($(cat put.err))"
/usr/bin/time -f '%M' -o get.rss "$MGR" --dir app get billing-copy/big.bin big.back >/dev/null 2>get.err
rc=$?
check '[ $rc -eq 0 ] && cmp -s big.bin big.back' "get of 60 MB, same bytes ($(cat get.err))"
echo "peak RSS of mgr: put $(tail -1 put.rss) KiB, get $(tail -1 get.rss) KiB for 60 MB"
# (a sanitizer build's shadow memory and quarantine are not the client's)
if ! grep -q libasan <(ldd "$MGR"); then
  check '[ "$(tail -1 put.rss)" -lt 65536 ] && [ "$(tail -1 get.rss)" -lt 65536 ]' "streamed: mgr stays under 64 MiB"
fi
# on a terminal, a transfer shows its progress (script(1) gives mgr a pty)
script -qec "$MGR --dir app get billing-copy/big.bin big.tty" /dev/null > tty.out 2>&1
check 'grep -q "%.*MiB" tty.out && cmp -s big.bin big.tty' "progress on a terminal ($(tr '\r' '\n' < tty.out | tail -2))"
"$MGR" --dir app get billing-copy/big.bin big.notty > notty.out 2>&1
check '! grep -q "%" notty.out' "no progress when stdout is not a terminal"
head -c 3000000 /dev/urandom | "$MGR" --dir app put - billing-data/piped.bin >/dev/null 2>&1
rc=$?
check '[ $rc -eq 0 ]' "put from a pipe (chunked)"
mgr_run --dir app ls billing-data --json; expect_rc 0 "ls"
check 'grep -q greetings/hello.txt <<<"$OUT" && grep -q piped.bin <<<"$OUT"' "ls lists both"
mgr_run --dir app ls billing-data/greet
check 'grep -q greetings/hello.txt <<<"$OUT" && ! grep -q piped.bin <<<"$OUT"' "ls with a prefix"
mgr_run --dir app rm billing-data/piped.bin; expect_rc 0 "rm"
mgr_run --dir app get billing-data/piped.bin p.bin; expect_rc 1 "get of a removed object"
check 'grep -q "404 not_found" <<<"$ERR" && [ ! -e p.bin ]' "404 named, no file left"
expect_one_line_err "get of a removed object"
mgr_run --dir app ls nosuchvault; expect_rc 1 "ls of an unknown vault"

# --- 9-10: renewal
OLD=$(cert_serial app/cert.pem)
mgr_run --dir app renew --json; expect_rc 0 "renew when not needed"
check '[ "$(out_field renewed)" = false ] && [ "$(cert_serial app/cert.pem)" = "$OLD" ]' "not renewed, file unchanged"
mgr_run --dir app renew --expires "$(date -u -d '+400 days' +%Y-%m-%d)" --json; expect_rc 0 "renew --expires"
check '[ "$(out_field renewed)" = true ] && [ "$(cert_serial app/cert.pem)" != "$OLD" ]' "renewed, cert.pem replaced"
check 'pair_match app && [ "$(stat -c %a app/key.pem)" = 600 ]' "same key, still 0600"
mgr_run --dir app renew --force --json; expect_rc 0 "renew --force"
check '[ "$(out_field renewed)" = true ]' "forced renewal"
mgr_run --dir app renew --expires not-a-date; expect_rc 2 "renew with a bad date"

# --- disable / enable
mgr_run account disable "$ACC"; expect_rc 0 "disable"
mgr_run --dir app ls billing-data; expect_rc 1 "vault I/O of a disabled account"
check 'grep -q "401 unauthenticated" <<<"$ERR"' "401 named ($ERR)"
mgr_run --dir app status --json
check '[ "$(out_field account_state)" != active ]' "status: not active ($(out_field account_state))"
mgr_run account enable "$ACC"; expect_rc 0 "enable"
mgr_run --dir app ls billing-data; expect_rc 0 "vault I/O again"

# --- 11: rotation
cp app/key.pem old.key; cp app/cert.pem old.pem
mgr_run --dir app rotate --key-type rsa2048 --json; expect_rc 0 "rotate"
check '! cmp -s app/key.pem old.key && pair_match app' "a new key, matching its certificate"
check 'openssl pkey -in app/key.pem -noout -text | grep -q "2048 bit"' "rsa2048"
check '[ "$(stat -c %a app/key.pem)" = 600 ] && [ ! -e app/key.pem.new ] && [ ! -e app/cert.pem.new ]' "no leftovers"
check '[ "$(jfield revoked.0 "$OUT")" != "" ]' "old certificates revoked"
st=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" --cert old.pem --key old.key "$URL/api/v1/vaults")
check '[ "$st" = 401 ]' "the old certificate is refused ($st)"
mgr_run --dir app get billing-data/greetings/hello.txt -
check '[ "$OUT" = "hello, vault" ]' "data readable with the rotated key"
mgr_run account certificates "$ACC" --json
check '[ "$(grep -c "\"revoked\"" <<<"$OUT")" -ge 3 ] && grep -q "\"valid\"" <<<"$OUT"' "admin sees revoked and valid certificates"

# --- events and audit
mgr_run --dir app events --json; expect_rc 0 "events"
for t in certificate.issued certificate.renewed certificate.revoked account.disabled account.enabled; do
  check 'grep -q "\"$t\"" <<<"$OUT"' "event $t"
done
FIRST=$(out_field events.0.id) SECOND=$(out_field events.1.id)
mgr_run --dir app events --after "$FIRST" --json; expect_rc 0 "events --after"
check '! grep -q "\"$FIRST\"" <<<"$OUT" && [ "$(out_field events.0.id)" = "$SECOND" ]' "events after a cursor start after it"
mgr_run audit --json; expect_rc 0 "audit"
check 'grep -q "$ACC" <<<"$OUT"' "audit names the account"
"$MGR" audit --follow --json > follow.out 2>follow.err &
fp=$!
sleep 2
mgr_run account create --name "late one" --bundle late.json
mgr_wait 'grep -q "$(jfield account_id "$(cat late.json)")" follow.out' 20
rc=$?
check '[ $rc -eq 0 ]' "audit --follow shows a new record"
kill -TERM $fp; wait $fp
rc=$?
check '[ $rc -eq 0 ]' "audit --follow exits 0 on SIGTERM"
mgr_run account delete "$(jfield account_id "$(cat late.json)")"; expect_rc 0 "delete a pending account"
