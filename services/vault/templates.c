/* Vault templates: what a vault is made from (kind, quota). Administrator only. */
#include "services/vault/handlers.h"

#include <stdlib.h>
#include <string.h>

#include "common/audit.h"
#include "proto/vault.pb-c.h"

static int
is_admin(const struct rpc_call *call)
{
	return (call->caller->kind == MGR__CALLER__KIND__ADMIN);
}

mgr_err
vault_h_tpl_create(struct rpc_call *call, void *arg)
{
	Mgr__Vault__CreateTemplateRequest *in = NULL;
	Mgr__Vault__Template out = MGR__VAULT__TEMPLATE__INIT;
	struct vault_tpl t;
	struct replay rp = {.reply = NULL};
	size_t n;
	mgr_err rv;

	(void)arg;
	if (!is_admin(call))
		return (rpc_fail(call, MGR_EPERM, "templates are the administrator's"));
	if ((rv = rpc_args(call, &mgr__vault__create_template_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	memset(&t, 0, sizeof(t));
	n = strlen(in->name);
	if (n == 0 || n > VAULT_TPL_NAME_MAX || !vault_utf8_valid(in->name, n)) {
		rv = rpc_fail(call, MGR_EINVAL, "\"name\" must be 1 to %d bytes of UTF-8",
		    VAULT_TPL_NAME_MAX);
		goto out;
	}
	if (strcmp(in->kind, "vault") != 0 && strcmp(in->kind, "mirror") != 0) {
		rv = rpc_fail(call, MGR_EINVAL, "\"kind\" must be \"vault\" or \"mirror\"");
		goto out;
	}
	if (in->quota_bytes < 0) {
		rv = rpc_fail(call, MGR_EINVAL, "\"quota_bytes\" must be a positive integer");
		goto out;
	}
	if (mgr_new_id("tpl", t.id, sizeof(t.id)) != MGR_OK) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	memcpy(t.name, in->name, n + 1);
	memcpy(t.kind, in->kind, strlen(in->kind) + 1);
	t.quota = in->quota_bytes;
	t.created_at = mgr_now_s();
	out.id = t.id;
	out.name = t.name;
	out.kind = t.kind;
	out.quota_bytes = t.quota;
	out.created_at = t.created_at;
	if ((rv = replay_init(&rp, call)) != MGR_OK ||
	    (rv = replay_prepare(&rp, &out.base)) != MGR_OK)
		goto out;
	rv = vault_store_tpl_create(&t, &rp);
	if (rv == MGR_OK && rp.hit) {
		rv = replay_answer(&rp, call);
		audit_log(call->request_id, call->caller, "vault_template.create",
		    "", rv, "replayed");
		goto out;
	}
	audit_log(call->request_id, call->caller, "vault_template.create",
	    rv == MGR_OK ? t.id : "", rv, t.name);
	if (rv == MGR_ECONFLICT) {
		rv = rpc_fail(call, rv, "a template named \"%.128s\" exists", t.name);
		goto out;
	}
	if (rv != MGR_OK)
		goto out;
	rv = rpc_reply(call, &out.base);
out:
	replay_clear(&rp);
	mgr__vault__create_template_request__free_unpacked(in, NULL);
	return (rv);
}

mgr_err
vault_h_tpl_list(struct rpc_call *call, void *arg)
{
	Mgr__Vault__TemplateList out = MGR__VAULT__TEMPLATE_LIST__INIT;
	Mgr__Vault__Template *items = NULL, **ptrs = NULL;
	struct vault_tpl *t = NULL;
	size_t n = 0;
	mgr_err rv;

	(void)arg;
	if (!is_admin(call))
		return (rpc_fail(call, MGR_EPERM, "templates are the administrator's"));
	if ((rv = vault_store_tpl_list(&t, &n)) != MGR_OK)
		return (rv);
	if (n > 0 && ((items = calloc(n, sizeof(*items))) == NULL ||
	                 (ptrs = calloc(n, sizeof(*ptrs))) == NULL)) {
		rv = MGR_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		mgr__vault__template__init(&items[i]);
		items[i].id = t[i].id;
		items[i].name = t[i].name;
		items[i].kind = t[i].kind;
		items[i].quota_bytes = t[i].quota;
		items[i].created_at = t[i].created_at;
		ptrs[i] = &items[i];
	}
	out.n_templates = n;
	out.templates = ptrs;
	rv = rpc_reply(call, &out.base);
out:
	free(ptrs);
	free(items);
	free(t);
	return (rv);
}
