/* vault-svc's Redis state. Every multi-key change is one Lua script.
 *
 * Redis keys (vault-svc; see also common/keys.h). Keys of one vault carry its
 * id as a hash tag ({vlt_…}). Times are Unix seconds.
 *   vtpl:<id>                     hash  id, name, kind (vault|mirror),
 *                                       quota_bytes ("" for none), created_at
 *   vtpl:name:<name>              string  <id>   template names are unique
 *   vtpl:all                      zset  score created_at(ms), member <id>
 *   vtpl:default                  string  <id> of the default template (v2;
 *                                       absent: none), kind vault
 *   vault:name:<name>             string  <vault id>   the system-wide name claim
 *                                       (freed when the vault is deleted)
 *   vault:all                     zset  score created_at(ms), member <vault id>
 *   acct:{<account id>}:vaults    zset  score created_at(ms), member <vault id>
 *   vault:{<vid>}                 hash  id, name, owner_account_id,
 *                                       vault_template_id, mirror_template_id
 *                                       ("" for none), created_at,
 *                                       object_count, bytes_used,
 *                                       quota_bytes (effective: the smaller of
 *                                       both templates' quotas, "" for none),
 *                                       mirror ("1": two copies of every chunk)
 *                                       mirror ("1": two copies of every chunk),
 *                                       dk (the vault's data key, wrapped by
 *                                       the master key: crypt.h; made on the
 *                                       first write)
 *   vault:{<vid>}:objs            zset  score 0, member <object key>; listing
 *                                       is ZRANGEBYLEX (byte order)
 *   vault:{<vid>}:o:<key>         hash  the object's current version: key,
 *                                       size, etag (hex SHA-256), md5 (hex MD5,
 *                                       "" when unknown), modified_at, ver
 *                                       (version id), n (chunk count), cs
 *                                       (chunk size of its first segment),
 *                                       segs (where its data is, below), meta
 *                                       (packed mgr.vault.Metadata; absent:
 *                                       none). No segs: an object of the
 *                                       layout before v2, data in Redis (below),
 *                                       moved to files by migrate.c.
 *
 * Object data (v2) lives in chunk files (chunks.h), grouped in blobs: one
 * blob per write, named by its upload id. An object version is an ordered
 * list of chunk references, written compactly as segments (runs of chunks
 * of one blob), the `segs` field:
 *     "<blob>,<first>,<count>,<chunk bytes>,<size>;" ...
 * A single PUT is one segment; a composed object (multipart) one per part;
 * a copy the same list as its source. Composing and copying move no data:
 * they are one Lua commit of metadata.
 *   vault:{<vid>}:blobs           hash  blob -> references (segments of
 *                                       object versions, or of whatever else
 *                                       holds it, e.g. a multipart upload's
 *                                       parts). A blob that drops to 0 is
 *                                       deleted from here and added to :gc.
 *   vault:{<vid>}:gc              zset  score: Unix seconds when it became
 *                                       garbage (0: at once), member blob.
 *                                       The collector (gc.c) removes its files
 *                                       after MANAGER_VAULT_GC_GRACE_S (reads
 *                                       begun before the overwrite finish),
 *                                       checking again that it has no
 *                                       reference (a blob at 0 never gets one
 *                                       again: compose refuses it).
 *   vault:gc                      set   vault ids whose :gc is not empty
 *   vault:keks                    hash  master key id -> check value (crypt.h)
 *   vault:scrub                   string  "1" while a replica's scrub of
 *                                       every chunk holds its turn (gc.c;
 *                                       EX MANAGER_VAULT_SCRUB_INTERVAL_S)
 *   vault:{<vid>}:up:<upload id>  hash  an upload (a blob being written):
 *                                       owner, key, f ("1": chunks go to
 *                                       files), n (chunks so far), size (their
 *                                       bytes), limit (bytes allowed), copies,
 *                                       cs (chunk size), hi (highest chunk
 *                                       index + 1), c<i> (length of chunk i,
 *                                       per chunk received: they come in any
 *                                       order), im / inm (If-Match etag or "*",
 *                                       If-None-Match "1"), meta; TTL
 *                                       VAULT_UPLOAD_TTL_S, renewed by each
 *                                       chunk. While it exists the collector
 *                                       leaves the blob alone; a blob with
 *                                       neither an upload nor a reference is
 *                                       an orphan (a crash, an abort) and is
 *                                       collected.
 * Multipart uploads (S3's; multipart.c):
 *   vault:{<vid>}:mp:<id>         hash  an open multipart upload: owner, key,
 *                                       initiated, meta (as an object's).
 *                                       No TTL: it lasts until completed,
 *                                       aborted or its vault is deleted.
 *   vault:{<vid>}:mp:<id>:p       zset  its parts: score the part number,
 *                                       member "<number>|<size>|<md5>|
 *                                       <modified_at>|<segs>" (one segment,
 *                                       the part's blob). Each part holds one
 *                                       reference on its blob in :blobs, so
 *                                       the collector leaves it alone; a part
 *                                       uploaded again lets go of the old
 *                                       one's, an abort of all of them, a
 *                                       completion of those not listed (the
 *                                       object takes its own on the others).
 *   vault:{<vid>}:mps             zset  score 0, member "<key>\0<id>": the
 *                                       vault's open uploads, ZRANGEBYLEX
 *   A part is written as an object is (:up: with mp and pn set); its commit
 *   records the part instead of an object.
 * The layout before v2 (read, and moved to files on start by migrate.c):
 *   vault:{<vid>}:c:<ver>:<copy>:<i>  string  chunk i of version ver (cs
 *                                       bytes, the last shorter; an object
 *                                       without cs used RPC_CHUNK_BYTES).
 *
 * Durability: a chunk is acknowledged after its file is fdatasync'ed; a
 * commit first fsyncs the blob's directories (chunks.h), then runs its one
 * Lua script: a crash before the script leaves the old object (and an
 * orphan blob, collected), after it the new one.
 */
