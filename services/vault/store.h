/* vault-svc's Redis state. Every multi-key change is one Lua script.
 *
 * Redis keys (vault-svc; see also common/keys.h). Keys of one vault carry its
 * id as a hash tag ({vlt_…}). Times are Unix seconds.
 *   vtpl:<id>                     hash  id, name, kind (vault|mirror),
 *                                       quota_bytes ("" for none), created_at
 *   vtpl:name:<name>              string  <id>   template names are unique
 *   vtpl:all                      zset  score created_at(ms), member <id>
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
 *   vault:{<vid>}:objs            zset  score 0, member <object key>; listing
 *                                       is ZRANGEBYLEX (byte order)
 *   vault:{<vid>}:o:<key>         hash  key, size, etag (hex SHA-256), modified_at,
 *                                       ver (version id), n (chunk count), cs
 *                                       (chunk size; absent: RPC_CHUNK_BYTES,
 *                                       objects stored before it was recorded)
 *   vault:{<vid>}:c:<ver>:<copy>:<i>  string  chunk i (cs bytes, the last
 *                                       shorter) of version ver; copy 0, and
 *                                       copy 1 when mirrored
 *   vault:{<vid>}:up:<upload id>  hash  owner, key, n (chunks so far), size
 *                                       (their bytes), limit (bytes allowed),
 *                                       copies, cs (chunk size), hi (highest
 *                                       chunk index + 1),
 *                                       c<i> (length of chunk i, per chunk
 *                                       received: they come in any order); TTL
 *                                       VAULT_UPLOAD_TTL_S. Its chunks are
 *                                       staged as vault:{<vid>}:c:<upload id>:…
 *                                       with the same TTL; PutCommit checks
 *                                       that chunks 0..n-1 all came, persists
 *                                       them, makes <upload id> the object's ver
 *                                       and unlinks the old version's chunks.
 *   vault:{<vid>}:c:<upload id>:in  string  a chunk's data on its way in: set
 *                                       and consumed (renamed to copy 0, or
 *                                       deleted) in one MULTI, never seen
 *                                       outside it.
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
#define VAULT_LIST_MAX 1000     /* objects per LIST page */
#define VAULT_VERSION_LEN 32    /* hex of 128 random bits */
/* The chunk size of new uploads: just under RPC_CHUNK_BYTES, so that a chunk
 * with Redis's string header (sds) fits jemalloc's 1 MiB size class. A chunk
 * of exactly 1 MiB takes the next class up, 1.25 MiB: MEMORY USAGE of a
 * 1 MiB string is 1,310,768 bytes, of 1 MiB - 64 bytes 1,048,624. */
#define VAULT_CHUNK_BYTES (RPC_CHUNK_BYTES - 64)

struct vault_tpl {
	char id[MGR_ID_MAX];
	char name[VAULT_TPL_NAME_MAX + 1];
	char kind[8];
	int64_t quota;               /* 0: none */
	int64_t created_at;
};

struct vault_rec {
	char id[MGR_ID_MAX];
	char name[VAULT_NAME_MAX + 1];
	char owner[MGR_ID_MAX];
	char vtpl[MGR_ID_MAX];
	char mtpl[MGR_ID_MAX];       /* "" when not mirrored */
	int64_t created_at;
	int64_t object_count;
	int64_t bytes_used;
	int64_t quota;               /* 0: none */
	int mirrored;
};

struct vault_obj {
	char key[VAULT_KEY_MAX + 1];
	int64_t size;
	char etag[65];
	int64_t modified_at;
	char version[VAULT_VERSION_LEN + 1];
	int64_t chunks;
	int64_t chunk_bytes;         /* cs: every chunk but the last */
};

/* The functions that commit take rp (common/replay.h): the script records
 * rp's reply with the commit, or commits nothing and sets rp->hit when the
 * request was done before (the caller answers with replay_answer). */

/* Templates. create: CONFLICT when the name is taken. */
mgr_err vault_store_tpl_create(const struct vault_tpl *t, struct replay *rp);
mgr_err vault_store_tpl_get(const char *id, struct vault_tpl *out);
/* *out (caller frees) holds *n templates, oldest first: one page, as
 * vault_store_list. */
mgr_err vault_store_tpl_list(const char *after, size_t limit,
    struct vault_tpl **out, size_t *n, char *next, size_t nextlen);

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
#define VAULT_CURSOR_MAX 96     /* a page cursor with its NUL */
/* Deletes v if it has no object (CONFLICT otherwise). */
mgr_err vault_store_delete(const struct vault_rec *v, struct replay *rp);

/* Objects. owner is the caller, checked against the vault again inside each
 * script (PERM). Keys are byte strings of keylen bytes. */
mgr_err vault_store_obj_head(const struct vault_rec *v, const char *key,
    size_t keylen, struct vault_obj *out);
/* Starts an upload. size is the declared length or -1; max the size limit.
 * TOOBIG when size is over the limit or the quota left. */
mgr_err vault_store_put_begin(const struct vault_rec *v, const char *owner,
    const char *key, size_t keylen, int64_t size, int64_t max,
    char upload_id[VAULT_VERSION_LEN + 1]);
/* Chunks come in any order (several in flight); the same chunk sent again
 * (a resend after a replica died) with the same data is accepted and changes
 * nothing. The data goes to Redis as a plain argument, not through Lua. */
mgr_err vault_store_put_chunk(const char *vid, const char *upload_id,
    const char *owner, uint32_t index, const void *data, size_t len);
/* Makes the upload the object's current version: checks the quota, switches
 * the metadata, unlinks the old chunks, updates the counters, all at once.
 * On success *created says whether the key is new and out is the object
 * (neither set when rp->hit). rp's reply is the packed Object without its
 * key: the script completes the PutCommitReply. */
mgr_err vault_store_put_commit(const char *vid, const char *upload_id,
    const char *owner, int64_t size, const char *etag, int64_t now,
    int *created, struct vault_obj *out, struct replay *rp);
mgr_err vault_store_put_abort(const char *vid, const char *upload_id,
    const char *owner);
/* Chunk index of version ver (expected length len): copy 0, else copy 1 of a
 * mirrored vault. A copy found missing or of the wrong length is rewritten
 * from the other, so reads heal a mirror. On success *data (caller frees)
 * holds len bytes. PERM when owner does not own the vault. */
mgr_err vault_store_get_chunk(const char *vid, const char *owner,
    const char *ver, uint32_t index, size_t len, char **data);
/* A small read in one script: the vault named `name` into *v (NOTFOUND: no
 * such vault), the object's metadata into *o (*obj_rv NOTFOUND: no such
 * object) and, when owner is the vault's owner and the object is 1 to
 * max_inline bytes, its data as vault_store_get_chunk would read chunk 0
 * (*data, caller frees; NULL when not read). */
mgr_err vault_store_read(const char *name, const char *key, size_t keylen,
    const char *owner, int64_t max_inline, struct vault_rec *v,
    mgr_err *obj_rv, struct vault_obj *o, char **data);
/* On success *size is the size of the deleted object (0 when rp->hit). */
mgr_err vault_store_obj_delete(const struct vault_rec *v, const char *owner,
    const char *key, size_t keylen, int64_t *size, struct replay *rp);
/* Up to limit objects with prefix after `after` (both may be ""), in key
 * byte order; *more when there are further ones. Caller frees *out. */
mgr_err vault_store_obj_list(const struct vault_rec *v, const char *prefix,
    const char *after, uint32_t limit, struct vault_obj **out, size_t *n,
    int *more);

/* The rules for names and keys (rules.h), for every includer of this. */
#include "services/vault/rules.h"

#endif
