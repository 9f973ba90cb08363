/* Object I/O, for the vault's owner only. Data moves in chunks of at most
 * RPC_CHUNK_BYTES (VAULT_CHUNK_BYTES for new uploads): see
 * proto/vault.proto. Every script checks the owner again. */
#include "services/vault/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/op.h"
#include "proto/vault.pb-c.h"

static void
obj_to_proto(struct vault_obj *o, Mgr__Vault__Object *p)
{
	mgr__vault__object__init(p);
	p->key = o->key;
	p->size = o->size;
	p->etag = o->etag;
	p->modified_at = o->modified_at;
	p->version = o->version;
}

static mgr_err
check_key(struct rpc_call *call, const char *key)
{
	if (!vault_key_valid(key, strlen(key)))
		return (rpc_fail(call, MGR_EINVAL,
		    "an object key is 1 to %d bytes of UTF-8", VAULT_KEY_MAX));
	return (MGR_OK);
}

static const char *
caller_id(const struct rpc_call *call)
{
	return (call->caller->kind == MGR__CALLER__KIND__APP &&
	        call->caller->id != NULL ? call->caller->id : "");
}

mgr_err
vault_h_head(struct rpc_call *call, void *arg)
{
	Mgr__Vault__ObjectRef *in = NULL;
	Mgr__Vault__HeadReply out = MGR__VAULT__HEAD_REPLY__INIT;
	Mgr__Vault__Object po;
	struct vault_rec v;
	struct vault_obj o;
	char *data = NULL;
	mgr_err rv, orv = MGR_ENOTFOUND;

	(void)arg;
	if ((rv = rpc_args(call, &mgr__vault__object_ref__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	if (!vault_key_valid(in->key, strlen(in->key))) {
		/* The vault's errors come first, as for every object call. */
		if ((rv = vault_for_objects(call, in->vault, "object.read", &v)) ==
		    MGR_OK)
			rv = check_key(call, in->key);
		goto out;
	}
	/* One script: the vault, the object and (GET of a one-chunk object)
	 * its data, read for the owner only; the checks are those of
	 * vault_for_objects. If the inline read fails (e.g. the object data
	 * is gone) the reply just has no data and the caller reads with
	 * GetChunk as before. */
	if ((rv = vault_objects_precheck(call, in->vault, "object.read")) != MGR_OK)
		goto out;
	rv = vault_store_read(in->vault, in->key, strlen(in->key), caller_id(call),
	    in->with_data ? (int64_t)RPC_CHUNK_BYTES : 0, &v, &orv, &o, &data);
	if ((rv = vault_objects_postcheck(call, "object.read", rv, &v)) != MGR_OK)
		goto out;
	if (orv == MGR_ENOTFOUND) {
		rv = rpc_fail(call, orv, "no such object");
		goto out;
	}
	obj_to_proto(&o, &po);
	out.vault_id = v.id;
	out.object = &po;
	out.chunk_bytes = (uint32_t)o.chunk_bytes;
	if (data != NULL && o.size > 0 && o.size <= o.chunk_bytes) {
		out.has_data = 1;
		out.data.data = (uint8_t *)data;
		out.data.len = (size_t)o.size;
	}
	rv = rpc_reply(call, &out.base);
out:
	free(data);
	mgr__vault__object_ref__free_unpacked(in, NULL);
	return (rv);
}

mgr_err
vault_h_put_begin(struct rpc_call *call, void *arg)
{
	struct vault_svc *svc = arg;
	Mgr__Vault__PutBeginRequest *in = NULL;
	Mgr__Vault__PutBeginReply out = MGR__VAULT__PUT_BEGIN_REPLY__INIT;
	char upload_id[VAULT_VERSION_LEN + 1];
	struct vault_rec v;
	mgr_err rv;

	if ((rv = rpc_args(call, &mgr__vault__put_begin_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	if ((rv = vault_for_objects(call, in->vault, "object.write", &v)) != MGR_OK ||
	    (rv = check_key(call, in->key)) != MGR_OK)
		goto out;
	if (in->size > svc->max_object_bytes) {
		rv = rpc_fail(call, MGR_ETOOBIG, "an object is at most %lld bytes",
		    (long long)svc->max_object_bytes);
		goto out;
	}
	rv = vault_store_put_begin(&v, call->caller->id, in->key, strlen(in->key),
	    in->size < 0 ? -1 : in->size, svc->max_object_bytes, upload_id);
	if (rv == MGR_ETOOBIG) {
		rv = rpc_fail(call, rv, "the object would exceed the vault's quota "
		    "or the size limit");
		goto out;
	}
	if (rv != MGR_OK)
		goto out;
	out.vault_id = v.id;
	out.upload_id = upload_id;
	out.chunk_bytes = VAULT_CHUNK_BYTES;
	rv = rpc_reply(call, &out.base);
out:
	mgr__vault__put_begin_request__free_unpacked(in, NULL);
	return (rv);
}

mgr_err
vault_h_put_chunk(struct rpc_call *call, void *arg)
{
	Mgr__Vault__PutChunkRequest *in = NULL;
	mgr_err rv;

	(void)arg;
	if ((rv = rpc_args(call, &mgr__vault__put_chunk_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	if (in->data.len > RPC_CHUNK_BYTES) {
		rv = rpc_fail(call, MGR_EINVAL, "chunk over %u bytes", RPC_CHUNK_BYTES);
		goto out;
	}
	rv = vault_store_put_chunk(in->vault_id, in->upload_id, caller_id(call),
	    in->index, in->data.data, in->data.len);
	if (rv == MGR_ETOOBIG)
		rv = rpc_fail(call, rv, "the object would exceed the vault's quota "
		    "or the size limit");
out:
	mgr__vault__put_chunk_request__free_unpacked(in, NULL);
	return (rv);
}

static int
is_hex64(const char *s)
{
	return (strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64);
}

mgr_err
vault_h_put_commit(struct rpc_call *call, void *arg)
{
	Mgr__Vault__PutCommitRequest *in = NULL;
	Mgr__Vault__PutCommitReply out = MGR__VAULT__PUT_COMMIT_REPLY__INIT;
	Mgr__Vault__Object po;
	struct vault_obj o;
	struct op op;
	int created = 0;
	int64_t now = mgr_now_s();
	mgr_err rv;

	(void)arg;
	if ((rv = op_begin(&op, call, NULL,
	         &mgr__vault__put_commit_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	if (!is_hex64(in->sha256) || in->size < 0) {
		rv = rpc_fail(call, MGR_EINVAL, "bad size or checksum");
		goto out;
	}
	/* The reply the commit records: the object but its key, which the
	 * script adds (store.h). */
	mgr__vault__object__init(&po);
	po.size = in->size;
	po.etag = in->sha256;
	po.modified_at = now;
	po.version = in->upload_id;
	if ((rv = op_replay(&op, &po.base)) != MGR_OK)
		goto out;
	rv = vault_store_put_commit(in->vault_id, in->upload_id, caller_id(call),
	    in->size, in->sha256, now, &created, &o, &op.rp);
	if (rv == MGR_OK && op.rp.hit) {
		rv = op_replayed(&op);
		goto out;
	}
	/* The key stays out of the audit: it may say something about the data. */
	op.action = "object.put";
	snprintf(op.target, sizeof(op.target), "%s", in->vault_id);
	snprintf(op.detail, sizeof(op.detail), "size=%lld", (long long)in->size);
	if (rv == MGR_ETOOBIG) {
		rv = rpc_fail(call, rv, "the vault's quota would be exceeded");
		goto out;
	}
	if (rv != MGR_OK)
		goto out;
	obj_to_proto(&o, &po);
	out.object = &po;
	out.created = created;
	rv = rpc_reply(call, &out.base);
out:
	return (op_end(&op, rv));
}

mgr_err
vault_h_put_abort(struct rpc_call *call, void *arg)
{
	Mgr__Vault__PutAbortRequest *in = NULL;
	mgr_err rv;

	(void)arg;
	if ((rv = rpc_args(call, &mgr__vault__put_abort_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	rv = vault_store_put_abort(in->vault_id, in->upload_id, caller_id(call));
	mgr__vault__put_abort_request__free_unpacked(in, NULL);
	return (rv);
}

mgr_err
vault_h_get_chunk(struct rpc_call *call, void *arg)
{
	Mgr__Vault__GetChunkRequest *in = NULL;
	Mgr__Vault__GetChunkReply out = MGR__VAULT__GET_CHUNK_REPLY__INIT;
	char *data = NULL;
	int64_t off, len, cs;
	mgr_err rv;

	(void)arg;
	if ((rv = rpc_args(call, &mgr__vault__get_chunk_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	cs = in->chunk_bytes != 0 ? in->chunk_bytes : RPC_CHUNK_BYTES;
	off = (int64_t)in->index * cs;
	if (cs > (int64_t)RPC_CHUNK_BYTES || in->size < 0 || off >= in->size) {
		rv = rpc_fail(call, MGR_EINVAL, "no such chunk");
		goto out;
	}
	len = in->size - off < cs ? in->size - off : cs;
	rv = vault_store_get_chunk(in->vault_id, caller_id(call), in->version,
	    in->index, (size_t)len, &data);
	if (rv == MGR_ENOTFOUND)
		rv = rpc_fail(call, rv, "the object data is gone");
	else if (rv == MGR_EPERM)
		rv = rpc_fail(call, rv, "only the owner may read this vault");
	if (rv != MGR_OK)
		goto out;
	out.data.data = (uint8_t *)data;
	out.data.len = (size_t)len;
	rv = rpc_reply(call, &out.base);
out:
	free(data);
	mgr__vault__get_chunk_request__free_unpacked(in, NULL);
	return (rv);
}

mgr_err
vault_h_obj_delete(struct rpc_call *call, void *arg)
{
	Mgr__Vault__ObjectRef *in = NULL;
	struct vault_rec v;
	struct op op;
	int64_t size = 0;
	mgr_err rv;

	(void)arg;
	if ((rv = op_begin(&op, call, NULL, &mgr__vault__object_ref__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	if ((rv = vault_for_objects(call, in->vault, "object.delete", &v)) != MGR_OK ||
	    (rv = check_key(call, in->key)) != MGR_OK)
		goto out;
	if ((rv = replay_init(&op.rp, call)) != MGR_OK)
		goto out;
	rv = vault_store_obj_delete(&v, call->caller->id, in->key, strlen(in->key),
	    &size, &op.rp);
	if (rv == MGR_OK && op.rp.hit) {
		rv = op_replayed(&op);
		goto out;
	}
	if (rv == MGR_ENOTFOUND) {
		rv = rpc_fail(call, rv, "no such object");
		goto out;
	}
	op.action = "object.delete";
	snprintf(op.target, sizeof(op.target), "%s", v.id);
	snprintf(op.detail, sizeof(op.detail), "size=%lld", (long long)size);
out:
	return (op_end(&op, rv));
}

mgr_err
vault_h_obj_list(struct rpc_call *call, void *arg)
{
	Mgr__Vault__ListObjectsRequest *in = NULL;
	Mgr__Vault__ListObjectsReply out = MGR__VAULT__LIST_OBJECTS_REPLY__INIT;
	struct op_list l = {.items = NULL};
	struct vault_obj *o = NULL;
	struct vault_rec v;
	size_t n = 0;
	int more = 0;
	mgr_err rv;

	(void)arg;
	if ((rv = rpc_args(call, &mgr__vault__list_objects_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	if ((rv = vault_for_objects(call, in->vault, "object.list", &v)) != MGR_OK)
		goto out;
	if (strlen(in->prefix) > VAULT_KEY_MAX || strlen(in->after) > VAULT_KEY_MAX ||
	    !vault_utf8_valid(in->prefix, strlen(in->prefix)) ||
	    !vault_utf8_valid(in->after, strlen(in->after))) {
		rv = rpc_fail(call, MGR_EINVAL, "\"prefix\" and \"after\" are at most "
		    "%d bytes of UTF-8", VAULT_KEY_MAX);
		goto out;
	}
	if (in->limit == 0 || in->limit > VAULT_LIST_MAX) {
		rv = rpc_fail(call, MGR_EINVAL, "\"limit\" must be 1 to %d",
		    VAULT_LIST_MAX);
		goto out;
	}
	if ((rv = vault_store_obj_list(&v, in->prefix, in->after, in->limit, &o, &n,
	         &more)) != MGR_OK)
		goto out;
	if ((rv = op_list_alloc(&l, &mgr__vault__object__descriptor, n)) != MGR_OK)
		goto out;
	for (size_t i = 0; i < n; i++)
		obj_to_proto(&o[i], op_list_at(&l, i));
	out.n_objects = l.n;
	out.objects = (Mgr__Vault__Object **)l.ptrs;
	out.next_after = more && n > 0 ? o[n - 1].key : (char *)"";
	rv = rpc_reply(call, &out.base);
out:
	op_list_free(&l);
	free(o);
	mgr__vault__list_objects_request__free_unpacked(in, NULL);
	return (rv);
}
