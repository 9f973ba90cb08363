/* vault-svc's background work: the collector of blobs nothing refers to,
 * the orphan scan, the scrub of every stored chunk, the migration of
 * objects of the layout before v2, and the re-wrap of data keys after a
 * master key rotation.
 *
 * The collector cannot race a live upload: a blob is removed only when
 * Redis says, atomically, that it has no reference and no upload record (an
 * upload's record exists from PutBegin until its commit or abort, renewed by
 * every chunk); a blob that has dropped to no reference never gets one
 * again (compose refuses it). The parts of an open multipart upload hold
 * references (store.h), so they stay until the upload is completed (the
 * object then holds the parts it uses), aborted, or its vault deleted, each
 * of which lets go of them in the script that ends the upload. Several replicas may collect at once: removing
 * files is idempotent. */
#include "services/vault/handlers.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/kv.h"
#include "common/log.h"
#include "common/svc.h"
#include "services/vault/chunks.h"
#include "services/vault/crypt.h"

#define GC_BATCH 64

static void
free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

/* Removes one blob that became garbage, if it still has no reference. */
static int
collect_one(const char *vid, const char *blob)
{
	int ok = 0;

	if (vault_store_gc_claim(vid, blob, &ok) != MGR_OK || !ok)
		return (0);
	if (vault_chunks_remove(vid, blob) != MGR_OK) {
		log_warn(NULL,
		    "vault %s: blob %s not fully removed; tried again "
		    "later",
		    vid, blob);
		return (0);
	}
	(void)vault_store_gc_done(vid, blob);
	return (1);
}

void
vault_gc_blob_now(const char *vid, const char *blob)
{
	int orphan = 0;

	if (vault_store_gc_orphan(vid, blob, &orphan) == MGR_OK && orphan)
		(void)collect_one(vid, blob);
}

/* Blobs whose grace has passed, in every vault with garbage. */
static size_t
gc_pass(const struct vault_svc *s)
{
	char **vids = NULL, **blobs = NULL;
	size_t nv = 0, nb = 0, done = 0;
	int64_t before = mgr_now_s() - s->gc_grace_s;

	if (vault_store_gc_vaults(&vids, &nv, GC_BATCH) != MGR_OK)
		return (0);
	for (size_t i = 0; i < nv; i++) {
		if (vault_store_gc_due(vids[i], before, GC_BATCH, &blobs, &nb) != MGR_OK)
			continue;
		for (size_t j = 0; j < nb; j++)
			done += (size_t)collect_one(vids[i], blobs[j]);
		if (nb == 0)
			(void)vault_store_gc_done(vids[i], "");
		free_list(blobs, nb);
		blobs = NULL;
	}
	free_list(vids, nv);
	if (done > 0)
		log_info(NULL, "collector: removed the files of %zu blob(s)", done);
	return (done);
}

static int
is_blob_name(const char *s)
{
	return (strlen(s) == VAULT_VERSION_LEN &&
	    strspn(s, "0123456789abcdef") == VAULT_VERSION_LEN);
}

/* A chunk's temporary file lives for one write (chunks.c: written,
 * fdatasync'ed, linked); one older than this was left by a process that
 * died in the write, inside a blob that may well be committed since (the
 * gateway resends the chunk to another process). */
#define TMP_AGE_S 120
/* Blob directories changed this long ago or less are looked into for such
 * files, besides all of them at the first scan after a start. */
#define TMP_WINDOW_S (2 * 86400)

static int
is_tmp_name(const char *s)
{
	size_t n = strlen(s);

	return (n > 4 && strcmp(s + n - 4, ".tmp") == 0);
}