#ifndef MGR_VAULT_STORE_H
#define MGR_VAULT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/replay.h"
#include "common/rpc.h"
#include "common/util.h"

#define VAULT_NAME_MIN 3
#define VAULT_NAME_MAX 63
#define VAULT_KEY_MAX 1024
#define VAULT_TPL_NAME_MAX 128
#define VAULT_UPLOAD_TTL_S 3600
#define VAULT_LIST_MAX 1000  /* objects per LIST page */
#define VAULT_VERSION_LEN 32 /* hex of 128 random bits */
#define VAULT_MD5_MAX 40     /* 32 hex digits, "-", up to 10000 */
/* The chunk size of new uploads: just under RPC_CHUNK_BYTES, so that a chunk
 * with Redis's string header (sds) fits jemalloc's 1 MiB size class. A chunk
 * of exactly 1 MiB takes the next class up, 1.25 MiB: MEMORY USAGE of a
 * 1 MiB string is 1,310,768 bytes, of 1 MiB - 64 bytes 1,048,624. */
#define VAULT_CHUNK_BYTES (RPC_CHUNK_BYTES - 64)

struct vault_tpl {
	char id[MGR_ID_MAX];
	char name[VAULT_TPL_NAME_MAX + 1];
	char kind[8];
	int64_t quota; /* 0: none */
	int64_t created_at;
	int is_default; /* the default template (v2) */
};

struct vault_rec {
	char id[MGR_ID_MAX];
	char name[VAULT_NAME_MAX + 1];
	char owner[MGR_ID_MAX];
	char vtpl[MGR_ID_MAX];
	char mtpl[MGR_ID_MAX]; /* "" when not mirrored */
	int64_t created_at;
	int64_t object_count;
	int64_t bytes_used;
	int64_t quota; /* 0: none */
	int mirrored;
};

struct vault_obj {
	char key[VAULT_KEY_MAX + 1];
	int64_t size;
	char etag[65];
	char md5[VAULT_MD5_MAX + 1]; /* S3's ETag: hex MD5, or hex-N for a
	                              * multipart object; "" when unknown */
	int64_t modified_at;
	char version[VAULT_VERSION_LEN + 1];
	int64_t chunks;
	int64_t chunk_bytes; /* cs: every chunk but the last */
	/* Filled by vault_store_read and vault_store_obj_head only (NULL
	 * elsewhere); free them with vault_obj_clear. */
	char *segs;    /* NULL: the layout before v2 */
	uint8_t *meta; /* packed Mgr__Vault__Metadata */
	size_t meta_len;
};

