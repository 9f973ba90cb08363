/* Vault templates: what a vault is made from (kind, quota). Administrator only. */
#include "services/vault/handlers.h"

#include <stdlib.h>
#include <string.h>

#include "common/op.h"
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
	struct op op;
	size_t n;
	mgr_err rv;

	(void)arg;
	if (!is_admin(call))
		return (rpc_fail(call, MGR_EPERM, "templates are the administrator's"));
	if ((rv = op_begin(&op, call, NULL,
	         &mgr__vault__create_template_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	memset(&t, 0, sizeof(t));
	n = strlen(in->name);
	if (n == 0 || n > VAULT_TPL_NAME_MAX || !vault_utf8_valid(in->name, n)) {
		rv = rpc_fail(call, MGR_EINVAL, "\"name\" must be 1 to %d bytes of UTF-8",
		    VAULT_TPL_NAME_MAX);
		goto out;
	}
	if (strcmp(in->kind, "vault") != 0 && strcmp(in->kind, "mirror") != 0) {
		rv = rpc_fail(call, MGR_EINVAL,
		    "\"kind\" must be \"vault\" or \"mirror\"");
		goto out;
	}
	if (in->quota_bytes < 0) {
		rv = rpc_fail(call, MGR_EINVAL,
		    "\"quota_bytes\" must be a positive integer");
		goto out;
	}
	if (in->is_default && strcmp(in->kind, "vault") != 0) {
		rv = rpc_fail(call, MGR_EINVAL,
		    "only a template of kind \"vault\" "
		    "may be the default");
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
	t.is_default = in->is_default;
	out.id = t.id;
	out.name = t.name;
	out.kind = t.kind;
	out.quota_bytes = t.quota;
	out.created_at = t.created_at;
	out.is_default = t.is_default;
	if ((rv = op_replay(&op, &out.base)) != MGR_OK)
		goto out;
	/* Audited from here on: the store's outcome. */
	op.action = "vault_template.create";
	snprintf(op.detail, sizeof(op.detail), "%s", t.name);
	rv = vault_store_tpl_create(&t, &op.rp);
	if (rv == MGR_OK && op.rp.hit) {
		rv = op_replayed(&op);
		goto out;
	}
	if (rv == MGR_OK)
		snprintf(op.target, sizeof(op.target), "%s", t.id);
	if (rv == MGR_ECONFLICT) {
		rv = rpc_fail(call, rv, "a template named \"%.128s\" exists", t.name);
		goto out;
	}
	if (rv != MGR_OK)
		goto out;
	rv = rpc_reply(call, &out.base);
out:
	return (op_end(&op, rv));
}

mgr_err
vault_h_tpl_list(struct rpc_call *call, void *arg)
{
	Mgr__Vault__TemplateList out = MGR__VAULT__TEMPLATE_LIST__INIT;
	Mgr__Vault__PageRequest *in = NULL;
	struct op_list l = {.items = NULL};
	struct vault_tpl *t = NULL;
	char next[VAULT_CURSOR_MAX];
	size_t n = 0;
	mgr_err rv;

	(void)arg;
	if (!is_admin(call))
		return (rpc_fail(call, MGR_EPERM, "templates are the administrator's"));
	if ((rv = rpc_args(call, &mgr__vault__page_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	rv = vault_store_tpl_list(in->after, in->limit, &t, &n, next, sizeof(next));
	if (rv == MGR_EINVAL)
		rv = rpc_fail(call, rv, "\"after\" is not a cursor of this listing");
	if (rv != MGR_OK)
		goto out;
	if ((rv = op_list_alloc(&l, &mgr__vault__template__descriptor, n)) != MGR_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		Mgr__Vault__Template *m = op_list_at(&l, i);

		m->id = t[i].id;
		m->name = t[i].name;
		m->kind = t[i].kind;
		m->quota_bytes = t[i].quota;
		m->created_at = t[i].created_at;
		m->is_default = t[i].is_default;
	}
	out.n_templates = l.n;
	out.templates = (Mgr__Vault__Template **)l.ptrs;
	out.next_after = next;
	rv = rpc_reply(call, &out.base);
out:
	mgr__vault__page_request__free_unpacked(in, NULL);
	op_list_free(&l);
	free(t);
	return (rv);
}

/* (v2) Makes a template the default (or stops it being one): at most one
 * is, and vault.Create uses it when no template is named. */
mgr_err
vault_h_tpl_update(struct rpc_call *call, void *arg)
{
	Mgr__Vault__UpdateTemplateRequest *in = NULL;
	Mgr__Vault__Template out = MGR__VAULT__TEMPLATE__INIT;
	struct vault_tpl t;
	struct op op;
	mgr_err rv;

	(void)arg;
	if (!is_admin(call))
		return (rpc_fail(call, MGR_EPERM, "templates are the administrator's"));
	if ((rv = op_begin(&op, call, NULL,
	         &mgr__vault__update_template_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	rv = vault_store_tpl_get(in->id, &t);
	if (rv == MGR_ENOTFOUND) {
		rv = rpc_fail(call, rv, "no such template");
		goto out;
	}
	if (rv != MGR_OK)
		goto out;
	if (in->is_default && strcmp(t.kind, "vault") != 0) {
		rv = rpc_fail(call, MGR_EINVAL,
		    "only a template of kind \"vault\" "
		    "may be the default");
		goto out;
	}
	out.id = t.id;
	out.name = t.name;
	out.kind = t.kind;
	out.quota_bytes = t.quota;
	out.created_at = t.created_at;
	out.is_default = in->is_default;
	if ((rv = op_replay(&op, &out.base)) != MGR_OK)
		goto out;
	op.action = "vault_template.update";
	snprintf(op.target, sizeof(op.target), "%s", t.id);
	snprintf(op.detail, sizeof(op.detail), "default=%s",
	    in->is_default ? "true" : "false");
	rv = vault_store_tpl_set_default(t.id, in->is_default, &op.rp);
	if (rv == MGR_OK && op.rp.hit) {
		rv = op_replayed(&op);
		goto out;
	}
	if (rv == MGR_ENOTFOUND) {
		rv = rpc_fail(call, rv, "no such template");
		goto out;
	}
	if (rv == MGR_EINVAL) {
		rv = rpc_fail(call, rv,
		    "only a template of kind \"vault\" may be "
		    "the default");
		goto out;
	}
	if (rv == MGR_OK)
		rv = rpc_reply(call, &out.base);
out:
	return (op_end(&op, rv));
}
