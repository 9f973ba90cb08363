/* Locked vaults: created by an app (role vault_provisioner) which owns them;
 * an administrator may list and read their metadata and delete an empty one,
 * nothing else. */
#include "services/vault/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/audit.h"
#include "common/op.h"
#include "proto/vault.pb-c.h"

#define VAULT_ROLE "vault_provisioner"

static int
caller_is(const struct rpc_call *call, Mgr__Caller__Kind kind)
{
	return (call->caller->kind == kind);
}

static int
caller_owns(const struct rpc_call *call, const struct vault_rec *v)
{
	return (caller_is(call, MGR__CALLER__KIND__APP) && call->caller->id != NULL &&
	    strcmp(call->caller->id, v->owner) == 0);
}

static void
vault_to_proto(struct vault_rec *v, Mgr__Vault__Vault *p)
{
	mgr__vault__vault__init(p);
	p->id = v->id;
	p->name = v->name;
	p->owner_account_id = v->owner;
	p->vault_template_id = v->vtpl;
	p->mirror_template_id = v->mtpl;
	p->created_at = v->created_at;
	p->object_count = v->object_count;
	p->bytes_used = v->bytes_used;
	p->quota_bytes = v->quota;
}

static mgr_err
reply_vault(struct rpc_call *call, struct vault_rec *v)
{
	Mgr__Vault__Vault p;

	vault_to_proto(v, &p);
	return (rpc_reply(call, &p.base));
}

/* The template id of the given kind, or INVAL naming the field. */
static mgr_err
template_of(struct rpc_call *call, const char *field, const char *id, const char *kind,
    struct vault_tpl *out)
{
	mgr_err rv = vault_store_tpl_get(id, out);

	if (rv == MGR_ENOTFOUND)
		return (rpc_fail(call, MGR_EINVAL, "\"%s\": no such template", field));
	if (rv != MGR_OK)
		return (rv);
	if (strcmp(out->kind, kind) != 0)
		return (rpc_fail(call, MGR_EINVAL,
		    "\"%s\" must name a template of kind "
		    "\"%s\"",
		    field, kind));
	return (MGR_OK);
}

/* The vault template of a create (proto/vault.proto CreateVaultRequest):
 * the one named by id (S3: or by name), or the default one when none is
 * named. S3's refusals begin with its error code. */
static mgr_err
vault_template_of(struct rpc_call *call, const Mgr__Vault__CreateVaultRequest *in,
    struct vault_tpl *out)
{
	const char *s3 = in->template_by_name ? "InvalidLocationConstraint: " : "";
	mgr_err rv;

	if (*in->vault_template_id == '\0') {
		rv = vault_store_tpl_default(out);
		if (rv == MGR_ENOTFOUND)
			return (rpc_fail(call, MGR_EINVAL,
			    "%sno template named and no "
			    "default template",
			    s3));
		return (rv);
	}
	if (!in->template_by_name)
		return (template_of(call, "vault_template_id", in->vault_template_id,
		    "vault", out));
	rv = vault_store_tpl_get(in->vault_template_id, out);
	if (rv == MGR_ENOTFOUND)
		rv = vault_store_tpl_by_name(in->vault_template_id, out);
	if (rv == MGR_ENOTFOUND)
		return (rpc_fail(call, MGR_EINVAL,
		    "%sno vault template with this id "
		    "or name",
		    s3));
	if (rv != MGR_OK)
		return (rv);
	if (strcmp(out->kind, "vault") != 0)
		return (rpc_fail(call, MGR_EINVAL,
		    "%sthe template is of kind \"%s\", "
		    "not \"vault\"",
		    s3, out->kind));
	return (MGR_OK);
}