/* Frees what vault_store_read / vault_store_obj_head allocated in o. */
void vault_obj_clear(struct vault_obj *o);

/* One segment of an object's `segs`. */
struct vault_seg {
	char blob[VAULT_VERSION_LEN + 1];
	uint32_t first;
	uint32_t count;
	uint32_t chunk_bytes;
	int64_t size;
};

/* Parses segs into *out (caller frees), *n of them. MGR_EINVAL when
 * malformed. */
mgr_err vault_segs_parse(const char *segs, struct vault_seg **out, size_t *n);
#define VAULT_META_MAX 8192 /* packed metadata of one object */

/* Lua helpers for scripts that change references (prepend to a script):
 *   segs_ref(kblobs, kgc, vid, segs, delta, now)
 * adds delta to the reference count of the blob of every segment of segs
 * (one per segment); a blob that drops to 0 leaves kblobs and joins kgc
 * (score now) and vault:gc.
 *   segs_held(kblobs, segs)
 * true when every blob of segs has a reference now (a compose or copy may
 * only name data that something still holds). */
#define VAULT_SEGS_LUA \
	"local function segs_ref(kb, kg, vid, segs, delta, now)\n" \
	"  for b in string.gmatch(segs, '([^,;]+),%d+,%d+,%d+,%d+;') do\n" \
	"    local n = redis.call('HINCRBY', kb, b, delta)\n" \
	"    if n <= 0 then\n" \
	"      redis.call('HDEL', kb, b)\n" \
	"      redis.call('ZADD', kg, now, b)\n" \
	"      redis.call('SADD', 'vault:gc', vid)\n" \
	"    end\n" \
	"  end\n" \
	"end\n" \
	"local function segs_held(kb, segs)\n" \
	"  for b in string.gmatch(segs, '([^,;]+),%d+,%d+,%d+,%d+;') do\n" \
	"    if redis.call('HEXISTS', kb, b) == 0 then return false end\n" \
	"  end\n" \
	"  return true\n" \
	"end\n"

/* The functions that commit take rp (common/replay.h): the script records
 * rp's reply with the commit, or commits nothing and sets rp->hit when the
 * request was done before (the caller answers with replay_answer). */

/* Templates. create: CONFLICT when the name is taken; t->is_default makes
 * it the default in the same step. */
mgr_err vault_store_tpl_create(const struct vault_tpl *t, struct replay *rp);
/* NOTFOUND for an unknown id. */
mgr_err vault_store_tpl_get(const char *id, struct vault_tpl *out);
/* By name: NOTFOUND for an unknown one. */
mgr_err vault_store_tpl_by_name(const char *name, struct vault_tpl *out);
/* The default template: NOTFOUND when there is none. */
mgr_err vault_store_tpl_default(struct vault_tpl *out);
/* on: template id becomes the default (the former one no longer is); off:
 * id stops being the default if it is. NOTFOUND for an unknown id, INVAL
 * (on) for a template of kind other than vault. */
mgr_err vault_store_tpl_set_default(const char *id, int on, struct replay *rp);
/* *out (caller frees) holds *n templates, oldest first: one page, as
 * vault_store_list. */
mgr_err vault_store_tpl_list(const char *after, size_t limit, struct vault_tpl **out,
    size_t *n, char *next, size_t nextlen);

/* Vaults. create claims the name (CONFLICT when taken). */
mgr_err vault_store_create(const struct vault_rec *v, struct replay *rp);
/* NOTFOUND for an unknown name. */
mgr_err vault_store_find(const char *name, struct vault_rec *out);
/* owner NULL: every vault; else that account's. One page (common/page.h)
 * after the cursor `after` ("" = from the start), limit 0 = the default;
 * next gets the cursor of the next page, "" after the last. Oldest first;
 * caller frees. INVALID for a malformed cursor. */