/* Removes the stale temporary files of one blob directory. */
static size_t
sweep_tmp(const char *bdir, int64_t now)
{
	char path[MGR_PATH_MAX + 900];
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	if ((d = opendir(bdir)) == NULL)
		return (0);
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (!is_tmp_name(e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", bdir, e->d_name);
		if (stat(path, &st) == 0 && now - (int64_t)st.st_mtime >= TMP_AGE_S &&
		    unlink(path) == 0)
			n++;
	}
	closedir(d);
	return (n);
}

/* Blob directories on disk (either root) that Redis knows nothing of: the
 * remains of an upload that died, or of a crash before a commit. Only
 * directories untouched for the grace period are looked at. In the others,
 * temporary files left by a write that died (all directories at the first
 * scan, then those changed in TMP_WINDOW_S, so that a scan does not read
 * every chunk name each time). */
static size_t
orphan_scan(const struct vault_svc *s, volatile int *stop, int first)
{
	char vdir[MGR_PATH_MAX + 300], bdir[MGR_PATH_MAX + 600];
	int64_t now = mgr_now_s();
	size_t found = 0, tmps = 0;

	for (int c = 0; c < 2 && !*stop; c++) {
		DIR *root = opendir(vault_chunks_root(c));
		struct dirent *v;

		if (root == NULL)
			continue;
		while (!*stop && (v = readdir(root)) != NULL) {
			DIR *d;
			struct dirent *b;

			if (v->d_name[0] == '.')
				continue;
			snprintf(vdir, sizeof(vdir), "%s/%s", vault_chunks_root(c),
			    v->d_name);
			if ((d = opendir(vdir)) == NULL)
				continue;
			while ((b = readdir(d)) != NULL) {
				struct stat st;
				int orphan = 0;

				if (!is_blob_name(b->d_name))
					continue;
				snprintf(bdir, sizeof(bdir), "%s/%s", vdir, b->d_name);
				if (stat(bdir, &st) != 0)
					continue;
				if (now - (int64_t)st.st_mtime >= TMP_AGE_S &&
				    (first ||
				        now - (int64_t)st.st_mtime <
				            TMP_WINDOW_S + TMP_AGE_S))
					tmps += sweep_tmp(bdir, now);
				if (now - (int64_t)st.st_mtime < s->gc_grace_s)
					continue;
				if (vault_store_gc_orphan(v->d_name, b->d_name,
				        &orphan) == MGR_OK &&
				    orphan) {
					found++;
					(void)collect_one(v->d_name, b->d_name);
				}
			}
			closedir(d);
		}
		closedir(root);
	}
	if (found > 0)
		log_info(NULL, "collector: %zu orphaned blob(s) found and removed",
		    found);
	if (tmps > 0)
		log_info(NULL,
		    "collector: %zu temporary chunk file(s) of writes "
		    "that died removed",
		    tmps);
	return (found);
}

/* ---- migration of the layout before v2 ---------------------------------- */

/* Moves one object's data from Redis to a blob; 1 when moved. */
static int
migrate_one(const struct vault_rec *v, const char *key)
{
	struct vault_obj o;
	struct vault_upload up;
	char uid[VAULT_VERSION_LEN + 1], md5hex[33], shahex[65];
	unsigned char md[EVP_MAX_MD_SIZE], sd[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, sdlen = 0;
	EVP_MD_CTX *m5 = NULL, *sh = NULL;
	int done = 0, moved = 0, again = 0;
	int64_t off = 0;
	uint32_t idx = 0;
	mgr_err rv;

	if (vault_store_obj_head(v, key, strlen(key), &o) != MGR_OK)
		return (0);
	if (o.segs != NULL) {
		vault_obj_clear(&o);
		return (0);
	}
	/* An upload of the same key by its owner: the collector leaves the
	 * blob alone while it is written. */
	if ((rv = vault_store_put_begin(v, v->owner, key, strlen(key), o.size, o.size,
	         o.chunk_bytes, NULL, NULL, 0, uid)) != MGR_OK ||
	    (rv = vault_store_upload_info(v->id, uid, v->owner, &up)) != MGR_OK) {
		log_warn(NULL, "vault %s: migration of an object not begun: %s", v->id,
		    mgr_strerror(rv));
		goto out;
	}
	if ((m5 = EVP_MD_CTX_new()) == NULL || (sh = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(m5, EVP_md5(), NULL) != 1 ||
	    EVP_DigestInit_ex(sh, EVP_sha256(), NULL) != 1)
		goto fail;
	/* The blob keeps the old chunk size (at most RPC_CHUNK_BYTES). */
	for (uint32_t i = 0; off < o.size; i++) {
		int64_t len = o.size - off < o.chunk_bytes ? o.size - off : o.chunk_bytes;
		char *data = NULL;

		if (len > up.chunk_bytes)
			goto fail;
		if ((rv = vault_store_get_chunk(v->id, v->owner, o.version, i,
		         (size_t)len, &data)) != MGR_OK) {
			log_error(NULL,
			    "vault %s: an object's chunk %u is gone from "
			    "Redis; left as it is",
			    v->id, i);
			goto fail;
		}
		EVP_DigestUpdate(m5, data, (size_t)len);
		EVP_DigestUpdate(sh, data, (size_t)len);
		rv = vault_chunk_write(v->id, uid, idx, up.copies, data, (size_t)len,
		    NULL);
		free(data);
		if (rv != MGR_OK ||
		    (rv = vault_store_chunk_record(v->id, uid, v->owner, idx, (size_t)len,
		         &again)) != MGR_OK)
			goto fail;
		idx++;
		off += len;
	}
	EVP_DigestFinal_ex(m5, md, &mdlen);
	EVP_DigestFinal_ex(sh, sd, &sdlen);
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(md5hex + 2 * i, 3, "%02x", md[i]);
	for (unsigned int i = 0; i < sdlen; i++)
		snprintf(shahex + 2 * i, 3, "%02x", sd[i]);
	if (strcmp(shahex, o.etag) != 0) {
		log_error(NULL,
		    "vault %s: an object's data in Redis does not match "
		    "its etag; left as it is",
		    v->id);
		goto fail;
	}
	if (vault_chunks_sync(v->id, uid, up.copies) != MGR_OK ||
	    vault_store_migrate_commit(v->id, key, strlen(key), o.version, uid, o.size,
	        md5hex, &done) != MGR_OK)
		goto fail;
	moved = done;
	if (!done)
		vault_gc_blob_now(v->id, uid);
	goto out;
fail:
	(void)vault_store_put_abort(v->id, uid, v->owner);
	vault_gc_blob_now(v->id, uid);
out:
	EVP_MD_CTX_free(m5);
	EVP_MD_CTX_free(sh);
	vault_obj_clear(&o);
	return (moved);
}

/* One pass over every vault; resumable (each object moves in its own
 * commit) and idempotent (a moved object is skipped). */
static void
migrate_all(volatile int *stop)
{
	const char *zr[] = {"ZRANGE", "vault:all", "0", "-1"};
	redisReply *ids = NULL;
	size_t moved = 0, seen = 0;

	if (kv_cmdargv(&ids, 4, zr, NULL) != MGR_OK)
		return;
	for (size_t i = 0; !*stop && ids->type == REDIS_REPLY_ARRAY && i < ids->elements;
	     i++) {
		char next[VAULT_KEY_MAX + 1] = "", after[VAULT_KEY_MAX + 1] = "";
		struct vault_rec v;

		if (ids->element[i]->str == NULL ||
		    vault_store_owner_of(ids->element[i]->str, &v) != MGR_OK)
			continue;
		do {
			char **keys = NULL;
			size_t n = 0;

			if (vault_store_legacy_keys(v.id, after, 200, &keys, &n, next,
			        sizeof(next)) != MGR_OK)
				break;
			for (size_t k = 0; k < n && !*stop; k++) {
				if (seen++ == 0)
					log_info(NULL,
					    "migration: moving objects stored in "
					    "Redis to files");
				moved += (size_t)migrate_one(&v, keys[k]);
			}
			free_list(keys, n);
			snprintf(after, sizeof(after), "%s", next);
		} while (*next != '\0' && !*stop);
	}
	freeReplyObject(ids);
	if (seen > 0)
		log_info(NULL, "migration: %zu of %zu object(s) moved to files%s", moved,
		    seen,
		    moved < seen ? " (the others are retried at the next start "
		                   "or pass)"
		                 : "");
}


/* ---- scrub -------------------------------------------------------------- */

/* Reads every chunk of every object's current version, both copies of a
 * mirrored vault, and authenticates it: a copy that is damaged or missing
 * is logged (chunks.c) and rewritten from the good one; a chunk with no
 * good copy is logged as an error. Reads that would find the damage anyway
 * repair only what they touch; this finds it in data nobody reads. */
static void
scrub_vault(const struct vault_rec *v, volatile int *stop, size_t *objs, size_t *chunks,
    size_t *bad)
{
	char after[VAULT_KEY_MAX + 1] = "";
	int more = 1;

	while (more && !*stop) {
		struct vault_obj *l = NULL;
		size_t n = 0;

		if (vault_store_obj_list(v, "", after, 200, &l, &n, &more) != MGR_OK)
			return;
		for (size_t i = 0; i < n && !*stop; i++) {
			struct vault_obj o;
			struct vault_seg *sg = NULL;
			size_t ns = 0;

			snprintf(after, sizeof(after), "%s", l[i].key);
			if (vault_store_obj_head(v, l[i].key, strlen(l[i].key), &o) !=
			    MGR_OK)
				continue;
			if (o.segs != NULL &&
			    vault_segs_parse(o.segs, &sg, &ns) == MGR_OK) {
				(*objs)++;
				for (size_t j = 0; j < ns && !*stop; j++) {
					int64_t last;
					int b = 0;

					if (sg[j].count == 0)
						continue;
					last = sg[j].size -
					    (int64_t)(sg[j].count - 1) *
					        sg[j].chunk_bytes;
					if (last <= 0 || last > sg[j].chunk_bytes)
						continue;
					if (vault_chunks_scrub(v->id, sg[j].blob,
					        sg[j].first, sg[j].count,
					        sg[j].chunk_bytes, (uint32_t)last,
					        v->mirrored ? 2 : 1, &b) == MGR_OK) {
						*chunks += sg[j].count;
						*bad += (size_t)b;
					}
				}
			}
			free(sg);
			vault_obj_clear(&o);
		}
		free(l);
	}
}

/* One scrub of every vault, by one replica per interval (a Redis lock that
 * expires with the interval). */
static void
scrub_all(const struct vault_svc *s, volatile int *stop)
{
	const char *zr[] = {"ZRANGE", "vault:all", "0", "-1"};
	char ex[24];
	const char *lock[] = {"SET", "vault:scrub", "1", "NX", "EX", ex};
	redisReply *ids = NULL, *r = NULL;
	size_t objs = 0, chunks = 0, bad = 0;
	int64_t t0 = mgr_now_s();

	snprintf(ex, sizeof(ex), "%lld", (long long)s->scrub_interval_s);
	if (kv_cmdargv(&r, 6, lock, NULL) != MGR_OK)
		return;
	if (r->type != REDIS_REPLY_STATUS) {
		freeReplyObject(r);
		return; /* another replica scrubs this time */
	}
	freeReplyObject(r);
	if (kv_cmdargv(&ids, 4, zr, NULL) != MGR_OK)
		return;
	for (size_t i = 0; !*stop && ids->type == REDIS_REPLY_ARRAY && i < ids->elements;
	     i++) {
		struct vault_rec v;

		if (ids->element[i]->str != NULL &&
		    vault_store_owner_of(ids->element[i]->str, &v) == MGR_OK)
			scrub_vault(&v, stop, &objs, &chunks, &bad);
	}
	freeReplyObject(ids);
	if (bad > 0)
		log_warn(NULL,
		    "scrub: %zu object(s), %zu chunk(s) checked in %llds; "
		    "%zu damaged or missing chunk copies found, rewritten from the "
		    "other copy where it was good (the lines above name them)",
		    objs, chunks, (long long)(mgr_now_s() - t0), bad);
	else
		log_info(NULL,
		    "scrub: %zu object(s), %zu chunk(s) checked in %llds; "
		    "all intact",
		    objs, chunks, (long long)(mgr_now_s() - t0));
}

void
vault_background(void *state, volatile int *stop)
{
	const struct vault_svc *s = state;
	size_t left = 0;
	int64_t next_scrub = mgr_now_s() + s->scrub_interval_s;

	migrate_all(stop);
	for (unsigned pass = 0; !*stop; pass++) {
		gc_pass(s);
		if (pass % 5 == 0)
			orphan_scan(s, stop, pass == 0);
		if (s->scrub_interval_s > 0 && mgr_now_s() >= next_scrub) {
			scrub_all(s, stop);
			next_scrub = mgr_now_s() + s->scrub_interval_s;
		}
		if (vault_crypt_rewrap_pass(1000, &left) != MGR_OK)
			log_warn(NULL, "re-wrap of data keys: Redis unavailable");
		if (pass % 60 == 59)
			migrate_all(stop);
		svc_sleep(stop, (int)s->gc_interval_s * 1000);
	}
}
