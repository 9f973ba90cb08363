/* Object data through the gateway, for every front (REST, S3): a PUT body
 * streamed to vault-svc in chunk RPCs, a GET body streamed back from them.
 * Bounded memory: at most GW_CHUNKS_IN_FLIGHT chunks (plus the one being
 * filled or sent) per request. */
#ifndef MGR_GATEWAY_OBJIO_H
#define MGR_GATEWAY_OBJIO_H

#include <stdint.h>

#include "gateway/gw.h"
#include "proto/vault.pb-c.h"

/* Chunk RPCs in flight per object request. The vault service stores chunks
 * in any order (it records which arrived and checks them all at commit). */
#define GW_CHUNKS_IN_FLIGHT 4

/* ---- PUT ---------------------------------------------------------------- */
struct gw_obj_put;

/* PutBegin with `in` (vault, key, size = declared length or -1, metadata,
 * conditions): the service's refusals (403/404/400/412/413) come from here.
 * On MGR_OK *out is the upload (free with gw_obj_put_free). */
mgr_err gw_obj_put_begin(struct gw_req *r, const Mgr__Vault__PutBeginRequest *in,
    struct gw_obj_put **out);
/* Takes the next bytes of the body (SHA-256 and MD5 as they pass). TOOBIG
 * past MANAGER_MAX_OBJECT_BYTES, INVALID past the declared length. */
mgr_err gw_obj_put_data(struct gw_req *r, struct gw_obj_put *p, const char *data,
    size_t len);
/* Bytes taken so far. */
int64_t gw_obj_put_size(const struct gw_obj_put *p);
/* The hex digests of the whole body (after the last gw_obj_put_data). */
mgr_err gw_obj_put_digests(struct gw_obj_put *p, char sha256[65], char md5[33]);
/* Sends what is left and commits. The commit has a deadline; without an
 * answer it is sent again (idempotent) until its outcome is known:
 * MGR_EUNAVAIL only when nothing changed; MGR_EINTERNAL when the outcome
 * stayed unknown (the backends were unreachable past the deadline). On
 * MGR_OK *out is the reply (free with
 * mgr__vault__put_commit_reply__free_unpacked). */
mgr_err gw_obj_put_commit(struct gw_req *r, struct gw_obj_put *p,
    Mgr__Vault__PutCommitReply **out);
/* Waits for chunks in flight, aborts the upload unless it was committed,
 * frees p. Accepts NULL. */
void gw_obj_put_free(struct gw_req *r, struct gw_obj_put *p);

/* ---- GET ---------------------------------------------------------------- */
/* A response streaming bytes [start, start + len) of the object h (a
 * HeadObject reply) describes; fetch: start reading now (GET), else only
 * when MHD asks (HEAD never does). */
mgr_err gw_obj_body(struct gw_req *r, const Mgr__Vault__HeadReply *h, int64_t start,
    int64_t len, int fetch, struct MHD_Response **out);
/* Feeds bytes [start, start + len) of the object h describes into the
 * upload p (a server-side copy: S3's CopyObject, UploadPartCopy), reading
 * ahead as a GET does; bounded memory. */
mgr_err gw_obj_copy(struct gw_req *r, const Mgr__Vault__HeadReply *h, int64_t start,
    int64_t len, struct gw_obj_put *p);

#endif