mgr_err vault_store_list(const char *owner, const char *after, size_t limit,
    struct vault_rec **out, size_t *n, char *next, size_t nextlen);
#define VAULT_CURSOR_MAX 96 /* a page cursor with its NUL */
/* The owner and mirror flag of vault vid into out (other fields unset). */
mgr_err vault_store_owner_of(const char *vid, struct vault_rec *out);
/* Deletes v if it has no object (CONFLICT otherwise); its open multipart
 * uploads are aborted with it. */
mgr_err vault_store_delete(const struct vault_rec *v, struct replay *rp);

/* Objects. owner is the caller, checked against the vault again inside each
 * script (PERM). Keys are byte strings of keylen bytes.
 *
 * Writing an object (what PutBegin/PutChunk/PutCommit do; multipart.c and
 * copy build on the same pieces):
 *   1. vault_store_put_begin: an upload record (its id names the blob).
 *   2. per chunk: vault_store_upload_info (owner, copies, chunk size, limit),
 *      vault_chunk_write (chunks.h: the file, sealed, fdatasync'ed), then
 *      vault_store_chunk_record (refused: vault_chunk_unlink what you made).
 *   3. vault_chunks_sync, then vault_store_put_commit: the blob becomes the
 *      object's one segment, or vault_store_put_abort.
 * A composed object (CompleteMultipartUpload) or a copy (CopyObject) is
 * vault_store_obj_compose with the segments of its parts or its source:
 * metadata only, one script. Something that must keep a blob alive while
 * it is not part of an object (a multipart upload's parts) holds a
 * reference with vault_store_blobs_ref (+1 per segment, -1 to let go) in
 * the same script that records it (VAULT_SEGS_LUA). */
mgr_err vault_store_obj_head(const struct vault_rec *v, const char *key, size_t keylen,
    struct vault_obj *out);
/* Conditions of a write, checked atomically at commit (and early at begin):
 * if_match "" none, "*" the object must exist, else its etag; if_none_match
 * the object must not exist. PRECOND when they fail. */
struct vault_cond {
	const char *if_match;
	int if_none_match;
};
/* Starts an upload. size is the declared length or -1; max the size limit;
 * chunk_bytes the blob's chunk size (0: VAULT_CHUNK_BYTES; at most
 * RPC_CHUNK_BYTES). TOOBIG when size is over the limit or the quota left;
 * PRECOND when cond (may be NULL) fails already. meta (meta_len bytes, may
 * be 0) is kept with the object. */
mgr_err vault_store_put_begin(const struct vault_rec *v, const char *owner,
    const char *key, size_t keylen, int64_t size, int64_t max, int64_t chunk_bytes,
    const struct vault_cond *cond, const uint8_t *meta, size_t meta_len,
    char upload_id[VAULT_VERSION_LEN + 1]);
struct vault_upload {
	int copies; /* 1, or 2 for a mirrored vault */
	int64_t chunk_bytes;
	int64_t limit; /* bytes the upload may have */
};
/* The upload's facts for a chunk write. NOTFOUND (gone or expired), PERM
 * (not the owner's), CONFLICT (an upload begun before v2). */
mgr_err vault_store_upload_info(const char *vid, const char *upload_id, const char *owner,
    struct vault_upload *out);
/* Records chunk index (len bytes, its file written) of the upload. Chunks
 * come in any order (several in flight); the same chunk recorded again with
 * the same length changes nothing (*again set). TOOBIG past the limit. */
mgr_err vault_store_chunk_record(const char *vid, const char *upload_id,
    const char *owner, uint32_t index, size_t len, int *again);
/* Makes the upload the object's current version: checks the chunks, the
 * conditions and the quota, switches the metadata, lets go of the old
 * version's blobs, updates the counters, all at once. A refused commit
 * ends the upload (its blob is garbage). deadline_ms (0: none): by the
 * Redis clock the commit happens before it or not at all (UNAVAIL after,
 * with kv_last_error() starting "UNAVAIL late:": then nothing changed).
 * On success *created says whether the key is new and out is the object
 * (neither set when rp->hit). rp's reply is the packed Object without its
 * key: the script completes the PutCommitReply. */
