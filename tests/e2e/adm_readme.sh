#!/usr/bin/env bash
# Runs every `curl` example of api/ibm-compat.md (the ```sh adm blocks),
# exactly as written and in order, against a fresh stack: the IBM `.adm`
# methods' page cannot rot.
. "$(dirname "$0")/../lib/stack.sh"
stack_up
WORK=$T_DIR/adm
mkdir -p "$WORK"
python3 - "$MGR_ROOT/api/ibm-compat.md" > "$WORK/examples.sh" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"```sh adm\n(.*?)```", text, re.S)
print("set -euo pipefail")
for b in blocks:
    print(b)
    print("echo")  # a line break after each answer
PY
check '[ "$(grep -c "manager/api/" "$WORK/examples.sh")" -ge 8 ]' "examples extracted"
out=$(cd "$WORK" && MGR="$URL" CA="$CA" ADMIN_PW="$MANAGER_ADMIN_PASSWORD" bash "$WORK/examples.sh" 2>&1)
rc=$?
echo "$out" | cut -c1-200 | tail -n 40
check '[ $rc -eq 0 ]' "the examples run to the end"
check 'grep -qE "^account [0-9]+$" <<<"$out" && grep -qE "^template [0-9]+$" <<<"$out"' "createPrivateAccount and createVaultTemplate give numeric ids"
check '[ "$(grep -o "\"responseStatus\":\"ok\"" <<<"$out" | wc -l)" -eq 4 ]' \
  "editAccount, editAccountPassword, createVaultFromTemplate and clientCertificateRenewer answer ok in JSON"
check '[ "$(grep -o "<responseStatus>ok</responseStatus>" <<<"$out" | wc -l)" -eq 2 ]' \
  "createAccount and rotateClientKey answer ok in XML"
check '! grep -qE "\"responseStatus\":\"fail\"|<responseStatus>fail" <<<"$out"' "no call fails"
check 'grep -q "backup.pem: OK" <<<"$out"' "the registered certificate verifies"
check 'grep -q "\"renewed\":true" <<<"$out"' "the renewal renews"
check 'grep -q "<revokedSerials><revokedSerial>" <<<"$out"' "the rotation revokes the old certificate"
# The state the examples leave, through REST.
ACC=$(jfield responseData.vaultId "$(grep -o '{"responseStatus".*"vaultId".*}' <<<"$out" | head -1)")
check '[ -n "$ACC" ]' "the vault's own id is in the answer"
api GET /api/v1/accounts -u "$ADMIN"
check 'grep -q "backup application" <<<"$BODY" && grep -q "archive app" <<<"$BODY"' \
  "both accounts exist, the first renamed"
