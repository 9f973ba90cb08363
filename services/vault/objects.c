/* Object I/O, for the vault's owner only. Data moves in chunks of at most
 * RPC_CHUNK_BYTES (VAULT_CHUNK_BYTES for new uploads): see
 * proto/vault.proto. Every script checks the owner again. */
#include "services/vault/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/op.h"
#include "common/kv.h"
#include "common/log.h"
#include "proto/vault.pb-c.h"
#include "services/vault/chunks.h"

static void
obj_to_proto(struct vault_obj *o, Mgr__Vault__Object *p)
{
	mgr__vault__object__init(p);
	p->key = o->key;
	p->size = o->size;
	p->etag = o->etag;
	p->modified_at = o->modified_at;
	p->version = o->version;
	p->md5 = o->md5;
}

/* The headers of a write, packed for the store (*out NULL when none).
 * INVALID past VAULT_META_MAX or for a name that is not a header name. */
mgr_err
vault_meta_pack(struct rpc_call *call, Mgr__Vault__Header **h, size_t n, uint8_t **out,
    size_t *len)
{
	Mgr__Vault__Metadata m = MGR__VAULT__METADATA__INIT;
	size_t total = 0;

	*out = NULL;
	*len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(h[i]->name);

		if (nl == 0 || nl > 256 || strcspn(h[i]->name, "\r\n:\t ") != nl ||
		    strcspn(h[i]->value, "\r\n") != strlen(h[i]->value))
			return (rpc_fail(call, MGR_EINVAL, "bad metadata header"));
		total += nl + strlen(h[i]->value);
	}
	if (total > VAULT_META_MAX / 2)
		return (rpc_fail(call, MGR_EINVAL, "metadata over %d bytes",
		    VAULT_META_MAX / 2));
	if (n == 0)
		return (MGR_OK);
	m.n_headers = n;
	m.headers = h;
	*len = mgr__vault__metadata__get_packed_size(&m);
	if (*len > VAULT_META_MAX || (*out = malloc(*len)) == NULL)
		return (MGR_ENOMEM);
	mgr__vault__metadata__pack(&m, *out);
	return (MGR_OK);
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
	return (call->caller->kind == MGR__CALLER__KIND__APP && call->caller->id != NULL
	        ? call->caller->id
	        : "");
}