mgr_err vault_store_put_commit(const char *vid, const char *upload_id, const char *owner,
    int64_t size, const char *etag, const char *md5, int64_t now, int64_t deadline_ms,
    int *created, struct vault_obj *out, struct replay *rp);
/* Ends an upload; its blob becomes garbage (collected at once). */
mgr_err vault_store_put_abort(const char *vid, const char *upload_id, const char *owner);
/* Makes key an object of the given segments (each blob must be held:
 * CONFLICT otherwise, e.g. a source deleted meanwhile), size bytes with
 * etag/md5 and metadata, under cond, checking the quota; takes a reference
 * on every segment and lets go of the old version's. rp as for put_commit
 * (its reply: anything the caller wants recorded, e.g. the packed reply).
 * version gets the new version's id. */
mgr_err vault_store_obj_compose(const struct vault_rec *v, const char *owner,
    const char *key, size_t keylen, const char *segs, int64_t size, const char *etag,
    const char *md5, const uint8_t *meta, size_t meta_len, const struct vault_cond *cond,
    int64_t now, int *created, char version[VAULT_VERSION_LEN + 1], struct replay *rp);
/* Adds delta to the references of the blobs of segs (see VAULT_SEGS_LUA). */
mgr_err vault_store_blobs_ref(const char *vid, const char *segs, int delta);

/* The collector (gc.c). */
/* Up to max vault ids with garbage. *out (caller frees each and it). */
mgr_err vault_store_gc_vaults(char ***out, size_t *n, size_t max);
/* Up to max blobs of vid that became garbage at or before `before`. */
mgr_err vault_store_gc_due(const char *vid, int64_t before, size_t max, char ***out,
    size_t *n);
/* 1 in *ok when blob still has no reference (its files may go), else it
 * is dropped from :gc and *ok is 0. */
mgr_err vault_store_gc_claim(const char *vid, const char *blob, int *ok);
/* The blob's files are gone: drops it from :gc (and vid from vault:gc
 * when nothing is left). */
mgr_err vault_store_gc_done(const char *vid, const char *blob);
/* A blob found on disk: when it has neither a reference nor an upload it
 * becomes garbage at once (*orphan 1). */
mgr_err vault_store_gc_orphan(const char *vid, const char *blob, int *orphan);
/* The layout before v2: chunk index of version ver (expected length len):
 * copy 0, else copy 1 of a mirrored vault. A copy found missing or of the wrong length is rewritten
 * from the other, so reads heal a mirror. On success *data (caller frees)
 * holds len bytes. PERM when owner does not own the vault. */
mgr_err vault_store_get_chunk(const char *vid, const char *owner, const char *ver,
    uint32_t index, size_t len, char **data);
/* A small read in one script: the vault named `name` into *v (NOTFOUND: no
 * such vault), the object's metadata into *o (*obj_rv NOTFOUND: no such
 * object; free with vault_obj_clear) and, for an object of the layout before
 * v2 when owner is the vault's owner and the object is 1 to max_inline
 * bytes, its data as vault_store_get_chunk would read chunk 0 (*data,
 * caller frees; NULL when not read). */
mgr_err vault_store_read(const char *name, const char *key, size_t keylen,
    const char *owner, int64_t max_inline, struct vault_rec *v, mgr_err *obj_rv,
    struct vault_obj *o, char **data);
/* On success *size is the size of the deleted object (0 when rp->hit). */
mgr_err vault_store_obj_delete(const struct vault_rec *v, const char *owner,
    const char *key, size_t keylen, int64_t *size, struct replay *rp);
/* Up to limit objects with prefix after `after` (both may be ""), in key
 * byte order; *more when there are further ones. Caller frees *out. */
mgr_err vault_store_obj_list(const struct vault_rec *v, const char *prefix,
    const char *after, uint32_t limit, struct vault_obj **out, size_t *n, int *more);

/* Migration of the layout before v2 (migrate.c). Up to limit keys of vid's
 * objects after `after` (byte order) whose data is still in Redis; *out
 * (caller frees each and it); *next gets the last key looked at ("" when
 * done; at most VAULT_KEY_MAX bytes + NUL). */