mgr_err
vault_h_create(struct rpc_call *call, void *arg)
{
	Mgr__Vault__CreateVaultRequest *in = NULL;
	Mgr__Vault__Vault p;
	struct vault_tpl vt, mt;
	struct vault_rec v;
	struct op op;
	mgr_err rv;

	(void)arg;
	if ((rv = op_begin(&op, call, NULL, &mgr__vault__create_vault_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	memset(&v, 0, sizeof(v));
	/* API.md: createLockedVault takes an app certificate, "any other
	 * [caller] gets 401" (an administrator too); an app of another role is
	 * authenticated but not allowed: 403. */
	if (!caller_is(call, MGR__CALLER__KIND__APP) ||
	    strcmp(call->caller->role, VAULT_ROLE) != 0) {
		if (!caller_is(call, MGR__CALLER__KIND__APP))
			rv = rpc_fail(call, MGR_EUNAUTH,
			    "a locked vault is created "
			    "with an application's client certificate");
		else
			rv = rpc_fail(call, MGR_EPERM,
			    "only an account with role " VAULT_ROLE
			    " may create a locked vault");
		op.action = "vault.create";
		snprintf(op.detail, sizeof(op.detail), "%s", in->name);
		goto out;
	}
	if (!vault_name_valid(in->name)) {
		rv = rpc_fail(call, MGR_EINVAL, "\"name\" must be 3 to 63 of [a-z0-9-]");
		goto out;
	}
	if ((rv = vault_template_of(call, in, &vt)) != MGR_OK)
		goto out;
	v.quota = vt.quota;
	if (*in->mirror_template_id != '\0') {
		if ((rv = template_of(call, "mirror_template_id", in->mirror_template_id,
		         "mirror", &mt)) != MGR_OK)
			goto out;
		/* A mirror template's quota bounds the vault too. */
		if (mt.quota > 0 && (v.quota == 0 || mt.quota < v.quota))
			v.quota = mt.quota;
		snprintf(v.mtpl, sizeof(v.mtpl), "%s", mt.id);
		v.mirrored = 1;
	}
	if (mgr_new_id("vlt", v.id, sizeof(v.id)) != MGR_OK) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	snprintf(v.name, sizeof(v.name), "%s", in->name);
	snprintf(v.owner, sizeof(v.owner), "%s", call->caller->id);
	snprintf(v.vtpl, sizeof(v.vtpl), "%s", vt.id);
	v.created_at = mgr_now_s();
	vault_to_proto(&v, &p);
	if ((rv = op_replay(&op, &p.base)) != MGR_OK)
		goto out;
	/* Audited from here on: the store's outcome. */
	op.action = "vault.create";
	snprintf(op.detail, sizeof(op.detail), "%s", v.name);
	rv = vault_store_create(&v, &op.rp);
	if (rv == MGR_OK && op.rp.hit) {
		rv = op_replayed(&op);
		goto out;
	}
	if (rv == MGR_OK)
		snprintf(op.target, sizeof(op.target), "%s", v.id);
	if (rv == MGR_ECONFLICT) {
		rv = rpc_fail(call, rv, "a vault named \"%s\" exists", v.name);
		goto out;
	}
	if (rv == MGR_OK)
		rv = reply_vault(call, &v);
out:
	return (op_end(&op, rv));
}

mgr_err
vault_h_list(struct rpc_call *call, void *arg)
{
	Mgr__Vault__VaultList out = MGR__VAULT__VAULT_LIST__INIT;
	Mgr__Vault__PageRequest *in = NULL;
	struct op_list l = {.items = NULL};
	struct vault_rec *v = NULL;
	char next[VAULT_CURSOR_MAX];
	const char *owner;
	size_t n = 0;
	mgr_err rv;

	(void)arg;
	if (caller_is(call, MGR__CALLER__KIND__ADMIN))
		owner = NULL;
	else if (caller_is(call, MGR__CALLER__KIND__APP) && *call->caller->id != '\0')
		owner = call->caller->id;
	else
		return (rpc_fail(call, MGR_EPERM, "not allowed to list vaults"));
	if ((rv = rpc_args(call, &mgr__vault__page_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	rv = vault_store_list(owner, in->after, in->limit, &v, &n, next, sizeof(next));
	if (rv == MGR_EINVAL)
		rv = rpc_fail(call, rv, "\"after\" is not a cursor of this listing");
	if (rv != MGR_OK)
		goto out;
	if ((rv = op_list_alloc(&l, &mgr__vault__vault__descriptor, n)) != MGR_OK)
		goto out;
	for (size_t i = 0; i < n; i++)
		vault_to_proto(&v[i], op_list_at(&l, i));
	out.n_vaults = l.n;
	out.vaults = (Mgr__Vault__Vault **)l.ptrs;
	out.next_after = next;
	rv = rpc_reply(call, &out.base);
out:
	mgr__vault__page_request__free_unpacked(in, NULL);
	op_list_free(&l);
	free(v);
	return (rv);
}

/* The vault `name` if the caller may see its metadata: its owner or an
 * administrator. Another account gets PERM. */
static mgr_err
vault_for_metadata(struct rpc_call *call, const char *name, struct vault_rec *v)
{
	mgr_err rv;

	if (!caller_is(call, MGR__CALLER__KIND__ADMIN) &&
	    !caller_is(call, MGR__CALLER__KIND__APP))
		return (rpc_fail(call, MGR_EPERM, "not allowed"));
	if ((rv = vault_store_find(name, v)) == MGR_ENOTFOUND)
		return (rpc_fail(call, rv, "no such vault"));
	if (rv != MGR_OK)
		return (rv);
	if (caller_is(call, MGR__CALLER__KIND__APP) && !caller_owns(call, v))
		return (
		    rpc_fail(call, MGR_EPERM, "the vault belongs to another account"));
	return (MGR_OK);
}

mgr_err
vault_h_get(struct rpc_call *call, void *arg)
{
	Mgr__Vault__VaultRef *in = NULL;
	struct vault_rec v;
	mgr_err rv;

	(void)arg;
	if ((rv = rpc_args(call, &mgr__vault__vault_ref__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	if ((rv = vault_for_metadata(call, in->name, &v)) == MGR_OK)
		rv = reply_vault(call, &v);
	mgr__vault__vault_ref__free_unpacked(in, NULL);
	return (rv);
}

mgr_err
vault_h_delete(struct rpc_call *call, void *arg)
{
	Mgr__Vault__VaultRef *in = NULL;
	struct vault_rec v;
	struct op op;
	int hit = 0;
	mgr_err rv;

	(void)arg;
	if ((rv = op_begin(&op, call, NULL, &mgr__vault__vault_ref__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	/* A replay finds no vault of that name any more: record first. A
	 * replay is not audited again. */
	if ((rv = op_lookup(&op, &hit)) != MGR_OK || hit)
		goto out;
	if ((rv = vault_for_metadata(call, in->name, &v)) != MGR_OK) {
		if (rv == MGR_EPERM) {
			op.action = "vault.delete";
			snprintf(op.target, sizeof(op.target), "%s", in->name);
		}
		goto out;
	}
	rv = vault_store_delete(&v, &op.rp);
	if (rv == MGR_OK && op.rp.hit) {
		rv = op_replayed(&op);
		goto out;
	}
	op.action = "vault.delete";
	snprintf(op.target, sizeof(op.target), "%s", v.id);
	snprintf(op.detail, sizeof(op.detail), "%s", v.name);
	if (rv == MGR_ECONFLICT)
		rv = rpc_fail(call, rv, "the vault is not empty");
	else if (rv == MGR_ENOTFOUND)
		rv = rpc_fail(call, rv, "no such vault");
out:
	return (op_end(&op, rv));
}

mgr_err
vault_h_update(struct rpc_call *call, void *arg)
{
	Mgr__Vault__UpdateVaultRequest *in = NULL;
	struct vault_rec v;
	char detail[256];
	size_t off = 0;
	mgr_err rv;

	(void)arg;
	if ((rv = rpc_args(call, &mgr__vault__update_vault_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	detail[0] = '\0';
	for (size_t i = 0; i < in->n_fields && off < sizeof(detail); i++) {
		int k = snprintf(detail + off, sizeof(detail) - off, "%s%.32s",
		    i > 0 ? "," : "", in->fields[i]);

		if (k < 0)
			break;
		off += (size_t)k;
	}
	if (caller_is(call, MGR__CALLER__KIND__ADMIN)) {
		/* Refused whether or not the vault exists: nothing to learn. */
		rv = rpc_fail(call, MGR_EPERM,
		    "an administrator may not rename or "
		    "re-own a locked vault");
	} else if ((rv = vault_for_metadata(call, in->name, &v)) == MGR_OK) {
		rv = rpc_fail(call, MGR_ECONFLICT,
		    "a locked vault's name, owner and "
		    "templates never change");
	}
	if (rv == MGR_EPERM || rv == MGR_ECONFLICT)
		audit_log(call->request_id, call->caller, "vault.update", in->name, rv,
		    detail);
	mgr__vault__update_vault_request__free_unpacked(in, NULL);
	return (rv);
}

mgr_err
vault_objects_precheck(struct rpc_call *call, const char *name, const char *action)
{
	if (caller_is(call, MGR__CALLER__KIND__ADMIN)) {
		audit_log(call->request_id, call->caller, action, name, MGR_EPERM,
		    "administrators may not touch a locked vault's objects");
		return (rpc_fail(call, MGR_EPERM,
		    "an administrator may not read, "
		    "list or write a locked vault's objects"));
	}
	if (!caller_is(call, MGR__CALLER__KIND__APP))
		return (rpc_fail(call, MGR_EPERM, "only the vault's owner may do this"));
	return (MGR_OK);
}

mgr_err
vault_objects_postcheck(struct rpc_call *call, const char *action, mgr_err find_rv,
    const struct vault_rec *v)
{
	if (find_rv == MGR_ENOTFOUND)
		return (rpc_fail(call, find_rv, "no such vault"));
	if (find_rv != MGR_OK)
		return (find_rv);
	if (!caller_owns(call, v)) {
		audit_log(call->request_id, call->caller, action, v->id, MGR_EPERM,
		    "the vault belongs to another account");
		return (
		    rpc_fail(call, MGR_EPERM, "the vault belongs to another account"));
	}
	return (MGR_OK);
}

mgr_err
vault_for_objects(struct rpc_call *call, const char *name, const char *action,
    struct vault_rec *out)
{
	mgr_err rv;

	if ((rv = vault_objects_precheck(call, name, action)) != MGR_OK)
		return (rv);
	rv = vault_store_find(name, out);
	return (vault_objects_postcheck(call, action, rv, out));
}
