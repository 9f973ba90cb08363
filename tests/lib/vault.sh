# Vault fixtures for e2e tests: source after tests/lib/stack.sh and
# tests/lib/app_identity.sh (the vaults belong to app identity "alice").

# mk_tpl NAME KIND [QUOTA]: creates a vault template as admin; prints its id.
mk_tpl() {
  local q=""
  [ -n "${3:-}" ] && q=",\"quota_bytes\":$3"
  api POST /api/v1/vault-templates -u "$ADMIN" -H 'Content-Type: application/json' \
    -d "{\"name\":\"$1\",\"kind\":\"$2\"$q}"
  [ "$ST" = 201 ] || fail_now "template $1: $ST $BODY"
  jfield id
}

# mk_vault NAME VAULT_TPL [MIRROR_TPL]: a locked vault of alice; prints its id.
mk_vault() {
  local m=""
  [ -n "${3:-}" ] && m=",\"mirror_template_id\":\"$3\""
  app_api alice POST /api/v1/vaults -H 'Content-Type: application/json' \
    -d "{\"name\":\"$1\",\"vault_template_id\":\"$2\"$m}"
  [ "$ST" = 201 ] || fail_now "vault $1: $ST $BODY"
  jfield id
}