mgr_err vault_store_legacy_keys(const char *vid, const char *after, size_t limit,
    char ***out, size_t *n, char *next, size_t nextlen);
/* Switches object key from its chunks in Redis (version oldver) to the
 * blob upload_id (written and synced): only if it is still that version
 * (*done 0 otherwise: overwritten or deleted meanwhile; the blob is
 * garbage). Keeps every other field; sets md5; drops the Redis chunks and
 * the upload. */
mgr_err vault_store_migrate_commit(const char *vid, const char *key, size_t keylen,
    const char *oldver, const char *upload_id, int64_t size, const char *md5, int *done);

/* Multipart uploads (layout above). Each checks the vault's owner, and the
 * upload's owner and key: NOTFOUND for an upload of another key or none. */
#define VAULT_MP_PARTS_MAX 10000            /* part numbers 1..10000 */
#define VAULT_MP_PART_MIN (5 * 1024 * 1024) /* every part but the last */
#define VAULT_MP_UPLOADS_MAX 10000          /* open uploads per vault */
#define VAULT_MP_ID_LEN VAULT_VERSION_LEN
/* A new upload for key, with the object's metadata, named id (given by the
 * caller, e.g. in rp's reply; "" : a random one, written back). CONFLICT
 * when the vault has VAULT_MP_UPLOADS_MAX open uploads. */
mgr_err vault_store_mp_create(const struct vault_rec *v, const char *owner,
    const char *key, size_t keylen, const uint8_t *meta, size_t meta_len, int64_t now,
    char id[VAULT_MP_ID_LEN + 1], struct replay *rp);
/* An upload (as vault_store_put_begin) of part `part` of upload mpid:
 * limited to max bytes and the quota left. */
mgr_err vault_store_part_begin(const struct vault_rec *v, const char *owner,
    const char *key, size_t keylen, const char *mpid, uint32_t part, int64_t max,
    char upload_id[VAULT_VERSION_LEN + 1]);
struct vault_part {
	uint32_t number;
	int64_t size;
	char md5[33];
	int64_t modified_at;
	char *segs;   /* its one segment */
	char *member; /* its member of :p, as stored */
};
void vault_parts_free(struct vault_part *p, size_t n);
/* The parts above `after`, at most limit (0: all), ascending; *more when
 * there are further ones; the upload's initiated time and metadata (*meta,
 * caller frees, NULL when none). */
mgr_err vault_store_mp_parts(const char *vid, const char *owner, const char *key,
    size_t keylen, const char *mpid, uint32_t after, uint32_t limit,
    struct vault_part **out, size_t *n, int *more, int64_t *initiated, uint8_t **meta,
    size_t *meta_len);
/* Makes key the object of parts (n of them, as vault_store_mp_parts read
 * them; CONFLICT when one changed meanwhile), size bytes with etag (hex
 * SHA-256) and md5 (the S3 ETag), the upload's metadata, under cond and
 * the quota; ends the upload, freeing the parts not listed. rp's reply is
 * completed with created (field 2) by the script. */
mgr_err vault_store_mp_complete(const struct vault_rec *v, const char *owner,
    const char *key, size_t keylen, const char *mpid,
    const struct vault_part *const *parts, size_t n, int64_t size, const char *etag,
    const char *md5, const struct vault_cond *cond, int64_t now,
    const char version[VAULT_VERSION_LEN + 1], int *created, struct replay *rp);
/* Ends the upload and frees its parts. */
mgr_err vault_store_mp_abort(const struct vault_rec *v, const char *owner,
    const char *key, size_t keylen, const char *mpid, struct replay *rp);
struct vault_mp {
	char key[VAULT_KEY_MAX + 1];
	char id[VAULT_MP_ID_LEN + 1];
	int64_t initiated;
};
/* Up to limit open uploads with prefix after (after_key, after_id) (""
 * from the start; after_id "" : after every upload of after_key). */
mgr_err vault_store_mp_list(const struct vault_rec *v, const char *prefix,
    const char *after_key, const char *after_id, uint32_t limit, struct vault_mp **out,
    size_t *n, int *more);

/* The rules for names and keys (rules.h), for every includer of this. */
#include "services/vault/rules.h"

#endif