mgr_err
vault_h_head(struct rpc_call *call, void *arg)
{
	Mgr__Vault__ObjectRef *in = NULL;
	Mgr__Vault__HeadReply out = MGR__VAULT__HEAD_REPLY__INIT;
	Mgr__Vault__Object po;
	Mgr__Vault__Metadata *meta = NULL;
	Mgr__Vault__Segment *segs = NULL, **psegs = NULL;
	struct vault_seg *sg = NULL;
	size_t nseg = 0;
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
	if (o.meta != NULL &&
	    (meta = mgr__vault__metadata__unpack(NULL, o.meta_len, o.meta)) != NULL) {
		po.n_metadata = meta->n_headers;
		po.metadata = meta->headers;
	}
	out.vault_id = v.id;
	out.object = &po;
	out.chunk_bytes = (uint32_t)o.chunk_bytes;
	if (o.segs != NULL) {
		if ((rv = vault_segs_parse(o.segs, &sg, &nseg)) != MGR_OK ||
		    (nseg > 0 &&
		        ((segs = calloc(nseg, sizeof(*segs))) == NULL ||
		            (psegs = calloc(nseg, sizeof(*psegs))) == NULL))) {
			log_error(call->request_id,
			    "vault %s: bad segments of an "
			    "object",
			    v.id);
			rv = MGR_EINTERNAL;
			goto out;
		}
		for (size_t i = 0; i < nseg; i++) {
			mgr__vault__segment__init(&segs[i]);
			segs[i].blob = sg[i].blob;
			segs[i].first = sg[i].first;
			segs[i].count = sg[i].count;
			segs[i].chunk_bytes = sg[i].chunk_bytes;
			segs[i].size = sg[i].size;
			psegs[i] = &segs[i];
		}
		out.n_segments = nseg;
		out.segments = psegs;
		/* GET of a one-chunk object: its data in the same reply. */
		if (in->with_data && nseg == 1 && sg[0].count == 1 && o.size > 0 &&
		    o.size <= (int64_t)RPC_CHUNK_BYTES &&
		    (data = malloc((size_t)o.size)) != NULL &&
		    vault_chunk_read(v.id, sg[0].blob, sg[0].first, v.mirrored ? 2 : 1,
		        (uint8_t *)data, (size_t)o.size) != MGR_OK) {
			free(data);
			data = NULL;
		}
	}
	if (data != NULL && o.size > 0 && o.size <= (int64_t)RPC_CHUNK_BYTES) {
		out.has_data = 1;
		out.data.data = (uint8_t *)data;
		out.data.len = (size_t)o.size;
	}
	rv = rpc_reply(call, &out.base);
out:
	if (data != NULL)
		explicit_bzero(data, (size_t)(o.size > 0 ? o.size : 0));
	free(data);
	free(psegs);
	free(segs);
	free(sg);
	if (meta != NULL)
		mgr__vault__metadata__free_unpacked(meta, NULL);
	if (orv == MGR_OK)
		vault_obj_clear(&o);
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
	struct vault_cond cond;
	struct vault_rec v;
	uint8_t *meta = NULL;
	size_t meta_len = 0;
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
	if (strlen(in->if_match) > 64) {
		rv = rpc_fail(call, MGR_EINVAL, "bad If-Match");
		goto out;
	}
	if ((rv = vault_meta_pack(call, in->metadata, in->n_metadata, &meta,
	         &meta_len)) != MGR_OK)
		goto out;
	cond.if_match = in->if_match;
	cond.if_none_match = in->if_none_match;
	if (*in->multipart_upload_id != '\0') {
		/* A part of a multipart upload (multipart.c completes it). */
		if (in->part_number < 1 || in->part_number > VAULT_MP_PARTS_MAX) {
			rv = rpc_fail(call, MGR_EINVAL, "a part number is 1 to %d",
			    VAULT_MP_PARTS_MAX);
			goto out;
		}
		rv = vault_store_part_begin(&v, call->caller->id, in->key,
		    strlen(in->key), in->multipart_upload_id, in->part_number,
		    svc->max_object_bytes, upload_id);
		if (rv == MGR_ENOTFOUND) {
			rv = rpc_fail(call, rv, "NoSuchUpload: no such multipart upload");
			goto out;
		}
	} else
		rv = vault_store_put_begin(&v, call->caller->id, in->key, strlen(in->key),
		    in->size < 0 ? -1 : in->size, svc->max_object_bytes, 0, &cond, meta,
		    meta_len, upload_id);
	if (rv == MGR_ETOOBIG) {
		rv = rpc_fail(call, rv,
		    "the object would exceed the vault's quota "
		    "or the size limit");
		goto out;
	}
	if (rv == MGR_EPRECOND) {
		rv = rpc_fail(call, rv,
		    "the object does not meet the request's "
		    "conditions");
		goto out;
	}
	if (rv != MGR_OK)
		goto out;
	out.vault_id = v.id;
	out.upload_id = upload_id;
	out.chunk_bytes = VAULT_CHUNK_BYTES;
	rv = rpc_reply(call, &out.base);
out:
	free(meta);
	mgr__vault__put_begin_request__free_unpacked(in, NULL);
	return (rv);
}

