/* S3's multipart uploads, for the vault's owner only (store.h has the
 * layout). A part is an upload of its own (objects.c: PutBegin with the
 * multipart upload's id, PutChunk, PutCommit), recorded in the upload with
 * a reference on its blob; CompleteMultipart makes the object of the parts
 * listed by one metadata commit (their blobs become its segments: no data
 * is copied), AbortMultipart lets go of every part. Refusals with an S3
 * error of their own say its code first (proto/vault.proto). */
#include "services/vault/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "common/kv.h"
#include "common/log.h"
#include "common/op.h"
#include "common/util.h"
#include "services/vault/chunks.h"

#define MP_LIST_MAX 1000

static const char *
caller_id(const struct rpc_call *call)
{
	return (call->caller->kind == MGR__CALLER__KIND__APP && call->caller->id != NULL
	        ? call->caller->id
	        : "");
}

static mgr_err
check_key(struct rpc_call *call, const char *key)
{
	if (!vault_key_valid(key, strlen(key)))
		return (rpc_fail(call, MGR_EINVAL,
		    "an object key is 1 to %d bytes of UTF-8", VAULT_KEY_MAX));
	return (MGR_OK);
}

/* The store's refusals. The vault was found before, so NOTFOUND is the
 * upload's (S3 NoSuchUpload), also when the vault went meanwhile. */
static mgr_err
fail_store(struct rpc_call *call, mgr_err rv)
{
	if (rv == MGR_ENOTFOUND)
		return (rpc_fail(call, rv, "NoSuchUpload: no such multipart upload"));
	if (rv == MGR_EPERM)
		return (rpc_fail(call, rv, "only the owner may use this vault"));
	return (rv);
}

