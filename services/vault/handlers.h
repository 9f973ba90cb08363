/* vault-svc RPC handlers; each takes the struct vault_svc as arg. */
#ifndef MGR_VAULT_HANDLERS_H
#define MGR_VAULT_HANDLERS_H

#include <stdint.h>

#include "common/rpc.h"
#include "proto/vault.pb-c.h"
#include "services/vault/store.h"

struct vault_svc {
	int64_t max_object_bytes; /* MANAGER_MAX_OBJECT_BYTES */
	int64_t gc_interval_s;    /* MANAGER_VAULT_GC_INTERVAL_S */
	int64_t gc_grace_s;       /* MANAGER_VAULT_GC_GRACE_S */
	int64_t scrub_interval_s; /* MANAGER_VAULT_SCRUB_INTERVAL_S (0: none) */
};

extern const struct rpc_method vault_methods[];

/* templates.c (administrator only) */
mgr_err vault_h_tpl_create(struct rpc_call *call, void *arg);
mgr_err vault_h_tpl_list(struct rpc_call *call, void *arg);
mgr_err vault_h_tpl_update(struct rpc_call *call, void *arg);

/* vaults.c */
mgr_err vault_h_create(struct rpc_call *call, void *arg);
mgr_err vault_h_list(struct rpc_call *call, void *arg);
mgr_err vault_h_get(struct rpc_call *call, void *arg);
mgr_err vault_h_delete(struct rpc_call *call, void *arg);
mgr_err vault_h_update(struct rpc_call *call, void *arg);
/* The vault named `name` for object I/O by the caller: administrators and
 * other accounts get PERM (audited as `action`), unknown names NOTFOUND. */
mgr_err vault_for_objects(struct rpc_call *call, const char *name, const char *action,
    struct vault_rec *out);
/* vault_for_objects in two halves around a lookup done elsewhere: the
 * checks on the caller alone, then those on the lookup's result (find_rv,
 * and v when MGR_OK). */
mgr_err vault_objects_precheck(struct rpc_call *call, const char *name,
    const char *action);
mgr_err vault_objects_postcheck(struct rpc_call *call, const char *action,
    mgr_err find_rv, const struct vault_rec *v);

/* objects.c (the vault's owner only) */
mgr_err vault_h_head(struct rpc_call *call, void *arg);
mgr_err vault_h_put_begin(struct rpc_call *call, void *arg);
mgr_err vault_h_put_chunk(struct rpc_call *call, void *arg);
mgr_err vault_h_put_commit(struct rpc_call *call, void *arg);
mgr_err vault_h_put_abort(struct rpc_call *call, void *arg);
mgr_err vault_h_get_chunk(struct rpc_call *call, void *arg);
mgr_err vault_h_obj_delete(struct rpc_call *call, void *arg);
mgr_err vault_h_obj_list(struct rpc_call *call, void *arg);

/* The headers of a write, packed for the store (*out NULL when none; caller
 * frees). INVALID past VAULT_META_MAX or for a name that is not a header
 * name. */
mgr_err vault_meta_pack(struct rpc_call *call, Mgr__Vault__Header **h, size_t n,
    uint8_t **out, size_t *len);

/* multipart.c (the vault's owner only): S3's multipart uploads. The parts
 * are written with PutBegin (multipart_upload_id, part_number), PutChunk
 * and PutCommit (objects.c). */
mgr_err vault_h_mp_create(struct rpc_call *call, void *arg);
mgr_err vault_h_mp_complete(struct rpc_call *call, void *arg);
mgr_err vault_h_mp_abort(struct rpc_call *call, void *arg);
mgr_err vault_h_mp_parts(struct rpc_call *call, void *arg);
mgr_err vault_h_mp_uploads(struct rpc_call *call, void *arg);

/* gc.c: the background loop (collector, scrubber, migration, re-wrap). */
void vault_background(void *state, volatile int *stop);
/* Removes the files of a blob that has neither a reference nor an upload
 * (a refused or aborted upload) now; does nothing otherwise. */
void vault_gc_blob_now(const char *vid, const char *blob);

#endif