mgr_err
vault_h_put_chunk(struct rpc_call *call, void *arg)
{
	Mgr__Vault__PutChunkRequest *in = NULL;
	struct vault_upload up;
	int created = 0, again = 0;
	mgr_err rv;

	(void)arg;
	if ((rv = rpc_args(call, &mgr__vault__put_chunk_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	if (in->data.len > RPC_CHUNK_BYTES) {
		rv = rpc_fail(call, MGR_EINVAL, "chunk over %u bytes", RPC_CHUNK_BYTES);
		goto out;
	}
	/* The upload's facts first (nothing is written for a refused chunk),
	 * then the file, then its record. */
	rv = vault_store_upload_info(in->vault_id, in->upload_id, caller_id(call), &up);
	if (rv == MGR_ENOTFOUND) {
		rv = rpc_fail(call, rv, "no such upload (expired?)");
		goto out;
	}
	if (rv == MGR_EPERM) {
		rv = rpc_fail(call, rv, "not your upload");
		goto out;
	}
	if (rv == MGR_ECONFLICT) {
		rv = rpc_fail(call, rv,
		    "an upload begun before an upgrade; send it "
		    "again");
		goto out;
	}
	if (rv != MGR_OK)
		goto out;
	/* A gateway from before chunk_bytes sends RPC_CHUNK_BYTES chunks in
	 * order: its chunk 0 sets the upload's chunk size (the record does). */
	if ((int64_t)in->data.len > up.chunk_bytes && in->index != 0) {
		rv = rpc_fail(call, MGR_EINVAL, "chunk over the chunk size");
		goto out;
	}
	if ((int64_t)in->index * up.chunk_bytes + (int64_t)in->data.len > up.limit) {
		rv = rpc_fail(call, MGR_ETOOBIG,
		    "the object would exceed the vault's "
		    "quota or the size limit");
		goto out;
	}
	rv = vault_chunk_write(in->vault_id, in->upload_id, in->index, up.copies,
	    in->data.data, in->data.len, &created);
	if (rv == MGR_EINVAL) {
		rv = rpc_fail(call, rv, "chunk sent again with other data");
		goto out;
	}
	if (rv != MGR_OK)
		goto out;
	rv = vault_store_chunk_record(in->vault_id, in->upload_id, caller_id(call),
	    in->index, in->data.len, &again);
	if (rv != MGR_OK && created)
		vault_chunk_unlink(in->vault_id, in->upload_id, in->index);
	if (rv == MGR_ETOOBIG)
		rv = rpc_fail(call, rv,
		    "the object would exceed the vault's quota "
		    "or the size limit");
	else if (rv == MGR_ENOTFOUND)
		rv = rpc_fail(call, rv, "no such upload (expired?)");
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
	struct vault_upload info;
	struct op op;
	int created = 0;
	int64_t now = mgr_now_s();
	mgr_err rv, up = MGR_ENOTFOUND;

	(void)arg;
	if ((rv = op_begin(&op, call, NULL, &mgr__vault__put_commit_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	if (!is_hex64(in->sha256) || in->size < 0 || strlen(in->md5) > 32) {
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
	po.md5 = in->md5;
	if ((rv = op_replay(&op, &po.base)) != MGR_OK)
		goto out;
	/* The chunk files' names are durable before the commit names them. */
	if ((up = vault_store_upload_info(in->vault_id, in->upload_id, caller_id(call),
	         &info)) == MGR_OK &&
	    (rv = vault_chunks_sync(in->vault_id, in->upload_id, info.copies)) != MGR_OK)
		goto out;
	rv = vault_store_put_commit(in->vault_id, in->upload_id, caller_id(call),
	    in->size, in->sha256, in->md5, now, in->commit_deadline_ms, &created, &o,
	    &op.rp);
	if (rv != MGR_OK && rv != MGR_EUNAVAIL && up == MGR_OK)
		/* A refused commit ended the upload: its files go now (the
		 * collector checks that nothing holds them). */
		vault_gc_blob_now(in->vault_id, in->upload_id);
	if (rv == MGR_OK && op.rp.hit) {
		rv = op_replayed(&op);
		goto out;
	}
	/* Audited from here on. The key stays out of the audit: it may say
	 * something about the data. */
	op.action = "object.put";
	snprintf(op.target, sizeof(op.target), "%s", in->vault_id);
	snprintf(op.detail, sizeof(op.detail), "size=%lld", (long long)in->size);
	if (rv == MGR_ETOOBIG) {
		rv = rpc_fail(call, rv, "the vault's quota would be exceeded");
		goto out;
	}
	if (rv == MGR_EPRECOND) {
		rv = rpc_fail(call, rv,
		    "the object does not meet the request's "
		    "conditions");
		goto out;
	}
	if (rv == MGR_ENOTFOUND && strstr(kv_last_error(), "NoSuchUpload") != NULL) {
		/* A part whose multipart upload was completed or aborted. */
		rv = rpc_fail(call, rv, "NoSuchUpload: no such multipart upload");
		goto out;
	}
	if (rv == MGR_EUNAVAIL && strncmp(kv_last_error(), "UNAVAIL late:", 13) == 0) {
		/* proto/vault.proto: this message says nothing changed. */
		rv = rpc_fail(call, rv,
		    "late: the commit came after its deadline; "
		    "nothing changed");
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
	if (rv == MGR_OK)
		vault_gc_blob_now(in->vault_id, in->upload_id);
	mgr__vault__put_abort_request__free_unpacked(in, NULL);
	return (rv);
}

mgr_err
vault_h_get_chunk(struct rpc_call *call, void *arg)
{
	Mgr__Vault__GetChunkRequest *in = NULL;
	Mgr__Vault__GetChunkReply out = MGR__VAULT__GET_CHUNK_REPLY__INIT;
	struct vault_rec v;
	char *data = NULL;
	int64_t off, len = 0, cs;
	mgr_err rv;

	(void)arg;
	if ((rv = rpc_args(call, &mgr__vault__get_chunk_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	if (*in->blob != '\0') {
		/* A chunk file: the vault's owner only. */
		len = in->length;
		if (len > (int64_t)RPC_CHUNK_BYTES) {
			rv = rpc_fail(call, MGR_EINVAL, "no such chunk");
			goto out;
		}
		if ((rv = vault_store_owner_of(in->vault_id, &v)) == MGR_ENOTFOUND) {
			rv = rpc_fail(call, rv, "no such vault");
			goto out;
		}
		if (rv != MGR_OK)
			goto out;
		if (strcmp(v.owner, caller_id(call)) != 0) {
			rv = rpc_fail(call, MGR_EPERM,
			    "only the owner may read this "
			    "vault");
			goto out;
		}
		if ((data = malloc(len > 0 ? (size_t)len : 1)) == NULL) {
			rv = MGR_ENOMEM;
			goto out;
		}
		rv = vault_chunk_read(in->vault_id, in->blob, in->chunk,
		    v.mirrored ? 2 : 1, (uint8_t *)data, (size_t)len);
		if (rv == MGR_ENOTFOUND)
			rv = rpc_fail(call, rv, "the object data is gone or damaged");
		if (rv != MGR_OK)
			goto out;
	} else {
		cs = in->chunk_bytes != 0 ? in->chunk_bytes : RPC_CHUNK_BYTES;
		off = (int64_t)in->index * cs;
		if (cs > (int64_t)RPC_CHUNK_BYTES || in->size < 0 || off >= in->size) {
			rv = rpc_fail(call, MGR_EINVAL, "no such chunk");
			goto out;
		}
		len = in->size - off < cs ? in->size - off : cs;
		rv = vault_store_get_chunk(in->vault_id, caller_id(call), in->version,
		    in->index, (size_t)len, &data);
		if (rv == MGR_ENOTFOUND &&
		    vault_store_owner_of(in->vault_id, &v) == MGR_OK &&
		    strcmp(v.owner, caller_id(call)) == 0 &&
		    (data = malloc(len > 0 ? (size_t)len : 1)) != NULL) {
			/* A gateway from before segments reading a single PUT's
			 * object (its blob is its version) by index. */
			rv = vault_chunk_read(in->vault_id, in->version, in->index,
			    v.mirrored ? 2 : 1, (uint8_t *)data, (size_t)len);
			if (rv != MGR_OK) {
				free(data);
				data = NULL;
			}
		}
		if (rv == MGR_ENOTFOUND)
			rv = rpc_fail(call, rv, "the object data is gone");
		else if (rv == MGR_EPERM)
			rv = rpc_fail(call, rv, "only the owner may read this vault");
		if (rv != MGR_OK)
			goto out;
	}
	out.data.data = (uint8_t *)data;
	out.data.len = (size_t)len;
	rv = rpc_reply(call, &out.base);
out:
	if (data != NULL)
		explicit_bzero(data, (size_t)len);
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
	rv = vault_store_obj_delete(&v, call->caller->id, in->key, strlen(in->key), &size,
	    &op.rp);
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
		rv = rpc_fail(call, MGR_EINVAL,
		    "\"prefix\" and \"after\" are at most "
		    "%d bytes of UTF-8",
		    VAULT_KEY_MAX);
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