mgr_err
vault_h_mp_create(struct rpc_call *call, void *arg)
{
	Mgr__Vault__CreateMultipartRequest *in = NULL;
	Mgr__Vault__CreateMultipartReply out = MGR__VAULT__CREATE_MULTIPART_REPLY__INIT;
	char id[VAULT_MP_ID_LEN + 1];
	struct vault_rec v;
	uint8_t *meta = NULL;
	size_t meta_len = 0;
	struct op op;
	mgr_err rv;

	(void)arg;
	if ((rv = op_begin(&op, call, NULL,
	         &mgr__vault__create_multipart_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	if ((rv = vault_for_objects(call, in->vault, "object.write", &v)) != MGR_OK ||
	    (rv = check_key(call, in->key)) != MGR_OK)
		goto out;
	if ((rv = vault_meta_pack(call, in->metadata, in->n_metadata, &meta,
	         &meta_len)) != MGR_OK)
		goto out;
	/* The id is in the recorded reply: a resend answers the same one. */
	if (mgr_random_hex(VAULT_MP_ID_LEN / 2, id, sizeof(id)) != MGR_OK) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	out.vault_id = v.id;
	out.upload_id = id;
	if ((rv = op_replay(&op, &out.base)) != MGR_OK)
		goto out;
	rv = vault_store_mp_create(&v, caller_id(call), in->key, strlen(in->key), meta,
	    meta_len, mgr_now_s(), id, &op.rp);
	if (rv == MGR_OK && op.rp.hit) {
		rv = op_replayed(&op);
		goto out;
	}
	op.action = "object.multipart.create";
	snprintf(op.target, sizeof(op.target), "%s", v.id);
	if (rv == MGR_ECONFLICT) {
		rv = rpc_fail(call, rv,
		    "too many open multipart uploads in this "
		    "vault (at most %d)",
		    VAULT_MP_UPLOADS_MAX);
		goto out;
	}
	if (rv != MGR_OK) {
		rv = fail_store(call, rv);
		goto out;
	}
	snprintf(op.detail, sizeof(op.detail), "upload=%s", id);
	rv = rpc_reply(call, &out.base);
out:
	free(meta);
	return (op_end(&op, rv));
}

/* The SHA-256 of the parts' data, read back (and authenticated) chunk by
 * chunk; the MD5 of their binary MD5s. */
static mgr_err
digest_parts(const struct vault_rec *v, const struct vault_part *const *parts, size_t n,
    char sha_hex[65], char etag_md5[33])
{
	EVP_MD_CTX *sha = NULL, *md5 = NULL;
	unsigned char d[EVP_MAX_MD_SIZE], bin[16];
	unsigned int dl = 0;
	uint8_t *buf = NULL;
	struct vault_seg *sg = NULL;
	size_t nseg = 0;
	mgr_err rv = MGR_EINTERNAL;

	if ((sha = EVP_MD_CTX_new()) == NULL || (md5 = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(md5, EVP_md5(), NULL) != 1 ||
	    (buf = malloc(RPC_CHUNK_BYTES)) == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!mgr_hex_decode(parts[i]->md5, 16, bin) ||
		    EVP_DigestUpdate(md5, bin, 16) != 1)
			goto out;
		free(sg);
		sg = NULL;
		if ((rv = vault_segs_parse(parts[i]->segs, &sg, &nseg)) != MGR_OK)
			goto out;
		rv = MGR_EINTERNAL;
		for (size_t s = 0; s < nseg; s++) {
			int64_t left = sg[s].size;

			if (sg[s].chunk_bytes == 0 || sg[s].chunk_bytes > RPC_CHUNK_BYTES)
				goto out;
			for (uint32_t c = 0; c < sg[s].count; c++) {
				size_t len = left < (int64_t)sg[s].chunk_bytes
				    ? (size_t)left
				    : sg[s].chunk_bytes;

				if ((rv = vault_chunk_read(v->id, sg[s].blob,
				         sg[s].first + c, v->mirrored ? 2 : 1, buf,
				         len)) != MGR_OK)
					goto out;
				rv = MGR_EINTERNAL;
				if (EVP_DigestUpdate(sha, buf, len) != 1)
					goto out;
				left -= (int64_t)len;
			}
		}
	}
	if (EVP_DigestFinal_ex(sha, d, &dl) != 1 || dl != 32)
		goto out;
	mgr_hex_encode(d, 32, sha_hex);
	if (EVP_DigestFinal_ex(md5, d, &dl) != 1 || dl != 16)
		goto out;
	mgr_hex_encode(d, 16, etag_md5);
	rv = MGR_OK;
out:
	if (buf != NULL)
		explicit_bzero(buf, RPC_CHUNK_BYTES);
	free(buf);
	free(sg);
	EVP_MD_CTX_free(sha);
	EVP_MD_CTX_free(md5);
	return (rv);
}

static int
is_md5_hex(const char *s)
{
	if (strlen(s) != 32)
		return (0);
	for (size_t i = 0; i < 32; i++)
		if (mgr_hex_digit((unsigned char)s[i]) < 0)
			return (0);
	return (1);
}

/* The parts a CompleteMultipartUpload names: 1..VAULT_MP_PARTS_MAX of them,
 * numbers in range and strictly ascending. */
static mgr_err
check_part_list(struct rpc_call *call, const Mgr__Vault__CompleteMultipartRequest *in)
{
	if (in->n_parts == 0 || in->n_parts > VAULT_MP_PARTS_MAX)
		return (rpc_fail(call, MGR_EINVAL, "InvalidPart: 1 to %d parts",
		    VAULT_MP_PARTS_MAX));
	for (size_t i = 0; i < in->n_parts; i++) {
		uint32_t pn = in->parts[i]->part_number;

		if (pn < 1 || pn > VAULT_MP_PARTS_MAX)
			return (rpc_fail(call, MGR_EINVAL,
			    "InvalidPart: a part number "
			    "is 1 to %d",
			    VAULT_MP_PARTS_MAX));
		if (i > 0 && pn <= in->parts[i - 1]->part_number)
			return (rpc_fail(call, MGR_EINVAL,
			    "InvalidPartOrder: the parts "
			    "are not in ascending order"));
	}
	return (MGR_OK);
}

/* Matches the named parts against the uploaded ones (all, nall; both lists
 * ascend, so one walk does): use[i] is the upload of the i-th named part,
 * *size their sum. Every part but the last at least VAULT_MP_PART_MIN. */
static mgr_err
match_parts(struct rpc_call *call, const Mgr__Vault__CompleteMultipartRequest *in,
    const struct vault_part *all, size_t nall, const struct vault_part **use,
    int64_t *size)
{
	*size = 0;
	for (size_t i = 0, j = 0; i < in->n_parts; i++) {
		const Mgr__Vault__CompletePart *p = in->parts[i];

		while (j < nall && all[j].number < p->part_number)
			j++;
		if (j == nall || all[j].number != p->part_number ||
		    !is_md5_hex(p->etag) || strcasecmp(p->etag, all[j].md5) != 0)
			return (rpc_fail(call, MGR_EINVAL,
			    "InvalidPart: part %u was not "
			    "uploaded or its ETag does not match",
			    p->part_number));
		if (i + 1 < in->n_parts && all[j].size < VAULT_MP_PART_MIN)
			return (rpc_fail(call, MGR_EINVAL,
			    "EntityTooSmall: part %u is "
			    "under %d bytes and not the last",
			    p->part_number, VAULT_MP_PART_MIN));
		use[i] = &all[j];
		*size += all[j].size;
	}
	return (MGR_OK);
}

/* The refusal of the completing script's error. */
static mgr_err
fail_complete(struct rpc_call *call, mgr_err rv)
{
	switch (rv) {
	case MGR_ETOOBIG:
		return (rpc_fail(call, rv, "the vault's quota would be exceeded"));
	case MGR_EPRECOND:
		return (rpc_fail(call, rv,
		    "the object does not meet the request's "
		    "conditions"));
	case MGR_ECONFLICT:
		return (rpc_fail(call, MGR_EINVAL,
		    "InvalidPart: a part was uploaded "
		    "again while completing"));
	default:
		return (fail_store(call, rv));
	}
}

mgr_err
vault_h_mp_complete(struct rpc_call *call, void *arg)
{
	struct vault_svc *svc = arg;
	Mgr__Vault__CompleteMultipartRequest *in = NULL;
	Mgr__Vault__CompleteMultipartReply out =
	    MGR__VAULT__COMPLETE_MULTIPART_REPLY__INIT;
	Mgr__Vault__Object po;
	struct vault_part *all = NULL;
	const struct vault_part **use = NULL;
	size_t nall = 0;
	struct vault_rec v;
	struct vault_cond cond;
	char sha[65], md5[33], etag[VAULT_MD5_MAX + 1];
	char ver[VAULT_VERSION_LEN + 1];
	uint8_t *meta = NULL;
	size_t meta_len = 0;
	int64_t size = 0, initiated = 0, now = mgr_now_s();
	int more = 0, created = 0, hit = 0;
	struct op op;
	mgr_err rv;

	if ((rv = op_begin(&op, call, NULL,
	         &mgr__vault__complete_multipart_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	/* A resend after the commit finds no upload any more: record first. */
	if ((rv = op_lookup(&op, &hit)) != MGR_OK || hit)
		goto out;
	if ((rv = vault_for_objects(call, in->vault, "object.write", &v)) != MGR_OK ||
	    (rv = check_key(call, in->key)) != MGR_OK)
		goto out;
	if (strlen(in->if_match) > 64) {
		rv = rpc_fail(call, MGR_EINVAL, "bad If-Match");
		goto out;
	}
	if ((rv = check_part_list(call, in)) != MGR_OK)
		goto out;
	rv = vault_store_mp_parts(v.id, caller_id(call), in->key, strlen(in->key),
	    in->upload_id, 0, 0, &all, &nall, &more, &initiated, &meta, &meta_len);
	if (rv != MGR_OK) {
		rv = fail_store(call, rv);
		goto out;
	}
	if ((use = calloc(in->n_parts, sizeof(*use))) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	if ((rv = match_parts(call, in, all, nall, use, &size)) != MGR_OK)
		goto out;
	if (size > svc->max_object_bytes) {
		rv = rpc_fail(call, MGR_ETOOBIG,
		    "EntityTooLarge: an object is at "
		    "most %lld bytes",
		    (long long)svc->max_object_bytes);
		goto out;
	}
	if ((rv = digest_parts(&v, use, in->n_parts, sha, md5)) != MGR_OK) {
		log_error(call->request_id,
		    "vault %s: the parts of a multipart "
		    "upload could not be read back",
		    v.id);
		if (rv == MGR_ENOTFOUND)
			rv = rpc_fail(call, MGR_EINTERNAL,
			    "the data of a part is "
			    "gone or damaged");
		goto out;
	}
	snprintf(etag, sizeof(etag), "%s-%zu", md5, in->n_parts);
	if (mgr_random_hex(VAULT_VERSION_LEN / 2, ver, sizeof(ver)) != MGR_OK) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	/* The reply the commit records (the script adds created). */
	mgr__vault__object__init(&po);
	po.key = in->key;
	po.size = size;
	po.etag = sha;
	po.modified_at = now;
	po.version = ver;
	po.md5 = etag;
	out.object = &po;
	if ((rv = op_replay(&op, &out.base)) != MGR_OK)
		goto out;
	cond.if_match = in->if_match;
	cond.if_none_match = in->if_none_match;
	rv = vault_store_mp_complete(&v, caller_id(call), in->key, strlen(in->key),
	    in->upload_id, use, in->n_parts, size, sha, etag, &cond, now, ver, &created,
	    &op.rp);
	if (rv == MGR_OK && op.rp.hit) {
		rv = op_replayed(&op);
		goto out;
	}
	op.action = "object.multipart.complete";
	snprintf(op.target, sizeof(op.target), "%s", v.id);
	snprintf(op.detail, sizeof(op.detail), "size=%lld parts=%zu", (long long)size,
	    in->n_parts);
	if (rv != MGR_OK) {
		rv = fail_complete(call, rv);
		goto out;
	}
	out.created = created;
	rv = rpc_reply(call, &out.base);
out:
	free(meta);
	free(use);
	vault_parts_free(all, nall);
	return (op_end(&op, rv));
}

mgr_err
vault_h_mp_abort(struct rpc_call *call, void *arg)
{
	Mgr__Vault__MultipartRef *in = NULL;
	Mgr__Vault__MultipartRef out = MGR__VAULT__MULTIPART_REF__INIT;
	struct vault_part *all = NULL;
	size_t nall = 0;
	struct vault_rec v;
	uint8_t *meta = NULL;
	size_t meta_len = 0;
	int64_t initiated = 0;
	int more = 0;
	struct op op;
	mgr_err rv;

	(void)arg;
	if ((rv = op_begin(&op, call, NULL, &mgr__vault__multipart_ref__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		goto out;
	if ((rv = vault_for_objects(call, in->vault, "object.write", &v)) != MGR_OK ||
	    (rv = check_key(call, in->key)) != MGR_OK)
		goto out;
	/* The parts' blobs, freed at once once the abort committed. */
	rv = vault_store_mp_parts(v.id, caller_id(call), in->key, strlen(in->key),
	    in->upload_id, 0, 0, &all, &nall, &more, &initiated, &meta, &meta_len);
	if (rv != MGR_OK && rv != MGR_ENOTFOUND)
		goto out;
	if ((rv = op_replay(&op, &out.base)) != MGR_OK)
		goto out;
	rv = vault_store_mp_abort(&v, caller_id(call), in->key, strlen(in->key),
	    in->upload_id, &op.rp);
	if (rv == MGR_OK && op.rp.hit) {
		rv = op_replayed(&op);
		goto out;
	}
	op.action = "object.multipart.abort";
	snprintf(op.target, sizeof(op.target), "%s", v.id);
	if (rv != MGR_OK) {
		rv = fail_store(call, rv);
		goto out;
	}
	for (size_t i = 0; i < nall; i++) {
		struct vault_seg *sg = NULL;
		size_t nseg = 0;

		if (vault_segs_parse(all[i].segs, &sg, &nseg) == MGR_OK)
			for (size_t s = 0; s < nseg; s++)
				vault_gc_blob_now(v.id, sg[s].blob);
		free(sg);
	}
	rv = rpc_reply(call, &out.base);
out:
	free(meta);
	vault_parts_free(all, nall);
	return (op_end(&op, rv));
}

mgr_err
vault_h_mp_parts(struct rpc_call *call, void *arg)
{
	Mgr__Vault__ListPartsRequest *in = NULL;
	Mgr__Vault__ListPartsReply out = MGR__VAULT__LIST_PARTS_REPLY__INIT;
	Mgr__Vault__Metadata *md = NULL;
	struct vault_part *all = NULL;
	size_t nall = 0;
	struct op_list l = {0};
	struct vault_rec v;
	uint8_t *meta = NULL;
	size_t meta_len = 0;
	int64_t initiated = 0;
	uint32_t limit;
	int more = 0;
	mgr_err rv;

	(void)arg;
	if ((rv = rpc_args(call, &mgr__vault__list_parts_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	if ((rv = vault_for_objects(call, in->vault, "object.read", &v)) != MGR_OK ||
	    (rv = check_key(call, in->key)) != MGR_OK)
		goto out;
	limit = in->limit == 0 || in->limit > MP_LIST_MAX ? MP_LIST_MAX : in->limit;
	rv = vault_store_mp_parts(v.id, caller_id(call), in->key, strlen(in->key),
	    in->upload_id, in->after, limit, &all, &nall, &more, &initiated, &meta,
	    &meta_len);
	if (rv != MGR_OK) {
		rv = fail_store(call, rv);
		goto out;
	}
	if ((rv = op_list_alloc(&l, &mgr__vault__part__descriptor, nall)) != MGR_OK)
		goto out;
	for (size_t i = 0; i < nall; i++) {
		Mgr__Vault__Part *p = op_list_at(&l, i);

		p->part_number = all[i].number;
		p->size = all[i].size;
		p->md5 = all[i].md5;
		p->modified_at = all[i].modified_at;
	}
	out.n_parts = nall;
	out.parts = (Mgr__Vault__Part **)l.ptrs;
	out.next_after = more && nall > 0 ? all[nall - 1].number : 0;
	out.initiated = initiated;
	if (meta != NULL &&
	    (md = mgr__vault__metadata__unpack(NULL, meta_len, meta)) != NULL) {
		out.n_metadata = md->n_headers;
		out.metadata = md->headers;
	}
	rv = rpc_reply(call, &out.base);
out:
	if (md != NULL)
		mgr__vault__metadata__free_unpacked(md, NULL);
	op_list_free(&l);
	free(meta);
	vault_parts_free(all, nall);
	mgr__vault__list_parts_request__free_unpacked(in, NULL);
	return (rv);
}

mgr_err
vault_h_mp_uploads(struct rpc_call *call, void *arg)
{
	Mgr__Vault__ListUploadsRequest *in = NULL;
	Mgr__Vault__ListUploadsReply out = MGR__VAULT__LIST_UPLOADS_REPLY__INIT;
	struct vault_mp *m = NULL;
	struct op_list l = {0};
	struct vault_rec v;
	size_t n = 0;
	uint32_t limit;
	int more = 0;
	mgr_err rv;

	(void)arg;
	if ((rv = rpc_args(call, &mgr__vault__list_uploads_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	if ((rv = vault_for_objects(call, in->vault, "object.read", &v)) != MGR_OK)
		goto out;
	limit = in->limit == 0 || in->limit > MP_LIST_MAX ? MP_LIST_MAX : in->limit;
	rv = vault_store_mp_list(&v, in->prefix, in->after_key, in->after_upload_id,
	    limit, &m, &n, &more);
	if (rv == MGR_EINVAL) {
		rv = rpc_fail(call, rv, "bad prefix or marker");
		goto out;
	}
	if (rv != MGR_OK)
		goto out;
	if ((rv = op_list_alloc(&l, &mgr__vault__upload__descriptor, n)) != MGR_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		Mgr__Vault__Upload *u = op_list_at(&l, i);

		u->key = m[i].key;
		u->upload_id = m[i].id;
		u->initiated = m[i].initiated;
	}
	out.n_uploads = n;
	out.uploads = (Mgr__Vault__Upload **)l.ptrs;
	out.truncated = more;
	rv = rpc_reply(call, &out.base);
out:
	op_list_free(&l);
	free(m);
	mgr__vault__list_uploads_request__free_unpacked(in, NULL);
	return (rv);
}
