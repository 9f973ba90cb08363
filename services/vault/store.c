/* vault-svc's Redis state (layout in store.h). */
#include "services/vault/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/kv.h"
#include "common/page.h"
#include "common/rpc.h"

#define KEY_BUF (VAULT_KEY_MAX + 128)

/* Template fields, in this order everywhere. */
#define TPL_FIELDS "id", "name", "kind", "quota_bytes", "created_at"
/* Vault fields, in this order everywhere. */
#define VAULT_FIELDS \
	"id", "name", "owner_account_id", "vault_template_id", "mirror_template_id", \
	    "created_at", "object_count", "bytes_used", "quota_bytes", "mirror"

static mgr_err kfmt(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static mgr_err
kfmt(char *out, size_t outlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, outlen, fmt, ap);
	va_end(ap);
	return (n < 0 || (size_t)n >= outlen ? MGR_EINVAL : MGR_OK);
}

/* prefix followed by the bytes of key: an object's Redis key. */
static mgr_err
kobj(char *out, size_t outlen, size_t *olen, const char *prefix, const char *key,
    size_t keylen)
{
	size_t p = strlen(prefix);

	if (p + keylen + 1 > outlen)
		return (MGR_EINVAL);
	memcpy(out, prefix, p);
	memcpy(out + p, key, keylen);
	out[p + keylen] = '\0';
	*olen = p + keylen;
	return (MGR_OK);
}

static const char *
el(const redisReply *r, size_t i)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || i >= r->elements ||
	    r->element[i]->type != REDIS_REPLY_STRING)
		return ("");
	return (r->element[i]->str);
}

static int64_t
el_i64(const redisReply *r, size_t i)
{
	int64_t v;

	if (r != NULL && r->type == REDIS_REPLY_ARRAY && i < r->elements &&
	    r->element[i]->type == REDIS_REPLY_INTEGER)
		return (r->element[i]->integer);
	return (mgr_parse_i64(el(r, i), &v) == MGR_OK ? v : 0);
}

static void
copy_str(char *dst, size_t dstlen, const char *src)
{
	snprintf(dst, dstlen, "%s", src);
}

static void
tpl_from(const redisReply *r, struct vault_tpl *t)
{
	memset(t, 0, sizeof(*t));
	copy_str(t->id, sizeof(t->id), el(r, 0));
	copy_str(t->name, sizeof(t->name), el(r, 1));
	copy_str(t->kind, sizeof(t->kind), el(r, 2));
	t->quota = el_i64(r, 3);
	t->created_at = el_i64(r, 4);
}

static void
vault_from(const redisReply *r, struct vault_rec *v)
{
	memset(v, 0, sizeof(*v));
	copy_str(v->id, sizeof(v->id), el(r, 0));
	copy_str(v->name, sizeof(v->name), el(r, 1));
	copy_str(v->owner, sizeof(v->owner), el(r, 2));
	copy_str(v->vtpl, sizeof(v->vtpl), el(r, 3));
	copy_str(v->mtpl, sizeof(v->mtpl), el(r, 4));
	v->created_at = el_i64(r, 5);
	v->object_count = el_i64(r, 6);
	v->bytes_used = el_i64(r, 7);
	v->quota = el_i64(r, 8);
	v->mirrored = strcmp(el(r, 9), "1") == 0;
}

/* ---- templates ---------------------------------------------------------- */

/* clang-format off */
static const char lua_tpl_create[] =
    REPLAY_LUA
    REPLAY_LUA_GUARD(7)
    "if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then\n"
    "  return redis.error_reply('CONFLICT a template with this name exists')\n"
    "end\n"
    "redis.call('HSET', KEYS[2], 'id', ARGV[1], 'name', ARGV[2], 'kind', ARGV[3],\n"
    "  'quota_bytes', ARGV[4], 'created_at', ARGV[5])\n"
    "redis.call('ZADD', KEYS[3], ARGV[6], ARGV[1])\n"
    "if ARGV[9] == '1' then redis.call('SET', KEYS[4], ARGV[1]) end\n"
    "replay_save(ARGV[7], ARGV[8])\n"
    "return 1\n";
/* clang-format on */

mgr_err
vault_store_tpl_create(const struct vault_tpl *t, struct replay *rp)
{
	char kname[VAULT_TPL_NAME_MAX + 32], khash[MGR_ID_MAX + 16];
	char quota[24], created[24], ms[24];
	const char *argv[13];
	size_t lens[13];
	redisReply *r = NULL;
	mgr_err rv;

	if ((rv = kfmt(kname, sizeof(kname), "vtpl:name:%s", t->name)) != MGR_OK ||
	    (rv = kfmt(khash, sizeof(khash), "vtpl:%s", t->id)) != MGR_OK)
		return (rv);
	if (t->quota > 0)
		snprintf(quota, sizeof(quota), "%lld", (long long)t->quota);
	else
		quota[0] = '\0';
	snprintf(created, sizeof(created), "%lld", (long long)t->created_at);
	snprintf(ms, sizeof(ms), "%lld", (long long)mgr_now_ms());
	argv[0] = kname;
	argv[1] = khash;
	argv[2] = "vtpl:all";
	argv[3] = "vtpl:default";
	argv[4] = t->id;
	argv[5] = t->name;
	argv[6] = t->kind;
	argv[7] = quota;
	argv[8] = created;
	argv[9] = ms;
	argv[10] = rp->key;
	argv[11] = (const char *)rp->reply;
	argv[12] = t->is_default ? "1" : "0";
	replay_argvlen(rp, 13, argv, lens);
	if ((rv = kv_eval(&r, lua_tpl_create, 4, 13, argv, lens)) != MGR_OK)
		return (rv);
	rp->hit = replay_signalled(r);
	freeReplyObject(r);
	return (MGR_OK);
}

/* The id of the default template into id ("" for none). */
static mgr_err
tpl_default_id(char *id, size_t idlen)
{
	const char *argv[] = {"GET", "vtpl:default"};
	redisReply *r = NULL;
	mgr_err rv;

	if ((rv = kv_cmdargv(&r, 2, argv, NULL)) != MGR_OK)
		return (rv);
	copy_str(id, idlen, r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
	return (MGR_OK);
}

mgr_err
vault_store_tpl_get(const char *id, struct vault_tpl *out)
{
	const char *argv[] = {"HMGET", NULL, TPL_FIELDS};
	char key[MGR_ID_MAX + 16], def[MGR_ID_MAX];
	redisReply *r = NULL;
	mgr_err rv;

	if (*id == '\0' || strlen(id) >= MGR_ID_MAX)
		return (MGR_ENOTFOUND);
	if ((rv = kfmt(key, sizeof(key), "vtpl:%s", id)) != MGR_OK)
		return (rv);
	argv[1] = key;
	if ((rv = kv_cmdargv(&r, sizeof(argv) / sizeof(argv[0]), argv, NULL)) != MGR_OK)
		return (rv);
	if (*el(r, 0) == '\0') {
		freeReplyObject(r);
		return (MGR_ENOTFOUND);
	}
	tpl_from(r, out);
	freeReplyObject(r);
	if ((rv = tpl_default_id(def, sizeof(def))) != MGR_OK)
		return (rv);
	out->is_default = strcmp(def, out->id) == 0;
	return (MGR_OK);
}

mgr_err
vault_store_tpl_by_name(const char *name, struct vault_tpl *out)
{
	const char *argv[] = {"GET", NULL};
	char key[VAULT_TPL_NAME_MAX + 32], id[MGR_ID_MAX];
	redisReply *r = NULL;
	mgr_err rv;

	if (*name == '\0' || kfmt(key, sizeof(key), "vtpl:name:%s", name) != MGR_OK)
		return (MGR_ENOTFOUND);
	argv[1] = key;
	if ((rv = kv_cmdargv(&r, 2, argv, NULL)) != MGR_OK)
		return (rv);
	copy_str(id, sizeof(id), r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
	return (vault_store_tpl_get(id, out));
}

mgr_err
vault_store_tpl_default(struct vault_tpl *out)
{
	char id[MGR_ID_MAX];
	mgr_err rv;

	if ((rv = tpl_default_id(id, sizeof(id))) != MGR_OK)
		return (rv);
	return (vault_store_tpl_get(id, out));
}

/* KEYS[1] the template's hash, KEYS[2] vtpl:default; ARGV[1] its id,
 * ARGV[2] "1" on / "0" off, ARGV[3..4] the replay record. */
/* clang-format off */
static const char lua_tpl_set_default[] =
    REPLAY_LUA
    REPLAY_LUA_GUARD(3)
    "local kind = redis.call('HGET', KEYS[1], 'kind')\n"
    "if not kind then\n"
    "  return redis.error_reply('NOTFOUND no such template')\n"
    "end\n"
    "if ARGV[2] == '1' then\n"
    "  if kind ~= 'vault' then\n"
    "    return redis.error_reply('INVALID only a template of kind vault may be the default')\n"
    "  end\n"
    "  redis.call('SET', KEYS[2], ARGV[1])\n"
    "elseif redis.call('GET', KEYS[2]) == ARGV[1] then\n"
    "  redis.call('DEL', KEYS[2])\n"
    "end\n"
    "replay_save(ARGV[3], ARGV[4])\n"
    "return 1\n";
/* clang-format on */

mgr_err
vault_store_tpl_set_default(const char *id, int on, struct replay *rp)
{
	char khash[MGR_ID_MAX + 16];
	const char *argv[6];
	size_t lens[6];
	redisReply *r = NULL;
	mgr_err rv;

	if (*id == '\0' || strlen(id) >= MGR_ID_MAX)
		return (MGR_ENOTFOUND);
	if ((rv = kfmt(khash, sizeof(khash), "vtpl:%s", id)) != MGR_OK)
		return (rv);
	argv[0] = khash;
	argv[1] = "vtpl:default";
	argv[2] = id;
	argv[3] = on ? "1" : "0";
	argv[4] = rp->key;
	argv[5] = (const char *)rp->reply;
	replay_argvlen(rp, 6, argv, lens);
	if ((rv = kv_eval(&r, lua_tpl_set_default, 2, 6, argv, lens)) != MGR_OK)
		return (rv);
	rp->hit = replay_signalled(r);
	freeReplyObject(r);
	return (MGR_OK);
}

/* One page of the members of a zset in (score, member) order (common/page.h;
 * ARGV[1] cursor, ARGV[2] limit): {next cursor or "", hash, ...}, each hash
 * ARGV[3] .. member .. ARGV[4] as the array of the fields ARGV[5..]. */
/* clang-format off */
static const char lua_hashes_of[] =
    MGR_PAGE_LUA
    "local ids, nxt = page_ids(KEYS[1], ARGV[1], tonumber(ARGV[2]))\n"
    "if not ids then return " MGR_PAGE_LUA_BAD " end\n"
    "local fields = {}\n"
    "for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end\n"
    "local out = {nxt}\n"
    "for _, id in ipairs(ids) do\n"
    "  local f = redis.call('HMGET', ARGV[3] .. id .. ARGV[4], unpack(fields))\n"
    "  if f[1] then out[#out + 1] = f end\n"
    "end\n"
    "return out\n";
/* clang-format on */

/* *out: the reply of lua_hashes_of (element 0 the next cursor). */
static mgr_err
hashes_of(const char *zset, const char *after, size_t limit, const char *prefix,
    const char *suffix, const char *const *fields, int nfields, redisReply **out)
{
	const char *argv[17];
	char lim[24];
	redisReply *r = NULL;
	mgr_err rv;

	if (nfields > 12)
		return (MGR_EINVAL);
	if (limit == 0 || limit > MGR_PAGE_MAX)
		limit = limit == 0 ? MGR_PAGE_DEFAULT : MGR_PAGE_MAX;
	snprintf(lim, sizeof(lim), "%zu", limit);
	argv[0] = zset;
	argv[1] = after;
	argv[2] = lim;
	argv[3] = prefix;
	argv[4] = suffix;
	for (int i = 0; i < nfields; i++)
		argv[5 + i] = fields[i];
	if ((rv = kv_eval(&r, lua_hashes_of, 1, 5 + nfields, argv, NULL)) != MGR_OK)
		return (rv);
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	    r->element[0]->type != REDIS_REPLY_STRING) {
		freeReplyObject(r);
		return (MGR_EINTERNAL);
	}
	*out = r;
	return (MGR_OK);
}

mgr_err
vault_store_tpl_list(const char *after, size_t limit, struct vault_tpl **out, size_t *n,
    char *next, size_t nextlen)
{
	static const char *const fields[] = {TPL_FIELDS};
	struct vault_tpl *t = NULL;
	char def[MGR_ID_MAX];
	redisReply *r = NULL;
	size_t k = 0;
	mgr_err rv;

	if ((rv = hashes_of("vtpl:all", after, limit, "vtpl:", "", fields, 5, &r)) !=
	    MGR_OK)
		return (rv);
	if (r->element[0]->len >= nextlen) {
		freeReplyObject(r);
		return (MGR_EINTERNAL);
	}
	if (r->elements > 1 && (t = calloc(r->elements - 1, sizeof(*t))) == NULL) {
		freeReplyObject(r);
		return (MGR_ENOMEM);
	}
	for (size_t i = 1; i < r->elements; i++)
		tpl_from(r->element[i], &t[k++]);
	copy_str(next, nextlen, r->element[0]->str);
	freeReplyObject(r);
	if ((rv = tpl_default_id(def, sizeof(def))) != MGR_OK) {
		free(t);
		return (rv);
	}
	for (size_t i = 0; i < k; i++)
		t[i].is_default = strcmp(t[i].id, def) == 0;
	*n = k;
	*out = t;
	return (MGR_OK);
}

/* ---- vaults ------------------------------------------------------------- */

/* clang-format off */
static const char lua_vault_create[] =
    REPLAY_LUA
    REPLAY_LUA_GUARD(10)
    "if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then\n"
    "  return redis.error_reply('CONFLICT a vault with this name exists')\n"
    "end\n"
    "redis.call('HSET', KEYS[2], 'id', ARGV[1], 'name', ARGV[2],\n"
    "  'owner_account_id', ARGV[3], 'vault_template_id', ARGV[4],\n"
    "  'mirror_template_id', ARGV[5], 'created_at', ARGV[6],\n"
    "  'object_count', 0, 'bytes_used', 0, 'quota_bytes', ARGV[7],\n"
    "  'mirror', ARGV[8])\n"
    "redis.call('ZADD', KEYS[3], ARGV[9], ARGV[1])\n"
    "redis.call('ZADD', KEYS[4], ARGV[9], ARGV[1])\n"
    "replay_save(ARGV[10], ARGV[11])\n"
    "return 1\n";
/* clang-format on */

mgr_err
vault_store_create(const struct vault_rec *v, struct replay *rp)
{
	char kname[VAULT_NAME_MAX + 16], khash[MGR_ID_MAX + 16];
	char kacct[MGR_ID_MAX + 24], quota[24], created[24], ms[24];
	const char *argv[15];
	size_t lens[15];
	redisReply *r = NULL;
	mgr_err rv;

	if ((rv = kfmt(kname, sizeof(kname), "vault:name:%s", v->name)) != MGR_OK ||
	    (rv = kfmt(khash, sizeof(khash), "vault:{%s}", v->id)) != MGR_OK ||
	    (rv = kfmt(kacct, sizeof(kacct), "acct:{%s}:vaults", v->owner)) != MGR_OK)
		return (rv);
	if (v->quota > 0)
		snprintf(quota, sizeof(quota), "%lld", (long long)v->quota);
	else
		quota[0] = '\0';
	snprintf(created, sizeof(created), "%lld", (long long)v->created_at);
	snprintf(ms, sizeof(ms), "%lld", (long long)mgr_now_ms());
	argv[0] = kname;
	argv[1] = khash;
	argv[2] = "vault:all";
	argv[3] = kacct;
	argv[4] = v->id;
	argv[5] = v->name;
	argv[6] = v->owner;
	argv[7] = v->vtpl;
	argv[8] = v->mtpl;
	argv[9] = created;
	argv[10] = quota;
	argv[11] = v->mirrored ? "1" : "0";
	argv[12] = ms;
	argv[13] = rp->key;
	argv[14] = (const char *)rp->reply;
	replay_argvlen(rp, 15, argv, lens);
	if ((rv = kv_eval(&r, lua_vault_create, 4, 15, argv, lens)) != MGR_OK)
		return (rv);
	rp->hit = replay_signalled(r);
	freeReplyObject(r);
	return (MGR_OK);
}

static const char lua_vault_find[] =
    "local id = redis.call('GET', KEYS[1])\n"
    "if not id then return redis.error_reply('NOTFOUND no such vault') end\n"
    "local fields = {}\n"
    "for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end\n"
    "local f = redis.call('HMGET', ARGV[1] .. id .. '}', unpack(fields))\n"
    "if not f[1] then return redis.error_reply('NOTFOUND no such vault') end\n"
    "return f\n";

mgr_err
vault_store_find(const char *name, struct vault_rec *out)
{
	const char *argv[] = {NULL, "vault:{", VAULT_FIELDS};
	char kname[VAULT_NAME_MAX + 16];
	redisReply *r = NULL;
	mgr_err rv;

	if (!vault_name_valid(name))
		return (MGR_ENOTFOUND);
	if ((rv = kfmt(kname, sizeof(kname), "vault:name:%s", name)) != MGR_OK)
		return (rv);
	argv[0] = kname;
	if ((rv = kv_eval(&r, lua_vault_find, 1, sizeof(argv) / sizeof(argv[0]), argv,
	         NULL)) != MGR_OK)
		return (rv);
	vault_from(r, out);
	freeReplyObject(r);
	return (*out->id != '\0' ? MGR_OK : MGR_EINTERNAL);
}


mgr_err
vault_store_list(const char *owner, const char *after, size_t limit,
    struct vault_rec **out, size_t *n, char *next, size_t nextlen)
{
	static const char *const fields[] = {VAULT_FIELDS};
	char zset[MGR_ID_MAX + 24];
	struct vault_rec *v = NULL;
	redisReply *r = NULL;
	size_t k = 0;
	mgr_err rv;

	if (owner == NULL)
		copy_str(zset, sizeof(zset), "vault:all");
	else if ((rv = kfmt(zset, sizeof(zset), "acct:{%s}:vaults", owner)) != MGR_OK)
		return (rv);
	if ((rv = hashes_of(zset, after, limit, "vault:{", "}", fields, 10, &r)) !=
	    MGR_OK)
		return (rv);
	if (r->element[0]->len >= nextlen) {
		freeReplyObject(r);
		return (MGR_EINTERNAL);
	}
	if (r->elements > 1 && (v = calloc(r->elements - 1, sizeof(*v))) == NULL) {
		freeReplyObject(r);
		return (MGR_ENOMEM);
	}
	for (size_t i = 1; i < r->elements; i++)
		vault_from(r->element[i], &v[k++]);
	copy_str(next, nextlen, r->element[0]->str);
	*n = k;
	*out = v;
	freeReplyObject(r);
	return (MGR_OK);
}

mgr_err
vault_store_owner_of(const char *vid, struct vault_rec *out)
{
	char khash[MGR_ID_MAX + 16];
	const char *argv[] = {"HMGET", khash, "owner_account_id", "mirror"};
	redisReply *r = NULL;
	mgr_err rv;

	if ((rv = kfmt(khash, sizeof(khash), "vault:{%s}", vid)) != MGR_OK)
		return (rv);
	if ((rv = kv_cmdargv(&r, 4, argv, NULL)) != MGR_OK)
		return (rv);
	memset(out, 0, sizeof(*out));
	if (*el(r, 0) == '\0') {
		freeReplyObject(r);
		return (MGR_ENOTFOUND);
	}
	copy_str(out->id, sizeof(out->id), vid);
	copy_str(out->owner, sizeof(out->owner), el(r, 0));
	out->mirrored = strcmp(el(r, 1), "1") == 0;
	freeReplyObject(r);
	return (MGR_OK);
}

/* clang-format off */
static const char lua_vault_delete[] =
    REPLAY_LUA VAULT_SEGS_LUA
    REPLAY_LUA_GUARD(2)
    "local v = redis.call('HMGET', KEYS[1], 'id', 'object_count')\n"
    "if not v[1] then return redis.error_reply('NOTFOUND no such vault') end\n"
    "if tonumber(v[2]) ~= 0 or redis.call('ZCARD', KEYS[2]) ~= 0 then\n"
    "  return redis.error_reply('CONFLICT the vault is not empty')\n"
    "end\n"
    /* Open multipart uploads go with the vault: their parts are freed. */
    "for _, mb in ipairs(redis.call('ZRANGE', KEYS[6], 0, -1)) do\n"
    "  local id = string.sub(mb, string.find(mb, '\\0', 1, true) + 1)\n"
    "  for _, p in ipairs(redis.call('ZRANGE', ARGV[4] .. id .. ':p', 0, -1)) do\n"
    "    segs_ref(KEYS[7], KEYS[8], ARGV[1], string.match(p, '([^|]*)$'), -1,\n"
    "      tonumber(ARGV[5]))\n"
    "  end\n"
    "  redis.call('DEL', ARGV[4] .. id .. ':p', ARGV[4] .. id)\n"
    "end\n"
    "redis.call('DEL', KEYS[6])\n"
    "if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('ZREM', KEYS[4], ARGV[1])\n"
    "redis.call('ZREM', KEYS[5], ARGV[1])\n"
    "replay_save(ARGV[2], ARGV[3])\n"
    "return 1\n";
/* clang-format on */

mgr_err
vault_store_delete(const struct vault_rec *v, struct replay *rp)
{
	char khash[MGR_ID_MAX + 16], kobjs[MGR_ID_MAX + 16];
	char kname[VAULT_NAME_MAX + 16], kacct[MGR_ID_MAX + 24];
	char kmps[MGR_ID_MAX + 16], kblobs[MGR_ID_MAX + 24], kgc[MGR_ID_MAX + 24];
	char kmp[MGR_ID_MAX + 16], snow[24];
	const char *argv[13];
	size_t lens[13];
	redisReply *r = NULL;
	mgr_err rv;

	if ((rv = kfmt(khash, sizeof(khash), "vault:{%s}", v->id)) != MGR_OK ||
	    (rv = kfmt(kobjs, sizeof(kobjs), "vault:{%s}:objs", v->id)) != MGR_OK ||
	    (rv = kfmt(kname, sizeof(kname), "vault:name:%s", v->name)) != MGR_OK ||
	    (rv = kfmt(kacct, sizeof(kacct), "acct:{%s}:vaults", v->owner)) != MGR_OK ||
	    (rv = kfmt(kmps, sizeof(kmps), "vault:{%s}:mps", v->id)) != MGR_OK ||
	    (rv = kfmt(kblobs, sizeof(kblobs), "vault:{%s}:blobs", v->id)) != MGR_OK ||
	    (rv = kfmt(kgc, sizeof(kgc), "vault:{%s}:gc", v->id)) != MGR_OK ||
	    (rv = kfmt(kmp, sizeof(kmp), "vault:{%s}:mp:", v->id)) != MGR_OK)
		return (rv);
	snprintf(snow, sizeof(snow), "%lld", (long long)mgr_now_s());
	argv[0] = khash;
	argv[1] = kobjs;
	argv[2] = kname;
	argv[3] = "vault:all";
	argv[4] = kacct;
	argv[5] = kmps;
	argv[6] = kblobs;
	argv[7] = kgc;
	argv[8] = v->id;
	argv[9] = rp->key;
	argv[10] = (const char *)rp->reply;
	argv[11] = kmp;
	argv[12] = snow;
	replay_argvlen(rp, 13, argv, lens);
	if ((rv = kv_eval(&r, lua_vault_delete, 8, 13, argv, lens)) != MGR_OK)
		return (rv);
	rp->hit = replay_signalled(r);
	freeReplyObject(r);
	return (MGR_OK);
}

/* ---- objects ------------------------------------------------------------ */

/* Object hash fields, in this order everywhere (OBJ_NFIELDS of them). */
#define OBJ_FIELDS "size", "etag", "modified_at", "ver", "n", "cs", "md5", "segs", "meta"
#define OBJ_NFIELDS 9

void
vault_obj_clear(struct vault_obj *o)
{
	free(o->segs);
	free(o->meta);
	o->segs = NULL;
	o->meta = NULL;
	o->meta_len = 0;
}

/* A reply element as a malloc'ed copy (NUL terminated); NULL when absent. */
static uint8_t *
el_dup(const redisReply *r, size_t i, size_t *len)
{
	const redisReply *e;
	uint8_t *d;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || i >= r->elements)
		return (NULL);
	e = r->element[i];
	if (e->type != REDIS_REPLY_STRING)
		return (NULL);
	if ((d = malloc(e->len + 1)) == NULL)
		return (NULL);
	memcpy(d, e->str, e->len);
	d[e->len] = '\0';
	if (len != NULL)
		*len = e->len;
	return (d);
}

/* o from the OBJ_FIELDS of r (an array reply); 0 when there is no object. */
static int
obj_from(const redisReply *r, const char *key, size_t keylen, struct vault_obj *o)
{
	memset(o, 0, sizeof(*o));
	if (*el(r, 0) == '\0' || strlen(el(r, 3)) != VAULT_VERSION_LEN)
		return (0);
	memcpy(o->key, key, keylen);
	o->size = el_i64(r, 0);
	copy_str(o->etag, sizeof(o->etag), el(r, 1));
	o->modified_at = el_i64(r, 2);
	copy_str(o->version, sizeof(o->version), el(r, 3));
	o->chunks = el_i64(r, 4);
	o->chunk_bytes = el_i64(r, 5) > 0 ? el_i64(r, 5) : RPC_CHUNK_BYTES;
	copy_str(o->md5, sizeof(o->md5), el(r, 6));
	o->segs = (char *)el_dup(r, 7, NULL);
	o->meta = el_dup(r, 8, &o->meta_len);
	if (o->meta == NULL)
		o->meta_len = 0;
	return (1);
}

mgr_err
vault_segs_parse(const char *segs, struct vault_seg **out, size_t *n)
{
	struct vault_seg *s = NULL;
	size_t cnt = 0, cap = 0;
	const char *p = segs;

	while (*p != '\0') {
		struct vault_seg g;
		const char *comma = strchr(p, ',');
		unsigned long long f, c, cs;
		long long sz;
		int used = 0;

		memset(&g, 0, sizeof(g));
		if (comma == NULL || comma == p ||
		    (size_t)(comma - p) > VAULT_VERSION_LEN)
			goto bad;
		memcpy(g.blob, p, (size_t)(comma - p));
		if (sscanf(comma + 1, "%llu,%llu,%llu,%lld;%n", &f, &c, &cs, &sz,
		        &used) != 4 ||
		    used == 0 || comma[used] != ';' || f > UINT32_MAX || c > UINT32_MAX ||
		    cs > RPC_CHUNK_BYTES || sz < 0)
			goto bad;
		g.first = (uint32_t)f;
		g.count = (uint32_t)c;
		g.chunk_bytes = (uint32_t)cs;
		g.size = sz;
		if (cnt == cap) {
			struct vault_seg *t;

			cap = cap == 0 ? 4 : cap * 2;
			if ((t = realloc(s, cap * sizeof(*s))) == NULL) {
				free(s);
				return (MGR_ENOMEM);
			}
			s = t;
		}
		s[cnt++] = g;
		p = comma + used + 1;
	}
	*out = s;
	*n = cnt;
	return (MGR_OK);
bad:
	free(s);
	return (MGR_EINVAL);
}

mgr_err
vault_store_obj_head(const struct vault_rec *v, const char *key, size_t keylen,
    struct vault_obj *out)
{
	const char *argv[] = {"HMGET", NULL, OBJ_FIELDS};
	size_t argvlen[2 + OBJ_NFIELDS];
	char prefix[MGR_ID_MAX + 16], kmeta[KEY_BUF];
	redisReply *r = NULL;
	struct vault_obj o;
	mgr_err rv;

	if (keylen > VAULT_KEY_MAX)
		return (MGR_EINVAL);
	if ((rv = kfmt(prefix, sizeof(prefix), "vault:{%s}:o:", v->id)) != MGR_OK ||
	    (rv = kobj(kmeta, sizeof(kmeta), &argvlen[1], prefix, key, keylen)) != MGR_OK)
		return (rv);
	argv[1] = kmeta;
	for (size_t i = 0; i < 2 + OBJ_NFIELDS; i++)
		if (i != 1)
			argvlen[i] = strlen(argv[i]);
	if ((rv = kv_cmdargv(&r, 2 + OBJ_NFIELDS, argv, argvlen)) != MGR_OK)
		return (rv);
	if (!obj_from(r, key, keylen, &o)) {
		freeReplyObject(r);
		return (MGR_ENOTFOUND);
	}
	freeReplyObject(r);
	*out = o;
	return (MGR_OK);
}

/* vault_store_read: the vault by name (as lua_vault_find), the object's
 * fields (OBJ_FIELDS) and, for the owner ARGV[3] and an object of the layout
 * before v2 of 1 to ARGV[4] bytes, chunk 0 of its current version (as
 * vault_store_get_chunk, repairing a mirror copy). ARGV[5] is the number of
 * vault fields that follow, then the object fields. Returns {vault fields,
 * object fields, data or false}. */
static const char lua_obj_read[] =
    "local id = redis.call('GET', KEYS[1])\n"
    "if not id then return redis.error_reply('NOTFOUND no such vault') end\n"
    "local fields, ofields = {}, {}\n"
    "local nf = tonumber(ARGV[5])\n"
    "for i = 6, 5 + nf do fields[#fields + 1] = ARGV[i] end\n"
    "for i = 6 + nf, #ARGV do ofields[#ofields + 1] = ARGV[i] end\n"
    "local vk = ARGV[1] .. id .. '}'\n"
    "local f = redis.call('HMGET', vk, unpack(fields))\n"
    "if not f[1] then return redis.error_reply('NOTFOUND no such vault') end\n"
    "local o = redis.call('HMGET', vk .. ':o:' .. ARGV[2], unpack(ofields))\n"
    "local want = tonumber(o[1] or '')\n"
    "if o[8] or ARGV[3] == '' or not want or want < 1 or want > tonumber(ARGV[4])\n"
    "    or want > tonumber(o[6] or ARGV[4]) or not o[4] then\n"
    "  return {f, o, false}\n"
    "end\n"
    "local v = redis.call('HMGET', vk, 'owner_account_id', 'mirror')\n"
    "if v[1] ~= ARGV[3] then return {f, o, false} end\n"
    "local k0 = vk .. ':c:' .. o[4] .. ':0:0'\n"
    "local k1 = vk .. ':c:' .. o[4] .. ':1:0'\n"
    "local d = redis.call('GET', k0)\n"
    "if d and #d == want then\n"
    "  if v[2] == '1' and redis.call('STRLEN', k1) ~= want then\n"
    "    redis.call('COPY', k0, k1, 'REPLACE')\n"
    "  end\n"
    "  return {f, o, d}\n"
    "end\n"
    "if v[2] == '1' and redis.call('STRLEN', k1) == want then\n"
    "  redis.call('COPY', k1, k0, 'REPLACE')\n"
    "  return {f, o, redis.call('GET', k1)}\n"
    "end\n"
    "return {f, o, false}\n";

mgr_err
vault_store_read(const char *name, const char *key, size_t keylen, const char *owner,
    int64_t max_inline, struct vault_rec *v, mgr_err *obj_rv, struct vault_obj *o,
    char **data)
{
	static const char *const fields[] = {VAULT_FIELDS};
	static const char *const ofields[] = {OBJ_FIELDS};
	const size_t nfields = sizeof(fields) / sizeof(fields[0]);
	const char *argv[6 + sizeof(fields) / sizeof(fields[0]) + OBJ_NFIELDS];
	size_t argvlen[sizeof(argv) / sizeof(argv[0])];
	char kname[VAULT_NAME_MAX + 16], smax[24], nf[8];
	const redisReply *rd;
	struct vault_rec vr;
	struct vault_obj ob;
	redisReply *r = NULL;
	char *d = NULL;
	mgr_err rv;

	if (!vault_name_valid(name))
		return (MGR_ENOTFOUND);
	if (keylen > VAULT_KEY_MAX)
		return (MGR_EINVAL);
	if ((rv = kfmt(kname, sizeof(kname), "vault:name:%s", name)) != MGR_OK)
		return (rv);
	snprintf(smax, sizeof(smax), "%lld", (long long)max_inline);
	snprintf(nf, sizeof(nf), "%zu", nfields);
	argv[0] = kname;
	argv[1] = "vault:{";
	argv[2] = key;
	argv[3] = owner != NULL ? owner : "";
	argv[4] = smax;
	argv[5] = nf;
	for (size_t i = 0; i < nfields; i++)
		argv[6 + i] = fields[i];
	for (size_t i = 0; i < OBJ_NFIELDS; i++)
		argv[6 + nfields + i] = ofields[i];
	for (size_t i = 0; i < sizeof(argv) / sizeof(argv[0]); i++)
		argvlen[i] = i == 2 ? keylen : strlen(argv[i]);
	if ((rv = kv_eval(&r, lua_obj_read, 1, (int)(sizeof(argv) / sizeof(argv[0])),
	         argv, argvlen)) != MGR_OK)
		return (rv);
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
		freeReplyObject(r);
		return (MGR_EINTERNAL);
	}
	vault_from(r->element[0], &vr);
	if (*vr.id == '\0') {
		freeReplyObject(r);
		return (MGR_EINTERNAL);
	}
	rd = r->element[2];
	if (!obj_from(r->element[1], key, keylen, &ob)) {
		*obj_rv = MGR_ENOTFOUND;
	} else {
		*obj_rv = MGR_OK;
		if (rd->type == REDIS_REPLY_STRING && (int64_t)rd->len == ob.size &&
		    (d = malloc(rd->len > 0 ? rd->len : 1)) != NULL)
			memcpy(d, rd->str, rd->len);
	}
	freeReplyObject(r);
	*v = vr;
	*o = ob;
	*data = d;
	return (MGR_OK);
}

/* The conditions of a write against the object's current fields (o: its
 * HMGET of 'size', 'etag'): a Lua function returning an error or nil. */
#define COND_LUA \
	"local function cond_fail(o, im, inm)\n" \
	"  if inm == '1' and o[1] then\n" \
	"    return 'PRECOND the object exists (If-None-Match)'\n" \
	"  end\n" \
	"  if im ~= '' and (not o[1] or (im ~= '*' and im ~= o[2])) then\n" \
	"    return 'PRECOND the object does not match If-Match'\n" \
	"  end\n" \
	"  return nil\n" \
	"end\n"

/* clang-format off */
static const char lua_put_begin[] =
    COND_LUA
    "local v = redis.call('HMGET', KEYS[1], 'owner_account_id', 'quota_bytes',\n"
    "  'bytes_used', 'mirror')\n"
    "if not v[1] then return redis.error_reply('NOTFOUND no such vault') end\n"
    "if v[1] ~= ARGV[1] then\n"
    "  return redis.error_reply('PERM only the owner may write this vault')\n"
    "end\n"
    "local o = redis.call('HMGET', KEYS[2], 'size', 'etag')\n"
    "local e = cond_fail(o, ARGV[7], ARGV[8])\n"
    "if e then return redis.error_reply(e) end\n"
    "local max = tonumber(ARGV[4])\n"
    "local limit = max\n"
    "local quota = tonumber(v[2])\n"
    "if quota then\n"
    "  local left = quota - tonumber(v[3]) + tonumber(o[1] or '0')\n"
    "  if left < limit then limit = left end\n"
    "end\n"
    "local size = tonumber(ARGV[3])\n"
    "if size > max then\n"
    "  return redis.error_reply('TOOBIG the object is over the size limit')\n"
    "end\n"
    "if size > limit then\n"
    "  return redis.error_reply('TOOBIG the vault quota would be exceeded')\n"
    "end\n"
    "local copies = 1\n"
    "if v[4] == '1' then copies = 2 end\n"
    "redis.call('HSET', KEYS[3], 'owner', ARGV[1], 'key', ARGV[2], 'n', 0,\n"
    "  'size', 0, 'limit', string.format('%d', limit), 'copies', copies,\n"
    "  'cs', ARGV[6], 'hi', 0, 'f', 1, 'im', ARGV[7], 'inm', ARGV[8])\n"
    "if ARGV[9] ~= '' then redis.call('HSET', KEYS[3], 'meta', ARGV[9]) end\n"
    "redis.call('EXPIRE', KEYS[3], ARGV[5])\n"
    "return 1\n";
/* clang-format on */

mgr_err
vault_store_put_begin(const struct vault_rec *v, const char *owner, const char *key,
    size_t keylen, int64_t size, int64_t max, int64_t chunk_bytes,
    const struct vault_cond *cond, const uint8_t *meta, size_t meta_len,
    char upload_id[VAULT_VERSION_LEN + 1])
{
	char khash[MGR_ID_MAX + 16], prefix[MGR_ID_MAX + 16], kmeta[KEY_BUF];
	char kup[MGR_ID_MAX + VAULT_VERSION_LEN + 16], id[VAULT_VERSION_LEN + 1];
	char ssize[24], smax[24], sttl[16], scs[16];
	const char *argv[12];
	size_t argvlen[12];
	redisReply *r = NULL;
	mgr_err rv;

	if (meta_len > VAULT_META_MAX || chunk_bytes < 0 ||
	    chunk_bytes > (int64_t)RPC_CHUNK_BYTES)
		return (MGR_EINVAL);
	if (mgr_random_hex(VAULT_VERSION_LEN / 2, id, sizeof(id)) != MGR_OK)
		return (MGR_EINTERNAL);
	if ((rv = kfmt(khash, sizeof(khash), "vault:{%s}", v->id)) != MGR_OK ||
	    (rv = kfmt(prefix, sizeof(prefix), "vault:{%s}:o:", v->id)) != MGR_OK ||
	    (rv = kobj(kmeta, sizeof(kmeta), &argvlen[1], prefix, key, keylen)) !=
	        MGR_OK ||
	    (rv = kfmt(kup, sizeof(kup), "vault:{%s}:up:%s", v->id, id)) != MGR_OK)
		return (rv);
	snprintf(ssize, sizeof(ssize), "%lld", (long long)size);
	snprintf(smax, sizeof(smax), "%lld", (long long)max);
	snprintf(sttl, sizeof(sttl), "%d", VAULT_UPLOAD_TTL_S);
	snprintf(scs, sizeof(scs), "%lld",
	    chunk_bytes > 0 ? (long long)chunk_bytes : (long long)VAULT_CHUNK_BYTES);
	argv[0] = khash;
	argv[1] = kmeta;
	argv[2] = kup;
	argv[3] = owner;
	argv[4] = key;
	argv[5] = ssize;
	argv[6] = smax;
	argv[7] = sttl;
	argv[8] = scs;
	argv[9] = cond != NULL && cond->if_match != NULL ? cond->if_match : "";
	argv[10] = cond != NULL && cond->if_none_match ? "1" : "0";
	argv[11] = meta_len > 0 ? (const char *)meta : "";
	for (size_t i = 0; i < 12; i++)
		argvlen[i] = i == 4 ? keylen : i == 11 ? meta_len : strlen(argv[i]);
	if ((rv = kv_eval(&r, lua_put_begin, 3, 12, argv, argvlen)) != MGR_OK)
		return (rv);
	freeReplyObject(r);
	memcpy(upload_id, id, sizeof(id));
	return (MGR_OK);
}

static mgr_err
upload_keys(const char *vid, const char *upload_id, char *kup, size_t kuplen,
    char *chunks, size_t chunkslen)
{
	mgr_err rv;

	if (strlen(upload_id) != VAULT_VERSION_LEN ||
	    strspn(upload_id, "0123456789abcdef") != VAULT_VERSION_LEN)
		return (MGR_ENOTFOUND);
	if ((rv = kfmt(kup, kuplen, "vault:{%s}:up:%s", vid, upload_id)) != MGR_OK)
		return (rv);
	if (chunks != NULL &&
	    (rv = kfmt(chunks, chunkslen, "vault:{%s}:c:%s:", vid, upload_id)) != MGR_OK)
		return (rv);
	return (MGR_OK);
}

mgr_err
vault_store_upload_info(const char *vid, const char *upload_id, const char *owner,
    struct vault_upload *out)
{
	char kup[MGR_ID_MAX + VAULT_VERSION_LEN + 16];
	const char *argv[] = {"HMGET", kup, "owner", "copies", "cs", "limit", "f"};
	redisReply *r = NULL;
	mgr_err rv;

	if ((rv = upload_keys(vid, upload_id, kup, sizeof(kup), NULL, 0)) != MGR_OK)
		return (rv);
	if ((rv = kv_cmdargv(&r, 7, argv, NULL)) != MGR_OK)
		return (rv);
	if (*el(r, 0) == '\0')
		rv = MGR_ENOTFOUND;
	else if (strcmp(el(r, 0), owner) != 0)
		rv = MGR_EPERM;
	else if (strcmp(el(r, 4), "1") != 0)
		rv = MGR_ECONFLICT;
	else {
		out->copies = el_i64(r, 1) == 2 ? 2 : 1;
		out->chunk_bytes = el_i64(r, 2);
		out->limit = el_i64(r, 3);
		rv = out->chunk_bytes > 0 && out->chunk_bytes <= RPC_CHUNK_BYTES
		    ? MGR_OK
		    : MGR_EINTERNAL;
	}
	freeReplyObject(r);
	return (rv);
}

/* A chunk's file is written: record it. The same index again with the same
 * length is a resend (its data was compared with the file's). */
/* clang-format off */
static const char lua_chunk_record[] =
    "local up = redis.call('HMGET', KEYS[1], 'owner', 'n', 'size', 'limit',\n"
    "  'hi', 'c' .. ARGV[2], 'cs', 'f')\n"
    "if not up[1] then return redis.error_reply('NOTFOUND no such upload (expired?)') end\n"
    "if up[1] ~= ARGV[1] then return redis.error_reply('PERM not your upload') end\n"
    "if up[8] ~= '1' then\n"
    "  return redis.error_reply('CONFLICT an upload begun before an upgrade; send it again')\n"
    "end\n"
    "local len = tonumber(ARGV[3])\n"
    "if up[6] then\n"
    "  if tonumber(up[6]) == len then return 2 end\n"
    "  return redis.error_reply('INVALID chunk sent again with other data')\n"
    "end\n"
    "local i = tonumber(ARGV[2])\n"
    "local cs = tonumber(up[7])\n"
    /* A gateway from before chunk_bytes sends RPC_CHUNK_BYTES chunks in
     * order: its chunk 0 sets the upload's chunk size. */
    "if len > cs and i == 0 and tonumber(up[2]) == 0 and len <= tonumber(ARGV[5]) then\n"
    "  cs = len\n"
    "  redis.call('HSET', KEYS[1], 'cs', cs)\n"
    "end\n"
    "if len > cs then return redis.error_reply('INVALID chunk over the chunk size') end\n"
    "local limit = tonumber(up[4])\n"
    "local size = tonumber(up[3]) + len\n"
    "if size > limit or i * cs + len > limit then\n"
    "  return redis.error_reply('TOOBIG the object is over the size limit or the vault quota')\n"
    "end\n"
    "local hi = tonumber(up[5])\n"
    "if i + 1 > hi then hi = i + 1 end\n"
    "redis.call('HSET', KEYS[1], 'n', tonumber(up[2]) + 1,\n"
    "  'size', string.format('%d', size), 'hi', hi, 'c' .. ARGV[2], len)\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[4])\n"
    "return 1\n";
/* clang-format on */

mgr_err
vault_store_chunk_record(const char *vid, const char *upload_id, const char *owner,
    uint32_t index, size_t len, int *again)
{
	char kup[MGR_ID_MAX + VAULT_VERSION_LEN + 16], sidx[16], slen[24], sttl[16];
	char smax[16];
	const char *argv[6];
	redisReply *r = NULL;
	mgr_err rv;

	if ((rv = upload_keys(vid, upload_id, kup, sizeof(kup), NULL, 0)) != MGR_OK)
		return (rv);
	snprintf(sidx, sizeof(sidx), "%u", index);
	snprintf(slen, sizeof(slen), "%zu", len);
	snprintf(sttl, sizeof(sttl), "%d", VAULT_UPLOAD_TTL_S);
	argv[0] = kup;
	argv[1] = owner;
	argv[2] = sidx;
	argv[3] = slen;
	argv[4] = sttl;
	snprintf(smax, sizeof(smax), "%u", RPC_CHUNK_BYTES);
	argv[5] = smax;
	if ((rv = kv_eval(&r, lua_chunk_record, 1, 6, argv, NULL)) != MGR_OK)
		return (rv);
	*again = r->type == REDIS_REPLY_INTEGER && r->integer == 2;
	freeReplyObject(r);
	return (MGR_OK);
}

/* Lets go of an object version's data: its segments, or (the layout before
 * v2) its chunk keys. o: HMGET of the object with 'segs' at o[5], 'ver' at
 * o[2], 'n' at o[3]. */
#define DROP_LUA \
	"local function drop_version(kb, kg, vid, now, base, copies, segs, ver, cnt)\n" \
	"  if segs then\n" \
	"    segs_ref(kb, kg, vid, segs, -1, now)\n" \
	"    return\n" \
	"  end\n" \
	"  if not ver then return end\n" \
	"  for c = 0, copies - 1 do\n" \
	"    for i = 0, tonumber(cnt or '0') - 1 do\n" \
	"      redis.call('UNLINK', base .. ver .. ':' .. c .. ':' .. i)\n" \
	"    end\n" \
	"  end\n" \
	"end\n"

/* The object switch shared by put_commit and compose: writes the new
 * version of KEYS-style keys given as arguments. */
#define SWITCH_LUA \
	"local function switch(kv, kmeta, kobjs, key, old, used, count, fields)\n" \
	"  redis.call('DEL', kmeta)\n" \
	"  redis.call('HSET', kmeta, unpack(fields))\n" \
	"  redis.call('ZADD', kobjs, 0, key)\n" \
	"  local created = 0\n" \
	"  if not old then\n" \
	"    count = count + 1\n" \
	"    created = 1\n" \
	"  end\n" \
	"  redis.call('HSET', kv, 'bytes_used', string.format('%d', used),\n" \
	"    'object_count', string.format('%d', count))\n" \
	"  return created\n" \
	"end\n"

/* clang-format off */
static const char lua_put_commit[] =
    REPLAY_LUA VAULT_SEGS_LUA DROP_LUA SWITCH_LUA COND_LUA
    REPLAY_LUA_GUARD(8)
    "local dl = tonumber(ARGV[11])\n"
    "if dl > 0 then\n"
    "  local t = redis.call('TIME')\n"
    "  if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > dl then\n"
    "    return redis.error_reply('UNAVAIL late: the commit came after its deadline; nothing changed')\n"
    "  end\n"
    "end\n"
    "local v = redis.call('HMGET', KEYS[1], 'owner_account_id', 'quota_bytes',\n"
    "  'bytes_used', 'object_count', 'mirror')\n"
    "if not v[1] then return redis.error_reply('NOTFOUND no such vault') end\n"
    "if v[1] ~= ARGV[1] then\n"
    "  return redis.error_reply('PERM only the owner may write this vault')\n"
    "end\n"
    "local up = redis.call('HMGET', KEYS[2], 'owner', 'n', 'size', 'copies', 'key',\n"
    "  'hi', 'cs', 'f', 'im', 'inm', 'meta', 'mp', 'pn')\n"
    "if not up[1] then\n"
    "  return redis.error_reply('NOTFOUND no such upload (expired?)')\n"
    "end\n"
    "if up[1] ~= ARGV[1] then return redis.error_reply('PERM not your upload') end\n"
    "local vid = ARGV[12]\n"
    "local uid = ARGV[5]\n"
    "local now = tonumber(ARGV[4])\n"
    "local function refuse(e)\n"
    "  redis.call('DEL', KEYS[2])\n"
    "  redis.call('ZADD', KEYS[5], 0, uid)\n"
    "  redis.call('SADD', 'vault:gc', vid)\n"
    "  return redis.error_reply(e)\n"
    "end\n"
    "if up[8] ~= '1' then\n"
    "  return refuse('CONFLICT an upload begun before an upgrade; send it again')\n"
    "end\n"
    "local n = tonumber(up[2])\n"
    "local hi = tonumber(up[6])\n"
    "local size = tonumber(ARGV[2])\n"
    "if tonumber(up[3]) ~= size then\n"
    "  return refuse('INVALID the size does not match the data received')\n"
    "end\n"
    "local chunk = tonumber(up[7])\n"
    "local want = math.floor((size + chunk - 1) / chunk)\n"
    "for i = 0, want - 1 do\n"
    "  local e = chunk\n"
    "  if i == want - 1 then e = size - i * chunk end\n"
    "  if tonumber(redis.call('HGET', KEYS[2], 'c' .. i) or '-1') ~= e then\n"
    "    return refuse('INVALID chunk ' .. i .. ' is missing or short')\n"
    "  end\n"
    "end\n"
    "if n ~= want or hi ~= want then\n"
    "  return refuse('INVALID chunks past the end of the object')\n"
    "end\n"
    /* A part of a multipart upload: recorded in the upload (replacing
     * and letting go of a part of the same number), no object changes. */
    "if up[12] then\n"
    "  local kmp = ARGV[13] .. up[12]\n"
    "  local m = redis.call('HMGET', kmp, 'owner', 'key')\n"
    "  if not m[1] or m[2] ~= up[5] then\n"
    "    return refuse('NOTFOUND NoSuchUpload: no such multipart upload')\n"
    "  end\n"
    "  if m[1] ~= ARGV[1] then return refuse('PERM not your upload') end\n"
    "  if ARGV[10] == '' then return refuse('INVALID a part needs its MD5') end\n"
    "  redis.call('DEL', KEYS[2])\n"
    "  local kp = kmp .. ':p'\n"
    "  local pn = tonumber(up[13])\n"
    "  for _, p in ipairs(redis.call('ZRANGEBYSCORE', kp, pn, pn)) do\n"
    "    segs_ref(KEYS[4], KEYS[5], vid, string.match(p, '([^|]*)$'), -1, now)\n"
    "  end\n"
    "  redis.call('ZREMRANGEBYSCORE', kp, pn, pn)\n"
    "  local segs = uid .. ',0,' .. n .. ',' .. chunk .. ',' .. ARGV[2] .. ';'\n"
    "  segs_ref(KEYS[4], KEYS[5], vid, segs, 1, now)\n"
    "  redis.call('ZADD', kp, pn, pn .. '|' .. ARGV[2] .. '|' .. ARGV[10] .. '|' ..\n"
    "    ARGV[4] .. '|' .. segs)\n"
    "  replay_save(ARGV[8], '', replay_pb(1, replay_pb(1, up[5]) .. ARGV[9]))\n"
    "  return {0, up[5], n}\n"
    "end\n"
    "local kmeta = ARGV[7] .. up[5]\n"
    "local old = redis.call('HMGET', kmeta, 'size', 'etag', 'ver', 'n', 'segs')\n"
    "local e = cond_fail(old, up[9] or '', up[10] or '0')\n"
    "if e then return refuse(e) end\n"
    "local used = tonumber(v[3]) - tonumber(old[1] or '0') + size\n"
    "local quota = tonumber(v[2])\n"
    "if quota and used > quota then\n"
    "  return refuse('TOOBIG the vault quota would be exceeded')\n"
    "end\n"
    "redis.call('DEL', KEYS[2])\n"
    "local copies = 1\n"
    "if v[5] == '1' then copies = 2 end\n"
    "if old[1] then\n"
    "  drop_version(KEYS[4], KEYS[5], vid, now, ARGV[6], copies, old[5], old[3], old[4])\n"
    "end\n"
    "local segs = uid .. ',0,' .. n .. ',' .. chunk .. ',' .. ARGV[2] .. ';'\n"
    "segs_ref(KEYS[4], KEYS[5], vid, segs, 1, now)\n"
    "local fields = {'key', up[5], 'size', ARGV[2], 'etag', ARGV[3], 'md5', ARGV[10],\n"
    "  'modified_at', ARGV[4], 'ver', uid, 'n', n, 'cs', chunk, 'segs', segs}\n"
    "if up[11] then\n"
    "  fields[#fields + 1] = 'meta'\n"
    "  fields[#fields + 1] = up[11]\n"
    "end\n"
    "local created = switch(KEYS[1], kmeta, KEYS[3], up[5], old[1], used,\n"
    "  tonumber(v[4]), fields)\n"
    /* PutCommitReply: object (1) = its key (1) and the prepared rest of
     * the Object, then created (2, a varint) when true: the fields in
     * order, as protobuf-c packs the reply sent now. */
    "local more = replay_pb(1, replay_pb(1, up[5]) .. ARGV[9])\n"
    "if created == 1 then more = more .. string.char(16, 1) end\n"
    "replay_save(ARGV[8], '', more)\n"
    "return {created, up[5], n}\n";
/* clang-format on */

mgr_err
vault_store_put_commit(const char *vid, const char *upload_id, const char *owner,
    int64_t size, const char *etag, const char *md5, int64_t now, int64_t deadline_ms,
    int *created, struct vault_obj *out, struct replay *rp)
{
	char khash[MGR_ID_MAX + 16], kup[MGR_ID_MAX + VAULT_VERSION_LEN + 16];
	char kobjs[MGR_ID_MAX + 16], base[MGR_ID_MAX + 16], meta[MGR_ID_MAX + 16];
	char kblobs[MGR_ID_MAX + 24], kgc[MGR_ID_MAX + 24];
	char ssize[24], snow[24], sdl[24], kmp[MGR_ID_MAX + 16];
	const char *argv[18];
	size_t lens[18];
	redisReply *r = NULL;
	struct vault_obj o;
	mgr_err rv;

	if ((rv = upload_keys(vid, upload_id, kup, sizeof(kup), NULL, 0)) != MGR_OK)
		return (rv);
	if ((rv = kfmt(khash, sizeof(khash), "vault:{%s}", vid)) != MGR_OK ||
	    (rv = kfmt(kobjs, sizeof(kobjs), "vault:{%s}:objs", vid)) != MGR_OK ||
	    (rv = kfmt(kblobs, sizeof(kblobs), "vault:{%s}:blobs", vid)) != MGR_OK ||
	    (rv = kfmt(kgc, sizeof(kgc), "vault:{%s}:gc", vid)) != MGR_OK ||
	    (rv = kfmt(base, sizeof(base), "vault:{%s}:c:", vid)) != MGR_OK ||
	    (rv = kfmt(meta, sizeof(meta), "vault:{%s}:o:", vid)) != MGR_OK ||
	    (rv = kfmt(kmp, sizeof(kmp), "vault:{%s}:mp:", vid)) != MGR_OK)
		return (rv);
	if (strlen(etag) != 64 || (md5 != NULL && strlen(md5) > 32))
		return (MGR_EINVAL);
	snprintf(ssize, sizeof(ssize), "%lld", (long long)size);
	snprintf(snow, sizeof(snow), "%lld", (long long)now);
	snprintf(sdl, sizeof(sdl), "%lld", (long long)deadline_ms);
	argv[0] = khash;
	argv[1] = kup;
	argv[2] = kobjs;
	argv[3] = kblobs;
	argv[4] = kgc;
	argv[5] = owner;
	argv[6] = ssize;
	argv[7] = etag;
	argv[8] = snow;
	argv[9] = upload_id;
	argv[10] = base;
	argv[11] = meta;
	argv[12] = rp->key;
	argv[13] = (const char *)rp->reply;
	argv[14] = md5 != NULL ? md5 : "";
	argv[15] = sdl;
	argv[16] = vid;
	argv[17] = kmp;
	replay_argvlen(rp, 18, argv, lens);
	if ((rv = kv_eval(&r, lua_put_commit, 5, 18, argv, lens)) != MGR_OK)
		return (rv);
	if ((rp->hit = replay_signalled(r)) != 0) {
		freeReplyObject(r);
		return (MGR_OK);
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[1]->type != REDIS_REPLY_STRING ||
	    r->element[1]->len > VAULT_KEY_MAX) {
		freeReplyObject(r);
		return (MGR_EINTERNAL);
	}
	memset(&o, 0, sizeof(o));
	memcpy(o.key, r->element[1]->str, r->element[1]->len);
	o.size = size;
	copy_str(o.etag, sizeof(o.etag), etag);
	copy_str(o.md5, sizeof(o.md5), md5 != NULL ? md5 : "");
	o.modified_at = now;
	copy_str(o.version, sizeof(o.version), upload_id);
	o.chunks = el_i64(r, 2);
	*created = el_i64(r, 0) == 1;
	freeReplyObject(r);
	*out = o;
	return (MGR_OK);
}

static const char lua_put_abort[] =
    "local up = redis.call('HMGET', KEYS[1], 'owner', 'n', 'copies', 'hi', 'f')\n"
    "if not up[1] then return 0 end\n"
    "if up[1] ~= ARGV[1] then return redis.error_reply('PERM not your upload') end\n"
    "if up[5] == '1' then\n"
    "  redis.call('ZADD', KEYS[2], 0, ARGV[3])\n"
    "  redis.call('SADD', 'vault:gc', ARGV[4])\n"
    "else\n"
    "  for c = 0, tonumber(up[3]) - 1 do\n"
    "    for i = 0, tonumber(up[4] or up[2]) do\n"
    "      redis.call('UNLINK', ARGV[2] .. c .. ':' .. i)\n"
    "    end\n"
    "  end\n"
    "end\n"
    "redis.call('DEL', KEYS[1])\n"
    "return 1\n";

mgr_err
vault_store_put_abort(const char *vid, const char *upload_id, const char *owner)
{
	char kup[MGR_ID_MAX + VAULT_VERSION_LEN + 16], kgc[MGR_ID_MAX + 24];
	char chunks[MGR_ID_MAX + VAULT_VERSION_LEN + 16];
	const char *argv[6];
	redisReply *r = NULL;
	mgr_err rv;

	if ((rv = upload_keys(vid, upload_id, kup, sizeof(kup), chunks,
	         sizeof(chunks))) != MGR_OK ||
	    (rv = kfmt(kgc, sizeof(kgc), "vault:{%s}:gc", vid)) != MGR_OK)
		return (rv);
	argv[0] = kup;
	argv[1] = kgc;
	argv[2] = owner;
	argv[3] = chunks;
	argv[4] = upload_id;
	argv[5] = vid;
	if ((rv = kv_eval(&r, lua_put_abort, 2, 6, argv, NULL)) != MGR_OK)
		return (rv);
	freeReplyObject(r);
	return (MGR_OK);
}

/* clang-format off */
static const char lua_obj_compose[] =
    REPLAY_LUA VAULT_SEGS_LUA DROP_LUA SWITCH_LUA COND_LUA
    REPLAY_LUA_GUARD(9)
    "local v = redis.call('HMGET', KEYS[1], 'owner_account_id', 'quota_bytes',\n"
    "  'bytes_used', 'object_count', 'mirror')\n"
    "if not v[1] then return redis.error_reply('NOTFOUND no such vault') end\n"
    "if v[1] ~= ARGV[1] then\n"
    "  return redis.error_reply('PERM only the owner may write this vault')\n"
    "end\n"
    "local segs = ARGV[4]\n"
    "if not segs_held(KEYS[3], segs) then\n"
    "  return redis.error_reply('CONFLICT the data to compose is gone')\n"
    "end\n"
    "local old = redis.call('HMGET', KEYS[2], 'size', 'etag', 'ver', 'n', 'segs')\n"
    "local e = cond_fail(old, ARGV[13], ARGV[14])\n"
    "if e then return redis.error_reply(e) end\n"
    "local size = tonumber(ARGV[5])\n"
    "local used = tonumber(v[3]) - tonumber(old[1] or '0') + size\n"
    "local quota = tonumber(v[2])\n"
    "if quota and used > quota then\n"
    "  return redis.error_reply('TOOBIG the vault quota would be exceeded')\n"
    "end\n"
    "local now = tonumber(ARGV[8])\n"
    "local vid = ARGV[15]\n"
    /* Take the new references first: a copy onto itself keeps its blobs. */
    "segs_ref(KEYS[3], KEYS[4], vid, segs, 1, now)\n"
    "local copies = 1\n"
    "if v[5] == '1' then copies = 2 end\n"
    "if old[1] then\n"
    "  drop_version(KEYS[3], KEYS[4], vid, now, ARGV[16], copies, old[5], old[3], old[4])\n"
    "end\n"
    "local first = string.match(segs, '^[^,;]+,%d+,(%d+),')\n"
    "local cs = string.match(segs, '^[^,;]+,%d+,%d+,(%d+),')\n"
    "local fields = {'key', ARGV[2], 'size', ARGV[5], 'etag', ARGV[6], 'md5', ARGV[7],\n"
    "  'modified_at', ARGV[8], 'ver', ARGV[3], 'n', first or 0, 'cs', cs or 0,\n"
    "  'segs', segs}\n"
    "if ARGV[11] ~= '' then\n"
    "  fields[#fields + 1] = 'meta'\n"
    "  fields[#fields + 1] = ARGV[11]\n"
    "end\n"
    "local created = switch(KEYS[1], KEYS[2], KEYS[5], ARGV[2], old[1], used,\n"
    "  tonumber(v[4]), fields)\n"
    "replay_save(ARGV[9], ARGV[10])\n"
    "return created\n";
/* clang-format on */

mgr_err
vault_store_obj_compose(const struct vault_rec *v, const char *owner, const char *key,
    size_t keylen, const char *segs, int64_t size, const char *etag, const char *md5,
    const uint8_t *meta, size_t meta_len, const struct vault_cond *cond, int64_t now,
    int *created, char version[VAULT_VERSION_LEN + 1], struct replay *rp)
{
	char khash[MGR_ID_MAX + 16], prefix[MGR_ID_MAX + 16], kmeta[KEY_BUF];
	char kblobs[MGR_ID_MAX + 24], kgc[MGR_ID_MAX + 24], kobjs[MGR_ID_MAX + 16];
	char base[MGR_ID_MAX + 16], ver[VAULT_VERSION_LEN + 1], ssize[24], snow[24];
	const char *argv[21];
	size_t lens[21];
	redisReply *r = NULL;
	struct vault_seg *sg = NULL;
	size_t nseg = 0;
	mgr_err rv;

	if (meta_len > VAULT_META_MAX || strlen(etag) > 64 ||
	    (md5 != NULL && strlen(md5) > 64) || keylen > VAULT_KEY_MAX)
		return (MGR_EINVAL);
	if ((rv = vault_segs_parse(segs, &sg, &nseg)) != MGR_OK)
		return (rv);
	free(sg);
	if (nseg == 0)
		return (MGR_EINVAL);
	if (mgr_random_hex(VAULT_VERSION_LEN / 2, ver, sizeof(ver)) != MGR_OK)
		return (MGR_EINTERNAL);
	if ((rv = kfmt(khash, sizeof(khash), "vault:{%s}", v->id)) != MGR_OK ||
	    (rv = kfmt(prefix, sizeof(prefix), "vault:{%s}:o:", v->id)) != MGR_OK ||
	    (rv = kobj(kmeta, sizeof(kmeta), &lens[1], prefix, key, keylen)) != MGR_OK ||
	    (rv = kfmt(kblobs, sizeof(kblobs), "vault:{%s}:blobs", v->id)) != MGR_OK ||
	    (rv = kfmt(kgc, sizeof(kgc), "vault:{%s}:gc", v->id)) != MGR_OK ||
	    (rv = kfmt(kobjs, sizeof(kobjs), "vault:{%s}:objs", v->id)) != MGR_OK ||
	    (rv = kfmt(base, sizeof(base), "vault:{%s}:c:", v->id)) != MGR_OK)
		return (rv);
	snprintf(ssize, sizeof(ssize), "%lld", (long long)size);
	snprintf(snow, sizeof(snow), "%lld", (long long)now);
	argv[0] = khash;
	argv[1] = kmeta;
	argv[2] = kblobs;
	argv[3] = kgc;
	argv[4] = kobjs;
	argv[5] = owner;
	argv[6] = key;
	argv[7] = ver;
	argv[8] = segs;
	argv[9] = ssize;
	argv[10] = etag;
	argv[11] = md5 != NULL ? md5 : "";
	argv[12] = snow;
	argv[13] = rp->key;
	argv[14] = (const char *)rp->reply;
	argv[15] = meta_len > 0 ? (const char *)meta : "";
	argv[16] = "";
	argv[17] = cond != NULL && cond->if_match != NULL ? cond->if_match : "";
	argv[18] = cond != NULL && cond->if_none_match ? "1" : "0";
	argv[19] = v->id;
	argv[20] = base;
	replay_argvlen(rp, 21, argv, lens);
	lens[6] = keylen;
	lens[15] = meta_len;
	if ((rv = kv_eval(&r, lua_obj_compose, 5, 21, argv, lens)) != MGR_OK)
		return (rv);
	if ((rp->hit = replay_signalled(r)) != 0) {
		freeReplyObject(r);
		return (MGR_OK);
	}
	*created = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	memcpy(version, ver, sizeof(ver));
	return (MGR_OK);
}

/* clang-format off */
static const char lua_blobs_ref[] =
    VAULT_SEGS_LUA
    "segs_ref(KEYS[1], KEYS[2], ARGV[1], ARGV[2], tonumber(ARGV[3]),\n"
    "  tonumber(ARGV[4]))\n"
    "return 1\n";
/* clang-format on */

mgr_err
vault_store_blobs_ref(const char *vid, const char *segs, int delta)
{
	char kblobs[MGR_ID_MAX + 24], kgc[MGR_ID_MAX + 24], sd[16], snow[24];
	const char *argv[6];
	redisReply *r = NULL;
	mgr_err rv;

	if ((rv = kfmt(kblobs, sizeof(kblobs), "vault:{%s}:blobs", vid)) != MGR_OK ||
	    (rv = kfmt(kgc, sizeof(kgc), "vault:{%s}:gc", vid)) != MGR_OK)
		return (rv);
	snprintf(sd, sizeof(sd), "%d", delta);
	snprintf(snow, sizeof(snow), "%lld", (long long)mgr_now_s());
	argv[0] = kblobs;
	argv[1] = kgc;
	argv[2] = vid;
	argv[3] = segs;
	argv[4] = sd;
	argv[5] = snow;
	if ((rv = kv_eval(&r, lua_blobs_ref, 2, 6, argv, NULL)) != MGR_OK)
		return (rv);
	freeReplyObject(r);
	return (MGR_OK);
}

/* ---- the collector ------------------------------------------------------ */

/* *out: the strings of an array reply (caller frees each and it). */
static mgr_err
str_list(redisReply *r, char ***out, size_t *n)
{
	char **l = NULL;
	size_t k = 0;

	if (r->type != REDIS_REPLY_ARRAY)
		return (MGR_EINTERNAL);
	if (r->elements > 0 && (l = calloc(r->elements, sizeof(*l))) == NULL)
		return (MGR_ENOMEM);
	for (size_t i = 0; i < r->elements; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    (l[k] = strdup(r->element[i]->str)) != NULL)
			k++;
	*out = l;
	*n = k;
	return (MGR_OK);
}

mgr_err
vault_store_gc_vaults(char ***out, size_t *n, size_t max)
{
	char smax[16];
	const char *argv[] = {"SRANDMEMBER", "vault:gc", smax};
	redisReply *r = NULL;
	mgr_err rv;

	snprintf(smax, sizeof(smax), "%zu", max);
	if ((rv = kv_cmdargv(&r, 3, argv, NULL)) != MGR_OK)
		return (rv);
	rv = str_list(r, out, n);
	freeReplyObject(r);
	return (rv);
}

mgr_err
vault_store_gc_due(const char *vid, int64_t before, size_t max, char ***out, size_t *n)
{
	char kgc[MGR_ID_MAX + 24], sb[24], smax[16];
	const char *argv[] = {"ZRANGEBYSCORE", kgc, "-inf", sb, "LIMIT", "0", smax};
	redisReply *r = NULL;
	mgr_err rv;

	if ((rv = kfmt(kgc, sizeof(kgc), "vault:{%s}:gc", vid)) != MGR_OK)
		return (rv);
	snprintf(sb, sizeof(sb), "%lld", (long long)before);
	snprintf(smax, sizeof(smax), "%zu", max);
	if ((rv = kv_cmdargv(&r, 7, argv, NULL)) != MGR_OK)
		return (rv);
	rv = str_list(r, out, n);
	freeReplyObject(r);
	return (rv);
}

static const char lua_gc_claim[] = "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then\n"
                                   "  redis.call('ZREM', KEYS[2], ARGV[1])\n"
                                   "  return 0\n"
                                   "end\n"
                                   "return 1\n";

static const char lua_gc_done[] = "redis.call('ZREM', KEYS[1], ARGV[1])\n"
                                  "if redis.call('ZCARD', KEYS[1]) == 0 then\n"
                                  "  redis.call('SREM', 'vault:gc', ARGV[2])\n"
                                  "end\n"
                                  "return 1\n";

/* A blob with neither a reference nor an upload is an orphan. */
static const char lua_gc_orphan[] = "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 or\n"
                                    "    redis.call('EXISTS', KEYS[3]) == 1 then\n"
                                    "  return 0\n"
                                    "end\n"
                                    "redis.call('ZADD', KEYS[2], 'NX', 0, ARGV[1])\n"
                                    "redis.call('SADD', 'vault:gc', ARGV[2])\n"
                                    "return 1\n";

static mgr_err
gc_eval(const char *script, const char *vid, const char *blob, long long *res)
{
	char kblobs[MGR_ID_MAX + 24], kgc[MGR_ID_MAX + 24];
	char kup[MGR_ID_MAX + VAULT_VERSION_LEN + 16];
	const char *argv[5];
	redisReply *r = NULL;
	mgr_err rv;

	if (strlen(blob) > VAULT_VERSION_LEN)
		return (MGR_EINVAL);
	if ((rv = kfmt(kblobs, sizeof(kblobs), "vault:{%s}:blobs", vid)) != MGR_OK ||
	    (rv = kfmt(kgc, sizeof(kgc), "vault:{%s}:gc", vid)) != MGR_OK ||
	    (rv = kfmt(kup, sizeof(kup), "vault:{%s}:up:%s", vid, blob)) != MGR_OK)
		return (rv);
	if (script == lua_gc_done) {
		argv[0] = kgc;
		argv[1] = blob;
		argv[2] = vid;
		rv = kv_eval(&r, script, 1, 3, argv, NULL);
	} else {
		argv[0] = kblobs;
		argv[1] = kgc;
		argv[2] = kup;
		argv[3] = blob;
		argv[4] = vid;
		rv = kv_eval(&r, script, 3, 5, argv, NULL);
	}
	if (rv != MGR_OK)
		return (rv);
	*res = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
	freeReplyObject(r);
	return (MGR_OK);
}

mgr_err
vault_store_gc_claim(const char *vid, const char *blob, int *ok)
{
	long long res = 0;
	mgr_err rv = gc_eval(lua_gc_claim, vid, blob, &res);

	*ok = res == 1;
	return (rv);
}

mgr_err
vault_store_gc_done(const char *vid, const char *blob)
{
	long long res = 0;

	return (gc_eval(lua_gc_done, vid, blob, &res));
}

mgr_err
vault_store_gc_orphan(const char *vid, const char *blob, int *orphan)
{
	long long res = 0;
	mgr_err rv = gc_eval(lua_gc_orphan, vid, blob, &res);

	*orphan = res == 1;
	return (rv);
}

/* clang-format off */
static const char lua_obj_delete[] =
    REPLAY_LUA VAULT_SEGS_LUA DROP_LUA
    REPLAY_LUA_GUARD(4)
    "local v = redis.call('HMGET', KEYS[1], 'owner_account_id', 'mirror')\n"
    "if not v[1] then return redis.error_reply('NOTFOUND no such vault') end\n"
    "if v[1] ~= ARGV[1] then\n"
    "  return redis.error_reply('PERM only the owner may write this vault')\n"
    "end\n"
    "local o = redis.call('HMGET', KEYS[2], 'size', 'etag', 'ver', 'n', 'segs')\n"
    "if not o[1] then return redis.error_reply('NOTFOUND no such object') end\n"
    "local copies = 1\n"
    "if v[2] == '1' then copies = 2 end\n"
    "drop_version(KEYS[4], KEYS[5], ARGV[6], tonumber(ARGV[7]), ARGV[3], copies,\n"
    "  o[5], o[3], o[4])\n"
    "redis.call('DEL', KEYS[2])\n"
    "redis.call('ZREM', KEYS[3], ARGV[2])\n"
    "redis.call('HINCRBY', KEYS[1], 'object_count', -1)\n"
    "redis.call('HINCRBY', KEYS[1], 'bytes_used',\n"
    "  string.format('%d', -tonumber(o[1])))\n"
    "replay_save(ARGV[4], ARGV[5])\n"
    "return o[1]\n";
/* clang-format on */

mgr_err
vault_store_obj_delete(const struct vault_rec *v, const char *owner, const char *key,
    size_t keylen, int64_t *size, struct replay *rp)
{
	char khash[MGR_ID_MAX + 16], kobjs[MGR_ID_MAX + 16], base[MGR_ID_MAX + 16];
	char prefix[MGR_ID_MAX + 16], kmeta[KEY_BUF], snow[24];
	char kblobs[MGR_ID_MAX + 24], kgc[MGR_ID_MAX + 24];
	const char *argv[12];
	size_t argvlen[12];
	redisReply *r = NULL;
	int64_t n;
	mgr_err rv;

	if ((rv = kfmt(khash, sizeof(khash), "vault:{%s}", v->id)) != MGR_OK ||
	    (rv = kfmt(kobjs, sizeof(kobjs), "vault:{%s}:objs", v->id)) != MGR_OK ||
	    (rv = kfmt(base, sizeof(base), "vault:{%s}:c:", v->id)) != MGR_OK ||
	    (rv = kfmt(kblobs, sizeof(kblobs), "vault:{%s}:blobs", v->id)) != MGR_OK ||
	    (rv = kfmt(kgc, sizeof(kgc), "vault:{%s}:gc", v->id)) != MGR_OK ||
	    (rv = kfmt(prefix, sizeof(prefix), "vault:{%s}:o:", v->id)) != MGR_OK ||
	    (rv = kobj(kmeta, sizeof(kmeta), &argvlen[1], prefix, key, keylen)) != MGR_OK)
		return (rv);
	snprintf(snow, sizeof(snow), "%lld", (long long)mgr_now_s());
	argv[0] = khash;
	argv[1] = kmeta;
	argv[2] = kobjs;
	argv[3] = kblobs;
	argv[4] = kgc;
	argv[5] = owner;
	argv[6] = key;
	argv[7] = base;
	argv[8] = rp->key;
	argv[9] = (const char *)rp->reply;
	argv[10] = v->id;
	argv[11] = snow;
	replay_argvlen(rp, 12, argv, argvlen);
	argvlen[6] = keylen;
	if ((rv = kv_eval(&r, lua_obj_delete, 5, 12, argv, argvlen)) != MGR_OK)
		return (rv);
	rp->hit = replay_signalled(r);
	n = r->type == REDIS_REPLY_STRING && mgr_parse_i64(r->str, &n) == MGR_OK ? n : 0;
	freeReplyObject(r);
	*size = n;
	return (MGR_OK);
}

/* ---- the layout before v2 ---------------------------------------------- */

/* Heals a mirrored chunk: KEYS[1], KEYS[2] its two copies, ARGV[1] the
 * length it must have. A copy missing or of another length is rewritten
 * from the other inside Redis (COPY). Returns which copy is good (0, 1), or
 * -1 when neither is. */
static const char lua_chunk_heal[] =
    "local want = tonumber(ARGV[1])\n"
    "if redis.call('STRLEN', KEYS[1]) == want then\n"
    "  if redis.call('STRLEN', KEYS[2]) ~= want then\n"
    "    redis.call('COPY', KEYS[1], KEYS[2], 'REPLACE')\n"
    "  end\n"
    "  return 0\n"
    "end\n"
    "if redis.call('STRLEN', KEYS[2]) == want then\n"
    "  redis.call('COPY', KEYS[2], KEYS[1], 'REPLACE')\n"
    "  return 1\n"
    "end\n"
    "return -1\n";

/* The string of a GET reply as a malloc'ed buffer of its own (hiredis
 * allocates it with malloc): no copy. */
static char *
steal_str(redisReply *r)
{
	char *d = r->str;

	r->str = NULL;
	r->len = 0;
	return (d);
}

mgr_err
vault_store_get_chunk(const char *vid, const char *owner, const char *ver, uint32_t index,
    size_t len, char **data)
{
	char khash[MGR_ID_MAX + 16];
	char k0[MGR_ID_MAX + VAULT_VERSION_LEN + 32], k1[sizeof(k0)], slen[24];
	const char *hm[] = {"HMGET", khash, "owner_account_id", "mirror"};
	const char *get[] = {"GET", k0}, *slen1[] = {"STRLEN", k1};
	const char *heal[] = {k0, k1, slen};
	struct kv_pipe_cmd cmds[3] = {{4, hm, NULL}, {2, get, NULL}, {2, slen1, NULL}};
	redisReply *r[3], *h = NULL, *g = NULL;
	int mirrored;
	mgr_err rv;

	if (strlen(ver) != VAULT_VERSION_LEN ||
	    strspn(ver, "0123456789abcdef") != VAULT_VERSION_LEN)
		return (MGR_ENOTFOUND);
	if ((rv = kfmt(khash, sizeof(khash), "vault:{%s}", vid)) != MGR_OK ||
	    (rv = kfmt(k0, sizeof(k0), "vault:{%s}:c:%s:0:%u", vid, ver, index)) !=
	        MGR_OK ||
	    (rv = kfmt(k1, sizeof(k1), "vault:{%s}:c:%s:1:%u", vid, ver, index)) !=
	        MGR_OK)
		return (rv);
	snprintf(slen, sizeof(slen), "%zu", len);
	/* One round trip of plain reads (the data stays out of Lua): the
	 * vault's owner and mirror flag, copy 0, the length of copy 1. */
	if ((rv = kv_pipeline(cmds, 3, r)) != MGR_OK)
		return (rv);
	if (r[0]->type != REDIS_REPLY_ARRAY || r[0]->elements != 2) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	if (*el(r[0], 0) == '\0') {
		rv = MGR_ENOTFOUND;
		goto out;
	}
	if (strcmp(el(r[0], 0), owner) != 0) {
		rv = MGR_EPERM;
		goto out;
	}
	mirrored = strcmp(el(r[0], 1), "1") == 0;
	if (r[1]->type == REDIS_REPLY_STRING && r[1]->len == len) {
		/* Copy 0 is good; a mirror's copy 1 is healed from it. */
		if (mirrored &&
		    (r[2]->type != REDIS_REPLY_INTEGER ||
		        r[2]->integer != (long long)len))
			(void)kv_eval(&h, lua_chunk_heal, 2, 3, heal, NULL);
		*data = steal_str(r[1]);
		rv = MGR_OK;
		goto out;
	}
	rv = MGR_ENOTFOUND;
	if (!mirrored)
		goto out;
	/* Copy 0 is missing or damaged: heal it from copy 1 and read that. */
	if ((rv = kv_eval(&h, lua_chunk_heal, 2, 3, heal, NULL)) != MGR_OK)
		goto out;
	rv = MGR_ENOTFOUND;
	if (h->type == REDIS_REPLY_INTEGER && h->integer >= 0) {
		const char *again[] = {"GET", h->integer == 0 ? k0 : k1};

		if ((rv = kv_cmdargv(&g, 2, again, NULL)) != MGR_OK)
			goto out;
		rv = MGR_ENOTFOUND;
		if (g->type == REDIS_REPLY_STRING && g->len == len) {
			*data = steal_str(g);
			rv = MGR_OK;
		}
	}
out:
	if (g != NULL)
		freeReplyObject(g);
	if (h != NULL)
		freeReplyObject(h);
	for (int i = 0; i < 3; i++)
		freeReplyObject(r[i]);
	return (rv);
}

static const char lua_obj_list[] =
    "local lim = tonumber(ARGV[3])\n"
    "local ks = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], '+', 'LIMIT', 0, lim + 1)\n"
    "local p = ARGV[2]\n"
    "local out = {}\n"
    "local more = 0\n"
    "for i, k in ipairs(ks) do\n"
    "  if string.sub(k, 1, #p) ~= p then break end\n"
    "  if i > lim then\n"
    "    more = 1\n"
    "    break\n"
    "  end\n"
    "  local m = redis.call('HMGET', ARGV[4] .. k, 'size', 'etag', 'modified_at', 'ver',\n"
    "    'md5')\n"
    "  out[#out + 1] = {k, m[1], m[2], m[3], m[4], m[5] or ''}\n"
    "end\n"
    "return {more, out}\n";

/* Byte-wise comparison, as Redis orders ZRANGEBYLEX members. */
static int
bytes_cmp(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	int c = memcmp(a, b, na < nb ? na : nb);

	if (c != 0)
		return (c);
	return (na < nb ? -1 : na > nb);
}

mgr_err
vault_store_obj_list(const struct vault_rec *v, const char *prefix, const char *after,
    uint32_t limit, struct vault_obj **out, size_t *n, int *more)
{
	char kobjs[MGR_ID_MAX + 16], meta[MGR_ID_MAX + 16];
	char start[VAULT_KEY_MAX + 2], slim[16];
	const char *argv[5];
	struct vault_obj *o = NULL;
	redisReply *r = NULL, *items;
	size_t cnt = 0;
	mgr_err rv;

	if (strlen(prefix) > VAULT_KEY_MAX || strlen(after) > VAULT_KEY_MAX ||
	    limit == 0 || limit > VAULT_LIST_MAX)
		return (MGR_EINVAL);
	if ((rv = kfmt(kobjs, sizeof(kobjs), "vault:{%s}:objs", v->id)) != MGR_OK ||
	    (rv = kfmt(meta, sizeof(meta), "vault:{%s}:o:", v->id)) != MGR_OK)
		return (rv);
	if (*after != '\0' && bytes_cmp(after, prefix) >= 0)
		snprintf(start, sizeof(start), "(%s", after);
	else if (*prefix != '\0')
		snprintf(start, sizeof(start), "[%s", prefix);
	else
		copy_str(start, sizeof(start), "-");
	snprintf(slim, sizeof(slim), "%u", limit);
	argv[0] = kobjs;
	argv[1] = start;
	argv[2] = prefix;
	argv[3] = slim;
	argv[4] = meta;
	if ((rv = kv_eval(&r, lua_obj_list, 1, 5, argv, NULL)) != MGR_OK)
		return (rv);
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[1]->type != REDIS_REPLY_ARRAY) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	items = r->element[1];
	if (items->elements > 0 && (o = calloc(items->elements, sizeof(*o))) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < items->elements; i++) {
		const redisReply *it = items->element[i];

		if (it->type != REDIS_REPLY_ARRAY || it->elements != 6 ||
		    it->element[0]->type != REDIS_REPLY_STRING ||
		    it->element[0]->len > VAULT_KEY_MAX)
			continue;
		memcpy(o[cnt].key, it->element[0]->str, it->element[0]->len);
		o[cnt].size = el_i64(it, 1);
		copy_str(o[cnt].etag, sizeof(o[cnt].etag), el(it, 2));
		o[cnt].modified_at = el_i64(it, 3);
		copy_str(o[cnt].version, sizeof(o[cnt].version), el(it, 4));
		/* S3's ETag in S3 listings (empty for objects from before). */
		copy_str(o[cnt].md5, sizeof(o[cnt].md5), el(it, 5));
		cnt++;
	}
	*more = el_i64(r, 0) == 1;
	*n = cnt;
	*out = o;
	o = NULL;
	rv = MGR_OK;
out:
	free(o);
	freeReplyObject(r);
	return (rv);
}

/* ---- migration ---------------------------------------------------------- */

static const char lua_legacy_keys[] =
    "local ks = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], '+', 'LIMIT', 0,\n"
    "  tonumber(ARGV[2]))\n"
    "local out = {}\n"
    "for _, k in ipairs(ks) do\n"
    "  local m = redis.call('HMGET', ARGV[3] .. k, 'segs', 'ver')\n"
    "  if not m[1] and m[2] then out[#out + 1] = k end\n"
    "end\n"
    "return {ks[#ks] or '', out}\n";

mgr_err
vault_store_legacy_keys(const char *vid, const char *after, size_t limit, char ***out,
    size_t *n, char *next, size_t nextlen)
{
	char kobjs[MGR_ID_MAX + 16], meta[MGR_ID_MAX + 16];
	char start[VAULT_KEY_MAX + 2], slim[16];
	const char *argv[4];
	redisReply *r = NULL;
	mgr_err rv;

	if ((rv = kfmt(kobjs, sizeof(kobjs), "vault:{%s}:objs", vid)) != MGR_OK ||
	    (rv = kfmt(meta, sizeof(meta), "vault:{%s}:o:", vid)) != MGR_OK)
		return (rv);
	if (*after != '\0')
		snprintf(start, sizeof(start), "(%s", after);
	else
		copy_str(start, sizeof(start), "-");
	snprintf(slim, sizeof(slim), "%zu", limit);
	argv[0] = kobjs;
	argv[1] = start;
	argv[2] = slim;
	argv[3] = meta;
	if ((rv = kv_eval(&r, lua_legacy_keys, 1, 4, argv, NULL)) != MGR_OK)
		return (rv);
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING || r->element[0]->len >= nextlen) {
		freeReplyObject(r);
		return (MGR_EINTERNAL);
	}
	copy_str(next, nextlen, r->element[0]->str);
	rv = str_list(r->element[1], out, n);
	freeReplyObject(r);
	return (rv);
}

/* clang-format off */
static const char lua_migrate_commit[] =
    VAULT_SEGS_LUA
    "local o = redis.call('HMGET', KEYS[1], 'ver', 'n', 'segs', 'size', 'cs')\n"
    "local function give_up()\n"
    "  redis.call('DEL', KEYS[2])\n"
    "  redis.call('ZADD', KEYS[4], 0, ARGV[2])\n"
    "  redis.call('SADD', 'vault:gc', ARGV[6])\n"
    "  return 0\n"
    "end\n"
    "if o[1] ~= ARGV[1] or o[3] or tonumber(o[4] or '-1') ~= tonumber(ARGV[3]) then\n"
    "  return give_up()\n"
    "end\n"
    "local up = redis.call('HMGET', KEYS[2], 'n', 'size', 'cs')\n"
    "if not up[1] or tonumber(up[2]) ~= tonumber(ARGV[3]) then return give_up() end\n"
    "local n = tonumber(up[1])\n"
    "local copies = tonumber(redis.call('HGET', KEYS[5], 'mirror') == '1' and 2 or 1)\n"
    "for c = 0, copies - 1 do\n"
    "  for i = 0, tonumber(o[2] or '0') - 1 do\n"
    "    redis.call('UNLINK', ARGV[5] .. o[1] .. ':' .. c .. ':' .. i)\n"
    "  end\n"
    "end\n"
    "local segs = ARGV[2] .. ',0,' .. n .. ',' .. up[3] .. ',' .. ARGV[3] .. ';'\n"
    "segs_ref(KEYS[3], KEYS[4], ARGV[6], segs, 1, 0)\n"
    "redis.call('HSET', KEYS[1], 'ver', ARGV[2], 'n', n, 'cs', up[3], 'segs', segs,\n"
    "  'md5', ARGV[4])\n"
    "redis.call('DEL', KEYS[2])\n"
    "return 1\n";
/* clang-format on */

mgr_err
vault_store_migrate_commit(const char *vid, const char *key, size_t keylen,
    const char *oldver, const char *upload_id, int64_t size, const char *md5, int *done)
{
	char prefix[MGR_ID_MAX + 16], kmeta[KEY_BUF], khash[MGR_ID_MAX + 16];
	char kup[MGR_ID_MAX + VAULT_VERSION_LEN + 16], kblobs[MGR_ID_MAX + 24];
	char kgc[MGR_ID_MAX + 24], base[MGR_ID_MAX + 16], ssize[24];
	const char *argv[11];
	size_t lens[11];
	redisReply *r = NULL;
	mgr_err rv;

	if ((rv = upload_keys(vid, upload_id, kup, sizeof(kup), NULL, 0)) != MGR_OK ||
	    (rv = kfmt(prefix, sizeof(prefix), "vault:{%s}:o:", vid)) != MGR_OK ||
	    (rv = kobj(kmeta, sizeof(kmeta), &lens[0], prefix, key, keylen)) != MGR_OK ||
	    (rv = kfmt(khash, sizeof(khash), "vault:{%s}", vid)) != MGR_OK ||
	    (rv = kfmt(kblobs, sizeof(kblobs), "vault:{%s}:blobs", vid)) != MGR_OK ||
	    (rv = kfmt(kgc, sizeof(kgc), "vault:{%s}:gc", vid)) != MGR_OK ||
	    (rv = kfmt(base, sizeof(base), "vault:{%s}:c:", vid)) != MGR_OK)
		return (rv);
	snprintf(ssize, sizeof(ssize), "%lld", (long long)size);
	argv[0] = kmeta;
	argv[1] = kup;
	argv[2] = kblobs;
	argv[3] = kgc;
	argv[4] = khash;
	argv[5] = oldver;
	argv[6] = upload_id;
	argv[7] = ssize;
	argv[8] = md5;
	argv[9] = base;
	argv[10] = vid;
	for (size_t i = 1; i < 11; i++)
		lens[i] = strlen(argv[i]);
	if ((rv = kv_eval(&r, lua_migrate_commit, 5, 11, argv, lens)) != MGR_OK)
		return (rv);
	*done = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	return (MGR_OK);
}

/* ---- multipart uploads ------------------------------------------------ */

/* The keys of upload mpid of vault vid: its hash and its parts. NOTFOUND for
 * an id that no upload can have. */
static mgr_err
mp_keys(const char *vid, const char *mpid, char *kmp, size_t kmplen, char *kp,
    size_t kplen)
{
	mgr_err rv;

	if (strlen(mpid) != VAULT_MP_ID_LEN ||
	    strspn(mpid, "0123456789abcdef") != VAULT_MP_ID_LEN)
		return (MGR_ENOTFOUND);
	if ((rv = kfmt(kmp, kmplen, "vault:{%s}:mp:%s", vid, mpid)) != MGR_OK ||
	    (rv = kfmt(kp, kplen, "vault:{%s}:mp:%s:p", vid, mpid)) != MGR_OK)
		return (rv);
	return (MGR_OK);
}

/* "<key>\0<id>": the upload's member of :mps (len bytes). */
static mgr_err
mp_member(const char *key, size_t keylen, const char *mpid, char *out, size_t outlen,
    size_t *len)
{
	size_t il = strlen(mpid);

	if (keylen + 1 + il + 1 > outlen)
		return (MGR_EINVAL);
	memcpy(out, key, keylen);
	out[keylen] = '\0';
	memcpy(out + keylen + 1, mpid, il + 1);
	*len = keylen + 1 + il;
	return (MGR_OK);
}

/* The upload's checks, shared: the vault's owner, the upload's owner and
 * key (KEYS[1] the vault, kmp its hash; ARGV owner, key given). */
#define MP_LUA \
	"local function mp_check(kv, kmp, owner, key)\n" \
	"  local v = redis.call('HMGET', kv, 'owner_account_id', 'quota_bytes',\n" \
	"    'bytes_used', 'object_count', 'mirror')\n" \
	"  if not v[1] then return nil, nil, 'NOTFOUND no such vault' end\n" \
	"  if v[1] ~= owner then\n" \
	"    return nil, nil, 'PERM only the owner may write this vault'\n" \
	"  end\n" \
	"  local m = redis.call('HMGET', kmp, 'owner', 'key', 'initiated', 'meta')\n" \
	"  if not m[1] or m[2] ~= key then\n" \
	"    return nil, nil, 'NOTFOUND NoSuchUpload: no such multipart upload'\n" \
	"  end\n" \
	"  if m[1] ~= owner then return nil, nil, 'PERM not your upload' end\n" \
	"  return v, m, nil\n" \
	"end\n" \
	"local function mp_release(kb, kg, vid, kp, now)\n" \
	"  for _, p in ipairs(redis.call('ZRANGE', kp, 0, -1)) do\n" \
	"    segs_ref(kb, kg, vid, string.match(p, '([^|]*)$'), -1, now)\n" \
	"  end\n" \
	"  redis.call('DEL', kp)\n" \
	"end\n"

/* clang-format off */
static const char lua_mp_create[] =
    REPLAY_LUA
    REPLAY_LUA_GUARD(5)
    "local v = redis.call('HMGET', KEYS[1], 'owner_account_id')\n"
    "if not v[1] then return redis.error_reply('NOTFOUND no such vault') end\n"
    "if v[1] ~= ARGV[1] then\n"
    "  return redis.error_reply('PERM only the owner may write this vault')\n"
    "end\n"
    "if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[8]) then\n"
    "  return redis.error_reply('CONFLICT too many open multipart uploads in this vault')\n"
    "end\n"
    "redis.call('HSET', KEYS[2], 'owner', ARGV[1], 'key', ARGV[2], 'initiated', ARGV[3])\n"
    "if ARGV[4] ~= '' then redis.call('HSET', KEYS[2], 'meta', ARGV[4]) end\n"
    "redis.call('ZADD', KEYS[3], 0, ARGV[7])\n"
    "replay_save(ARGV[5], ARGV[6])\n"
    "return 1\n";
/* clang-format on */

mgr_err
vault_store_mp_create(const struct vault_rec *v, const char *owner, const char *key,
    size_t keylen, const uint8_t *meta, size_t meta_len, int64_t now,
    char id[VAULT_MP_ID_LEN + 1], struct replay *rp)
{
	char khash[MGR_ID_MAX + 16], kmp[MGR_ID_MAX + VAULT_MP_ID_LEN + 16];
	char kp[MGR_ID_MAX + VAULT_MP_ID_LEN + 16], kmps[MGR_ID_MAX + 16];
	char member[VAULT_KEY_MAX + VAULT_MP_ID_LEN + 2], snow[24], smax[16];
	char mid[VAULT_MP_ID_LEN + 1];
	const char *argv[11];
	size_t lens[11], mlen;
	redisReply *r = NULL;
	mgr_err rv;

	if (meta_len > VAULT_META_MAX || keylen > VAULT_KEY_MAX)
		return (MGR_EINVAL);
	/* The upload id is the replay's reply (the caller packed it): a
	 * resend finds the record before anything is made. */
	if (id[0] != '\0')
		memcpy(mid, id, sizeof(mid));
	else if (mgr_random_hex(VAULT_MP_ID_LEN / 2, mid, sizeof(mid)) != MGR_OK)
		return (MGR_EINTERNAL);
	if ((rv = mp_keys(v->id, mid, kmp, sizeof(kmp), kp, sizeof(kp))) != MGR_OK ||
	    (rv = kfmt(khash, sizeof(khash), "vault:{%s}", v->id)) != MGR_OK ||
	    (rv = kfmt(kmps, sizeof(kmps), "vault:{%s}:mps", v->id)) != MGR_OK ||
	    (rv = mp_member(key, keylen, mid, member, sizeof(member), &mlen)) != MGR_OK)
		return (rv);
	snprintf(snow, sizeof(snow), "%lld", (long long)now);
	snprintf(smax, sizeof(smax), "%d", VAULT_MP_UPLOADS_MAX);
	argv[0] = khash;
	argv[1] = kmp;
	argv[2] = kmps;
	argv[3] = owner;
	argv[4] = key;
	argv[5] = snow;
	argv[6] = "";
	argv[7] = rp->key;
	argv[8] = (const char *)rp->reply;
	argv[9] = member;
	argv[10] = smax;
	replay_argvlen(rp, 11, argv, lens);
	/* The metadata is binary: its length is meta_len, never strlen. */
	argv[6] = meta_len > 0 ? (const char *)meta : "";
	lens[4] = keylen;
	lens[6] = meta_len;
	lens[9] = mlen;
	if ((rv = kv_eval(&r, lua_mp_create, 3, 11, argv, lens)) != MGR_OK)
		return (rv);
	rp->hit = replay_signalled(r);
	freeReplyObject(r);
	memcpy(id, mid, sizeof(mid));
	return (MGR_OK);
}

/* clang-format off */
static const char lua_part_begin[] =
    VAULT_SEGS_LUA MP_LUA
    "local v, m, e = mp_check(KEYS[1], KEYS[2], ARGV[1], ARGV[2])\n"
    "if e then return redis.error_reply(e) end\n"
    "local limit = tonumber(ARGV[3])\n"
    "local quota = tonumber(v[2])\n"
    "if quota then\n"
    "  local left = quota - tonumber(v[3])\n"
    "  if left < limit then limit = left end\n"
    "end\n"
    "if limit < 0 then limit = 0 end\n"
    "local copies = 1\n"
    "if v[5] == '1' then copies = 2 end\n"
    "redis.call('HSET', KEYS[3], 'owner', ARGV[1], 'key', ARGV[2], 'n', 0,\n"
    "  'size', 0, 'limit', string.format('%d', limit), 'copies', copies,\n"
    "  'cs', ARGV[5], 'hi', 0, 'f', 1, 'im', '', 'inm', '0', 'mp', ARGV[6],\n"
    "  'pn', ARGV[7])\n"
    "redis.call('EXPIRE', KEYS[3], ARGV[4])\n"
    "return 1\n";
/* clang-format on */

mgr_err
vault_store_part_begin(const struct vault_rec *v, const char *owner, const char *key,
    size_t keylen, const char *mpid, uint32_t part, int64_t max,
    char upload_id[VAULT_VERSION_LEN + 1])
{
	char khash[MGR_ID_MAX + 16], kmp[MGR_ID_MAX + VAULT_MP_ID_LEN + 16];
	char kp[MGR_ID_MAX + VAULT_MP_ID_LEN + 16];
	char kup[MGR_ID_MAX + VAULT_VERSION_LEN + 16], id[VAULT_VERSION_LEN + 1];
	char smax[24], sttl[16], scs[16], spn[16];
	const char *argv[10];
	size_t lens[10];
	redisReply *r = NULL;
	mgr_err rv;

	if (part < 1 || part > VAULT_MP_PARTS_MAX || keylen > VAULT_KEY_MAX)
		return (MGR_EINVAL);
	if (mgr_random_hex(VAULT_VERSION_LEN / 2, id, sizeof(id)) != MGR_OK)
		return (MGR_EINTERNAL);
	if ((rv = mp_keys(v->id, mpid, kmp, sizeof(kmp), kp, sizeof(kp))) != MGR_OK ||
	    (rv = kfmt(khash, sizeof(khash), "vault:{%s}", v->id)) != MGR_OK ||
	    (rv = kfmt(kup, sizeof(kup), "vault:{%s}:up:%s", v->id, id)) != MGR_OK)
		return (rv);
	snprintf(smax, sizeof(smax), "%lld", (long long)max);
	snprintf(sttl, sizeof(sttl), "%d", VAULT_UPLOAD_TTL_S);
	snprintf(scs, sizeof(scs), "%d", VAULT_CHUNK_BYTES);
	snprintf(spn, sizeof(spn), "%u", part);
	argv[0] = khash;
	argv[1] = kmp;
	argv[2] = kup;
	argv[3] = owner;
	argv[4] = key;
	argv[5] = smax;
	argv[6] = sttl;
	argv[7] = scs;
	argv[8] = mpid;
	argv[9] = spn;
	for (size_t i = 0; i < 10; i++)
		lens[i] = i == 4 ? keylen : strlen(argv[i]);
	if ((rv = kv_eval(&r, lua_part_begin, 3, 10, argv, lens)) != MGR_OK)
		return (rv);
	freeReplyObject(r);
	memcpy(upload_id, id, sizeof(id));
	return (MGR_OK);
}

void
vault_parts_free(struct vault_part *p, size_t n)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(p[i].segs);
		free(p[i].member);
	}
	free(p);
}

/* "<number>|<size>|<md5>|<modified_at>|<segs>" into p (allocating). */
static mgr_err
part_parse(const char *s, size_t len, struct vault_part *p)
{
	const char *f[5];
	size_t fl[5], k = 0, start = 0;
	char num[24];
	int64_t v;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i <= len && k < 5; i++)
		if (i == len || (s[i] == '|' && k < 4)) {
			f[k] = s + start;
			fl[k++] = i - start;
			start = i + 1;
		}
	if (k != 5 || fl[2] > 32)
		return (MGR_EINTERNAL);
	for (size_t i = 0; i < 4; i++) {
		if (i == 2)
			continue;
		if (fl[i] == 0 || fl[i] >= sizeof(num))
			return (MGR_EINTERNAL);
		memcpy(num, f[i], fl[i]);
		num[fl[i]] = '\0';
		if (mgr_parse_i64(num, &v) != MGR_OK || v < 0)
			return (MGR_EINTERNAL);
		if (i == 0)
			p->number = (uint32_t)v;
		else if (i == 1)
			p->size = v;
		else
			p->modified_at = v;
	}
	memcpy(p->md5, f[2], fl[2]);
	p->md5[fl[2]] = '\0';
	if ((p->segs = strndup(f[4], fl[4])) == NULL ||
	    (p->member = strndup(s, len)) == NULL) {
		free(p->segs);
		p->segs = NULL;
		return (MGR_ENOMEM);
	}
	return (MGR_OK);
}

/* clang-format off */
static const char lua_mp_parts[] =
    VAULT_SEGS_LUA MP_LUA
    "local v, m, e = mp_check(KEYS[1], KEYS[2], ARGV[1], ARGV[2])\n"
    "if e then return redis.error_reply(e) end\n"
    "local lim = tonumber(ARGV[4])\n"
    "local ps\n"
    "if lim == 0 then\n"
    "  ps = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. ARGV[3], '+inf')\n"
    "else\n"
    "  ps = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. ARGV[3], '+inf', 'LIMIT', 0, lim + 1)\n"
    "end\n"
    "local more = 0\n"
    "if lim > 0 and #ps > lim then\n"
    "  more = 1\n"
    "  ps[#ps] = nil\n"
    "end\n"
    "return {m[3] or '0', m[4] or '', more, ps}\n";
/* clang-format on */

mgr_err
vault_store_mp_parts(const char *vid, const char *owner, const char *key, size_t keylen,
    const char *mpid, uint32_t after, uint32_t limit, struct vault_part **out, size_t *n,
    int *more, int64_t *initiated, uint8_t **meta, size_t *meta_len)
{
	char khash[MGR_ID_MAX + 16], kmp[MGR_ID_MAX + VAULT_MP_ID_LEN + 16];
	char kp[MGR_ID_MAX + VAULT_MP_ID_LEN + 16], safter[16], slim[16];
	const char *argv[7];
	size_t lens[7];
	struct vault_part *p = NULL;
	redisReply *r = NULL, *ps;
	size_t cnt = 0;
	mgr_err rv;

	*meta = NULL;
	*meta_len = 0;
	if ((rv = mp_keys(vid, mpid, kmp, sizeof(kmp), kp, sizeof(kp))) != MGR_OK ||
	    (rv = kfmt(khash, sizeof(khash), "vault:{%s}", vid)) != MGR_OK)
		return (rv);
	snprintf(safter, sizeof(safter), "%u", after);
	snprintf(slim, sizeof(slim), "%u", limit);
	argv[0] = khash;
	argv[1] = kmp;
	argv[2] = kp;
	argv[3] = owner;
	argv[4] = key;
	argv[5] = safter;
	argv[6] = slim;
	for (size_t i = 0; i < 7; i++)
		lens[i] = i == 4 ? keylen : strlen(argv[i]);
	if ((rv = kv_eval(&r, lua_mp_parts, 3, 7, argv, lens)) != MGR_OK)
		return (rv);
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 4 ||
	    r->element[3]->type != REDIS_REPLY_ARRAY) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	ps = r->element[3];
	if (ps->elements > VAULT_MP_PARTS_MAX) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	if (ps->elements > 0 && (p = calloc(ps->elements, sizeof(*p))) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ps->elements; i++) {
		if (ps->element[i]->type != REDIS_REPLY_STRING ||
		    (rv = part_parse(ps->element[i]->str, ps->element[i]->len,
		         &p[cnt])) != MGR_OK) {
			rv = rv == MGR_OK ? MGR_EINTERNAL : rv;
			goto out;
		}
		cnt++;
	}
	if (r->element[1]->type == REDIS_REPLY_STRING && r->element[1]->len > 0) {
		if ((*meta = malloc(r->element[1]->len)) == NULL) {
			rv = MGR_ENOMEM;
			goto out;
		}
		memcpy(*meta, r->element[1]->str, r->element[1]->len);
		*meta_len = r->element[1]->len;
	}
	*initiated = el_i64(r, 0);
	*more = el_i64(r, 2) == 1;
	*out = p;
	*n = cnt;
	p = NULL;
	cnt = 0;
	rv = MGR_OK;
out:
	vault_parts_free(p, cnt);
	freeReplyObject(r);
	return (rv);
}

/* clang-format off */
static const char lua_mp_complete[] =
    REPLAY_LUA VAULT_SEGS_LUA DROP_LUA SWITCH_LUA COND_LUA MP_LUA
    REPLAY_LUA_GUARD(9)
    "local v, m, e = mp_check(KEYS[1], KEYS[6], ARGV[1], ARGV[2])\n"
    "if e then return redis.error_reply(e) end\n"
    "for i = 16, #ARGV do\n"
    "  if not redis.call('ZSCORE', KEYS[7], ARGV[i]) then\n"
    "    return redis.error_reply('CONFLICT InvalidPart: a part was uploaded again meanwhile')\n"
    "  end\n"
    "end\n"
    "local segs = ARGV[4]\n"
    "if not segs_held(KEYS[3], segs) then\n"
    "  return redis.error_reply('CONFLICT the data to compose is gone')\n"
    "end\n"
    "local old = redis.call('HMGET', KEYS[2], 'size', 'etag', 'ver', 'n', 'segs')\n"
    "local e2 = cond_fail(old, ARGV[11], ARGV[12])\n"
    "if e2 then return redis.error_reply(e2) end\n"
    "local size = tonumber(ARGV[5])\n"
    "local used = tonumber(v[3]) - tonumber(old[1] or '0') + size\n"
    "local quota = tonumber(v[2])\n"
    "if quota and used > quota then\n"
    "  return redis.error_reply('TOOBIG the vault quota would be exceeded')\n"
    "end\n"
    "local now = tonumber(ARGV[8])\n"
    "local vid = ARGV[13]\n"
    "segs_ref(KEYS[3], KEYS[4], vid, segs, 1, now)\n"
    "local copies = 1\n"
    "if v[5] == '1' then copies = 2 end\n"
    "if old[1] then\n"
    "  drop_version(KEYS[3], KEYS[4], vid, now, ARGV[14], copies, old[5], old[3], old[4])\n"
    "end\n"
    "local first = string.match(segs, '^[^,;]+,%d+,(%d+),')\n"
    "local cs = string.match(segs, '^[^,;]+,%d+,%d+,(%d+),')\n"
    "local fields = {'key', ARGV[2], 'size', ARGV[5], 'etag', ARGV[6], 'md5', ARGV[7],\n"
    "  'modified_at', ARGV[8], 'ver', ARGV[3], 'n', first or 0, 'cs', cs or 0,\n"
    "  'segs', segs}\n"
    "if m[4] then\n"
    "  fields[#fields + 1] = 'meta'\n"
    "  fields[#fields + 1] = m[4]\n"
    "end\n"
    "local created = switch(KEYS[1], KEYS[2], KEYS[5], ARGV[2], old[1], used,\n"
    "  tonumber(v[4]), fields)\n"
    /* Every part lets go of its blob; the object holds those it uses. */
    "mp_release(KEYS[3], KEYS[4], vid, KEYS[7], now)\n"
    "redis.call('DEL', KEYS[6])\n"
    "redis.call('ZREM', KEYS[8], ARGV[15])\n"
    "local more = ''\n"
    "if created == 1 then more = string.char(16, 1) end\n"
    "replay_save(ARGV[9], ARGV[10], more)\n"
    "return created\n";
/* clang-format on */

mgr_err
vault_store_mp_complete(const struct vault_rec *v, const char *owner, const char *key,
    size_t keylen, const char *mpid, const struct vault_part *const *parts, size_t n,
    int64_t size, const char *etag, const char *md5, const struct vault_cond *cond,
    int64_t now, const char version[VAULT_VERSION_LEN + 1], int *created,
    struct replay *rp)
{
	char khash[MGR_ID_MAX + 16], prefix[MGR_ID_MAX + 16], kmeta[KEY_BUF];
	char kblobs[MGR_ID_MAX + 24], kgc[MGR_ID_MAX + 24], kobjs[MGR_ID_MAX + 16];
	char kmp[MGR_ID_MAX + VAULT_MP_ID_LEN + 16],
	    kp[MGR_ID_MAX + VAULT_MP_ID_LEN + 16];
	char kmps[MGR_ID_MAX + 16], base[MGR_ID_MAX + 16], ssize[24], snow[24];
	char member[VAULT_KEY_MAX + VAULT_MP_ID_LEN + 2];
	const char **argv = NULL;
	size_t *lens = NULL, mlen, argc = 23 + n;
	struct mgr_buf segs;
	redisReply *r = NULL;
	mgr_err rv;

	mgr_buf_init(&segs, (size_t)n * 96 + 1);
	if (n == 0 || n > VAULT_MP_PARTS_MAX || keylen > VAULT_KEY_MAX ||
	    strlen(etag) != 64 || strlen(md5) > VAULT_MD5_MAX)
		return (MGR_EINVAL);
	if ((rv = mp_keys(v->id, mpid, kmp, sizeof(kmp), kp, sizeof(kp))) != MGR_OK ||
	    (rv = kfmt(khash, sizeof(khash), "vault:{%s}", v->id)) != MGR_OK ||
	    (rv = kfmt(prefix, sizeof(prefix), "vault:{%s}:o:", v->id)) != MGR_OK ||
	    (rv = kfmt(kblobs, sizeof(kblobs), "vault:{%s}:blobs", v->id)) != MGR_OK ||
	    (rv = kfmt(kgc, sizeof(kgc), "vault:{%s}:gc", v->id)) != MGR_OK ||
	    (rv = kfmt(kobjs, sizeof(kobjs), "vault:{%s}:objs", v->id)) != MGR_OK ||
	    (rv = kfmt(kmps, sizeof(kmps), "vault:{%s}:mps", v->id)) != MGR_OK ||
	    (rv = kfmt(base, sizeof(base), "vault:{%s}:c:", v->id)) != MGR_OK)
		return (rv);
	if ((argv = calloc(argc, sizeof(*argv))) == NULL ||
	    (lens = calloc(argc, sizeof(*lens))) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((rv = mgr_buf_add(&segs, parts[i]->segs, strlen(parts[i]->segs))) !=
		    MGR_OK)
			goto out;
	snprintf(ssize, sizeof(ssize), "%lld", (long long)size);
	snprintf(snow, sizeof(snow), "%lld", (long long)now);
	argv[0] = khash;
	argv[1] = kmeta;
	argv[2] = kblobs;
	argv[3] = kgc;
	argv[4] = kobjs;
	argv[5] = kmp;
	argv[6] = kp;
	argv[7] = kmps;
	argv[8] = owner;
	argv[9] = key;
	argv[10] = version;
	argv[11] = (const char *)segs.data;
	argv[12] = ssize;
	argv[13] = etag;
	argv[14] = md5;
	argv[15] = snow;
	argv[16] = rp->key;
	argv[17] = (const char *)rp->reply;
	argv[18] = cond != NULL && cond->if_match != NULL ? cond->if_match : "";
	argv[19] = cond != NULL && cond->if_none_match ? "1" : "0";
	argv[20] = v->id;
	argv[21] = base;
	argv[22] = member;
	for (size_t i = 0; i < n; i++)
		argv[23 + i] = parts[i]->member;
	if ((rv = kobj(kmeta, sizeof(kmeta), &mlen, prefix, key, keylen)) != MGR_OK)
		goto out;
	replay_argvlen(rp, (int)argc, argv, lens);
	lens[1] = mlen;
	lens[9] = keylen;
	if ((rv = mp_member(key, keylen, mpid, member, sizeof(member), &mlen)) != MGR_OK)
		goto out;
	lens[22] = mlen;
	if ((rv = kv_eval(&r, lua_mp_complete, 8, (int)argc, argv, lens)) != MGR_OK)
		goto out;
	if ((rp->hit = replay_signalled(r)) == 0)
		*created = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
out:
	if (r != NULL)
		freeReplyObject(r);
	mgr_buf_free(&segs);
	free(argv);
	free(lens);
	return (rv);
}

/* clang-format off */
static const char lua_mp_abort[] =
    REPLAY_LUA VAULT_SEGS_LUA MP_LUA
    REPLAY_LUA_GUARD(3)
    "local v, m, e = mp_check(KEYS[1], KEYS[2], ARGV[1], ARGV[2])\n"
    "if e then return redis.error_reply(e) end\n"
    "mp_release(KEYS[5], KEYS[6], ARGV[5], KEYS[3], tonumber(ARGV[6]))\n"
    "redis.call('DEL', KEYS[2])\n"
    "redis.call('ZREM', KEYS[4], ARGV[7])\n"
    "replay_save(ARGV[3], ARGV[4])\n"
    "return 1\n";
/* clang-format on */

mgr_err
vault_store_mp_abort(const struct vault_rec *v, const char *owner, const char *key,
    size_t keylen, const char *mpid, struct replay *rp)
{
	char khash[MGR_ID_MAX + 16], kmp[MGR_ID_MAX + VAULT_MP_ID_LEN + 16];
	char kp[MGR_ID_MAX + VAULT_MP_ID_LEN + 16], kmps[MGR_ID_MAX + 16];
	char kblobs[MGR_ID_MAX + 24], kgc[MGR_ID_MAX + 24], snow[24];
	char member[VAULT_KEY_MAX + VAULT_MP_ID_LEN + 2];
	const char *argv[13];
	size_t lens[13], mlen;
	redisReply *r = NULL;
	mgr_err rv;

	if ((rv = mp_keys(v->id, mpid, kmp, sizeof(kmp), kp, sizeof(kp))) != MGR_OK ||
	    (rv = kfmt(khash, sizeof(khash), "vault:{%s}", v->id)) != MGR_OK ||
	    (rv = kfmt(kmps, sizeof(kmps), "vault:{%s}:mps", v->id)) != MGR_OK ||
	    (rv = kfmt(kblobs, sizeof(kblobs), "vault:{%s}:blobs", v->id)) != MGR_OK ||
	    (rv = kfmt(kgc, sizeof(kgc), "vault:{%s}:gc", v->id)) != MGR_OK ||
	    (rv = mp_member(key, keylen, mpid, member, sizeof(member), &mlen)) != MGR_OK)
		return (rv);
	snprintf(snow, sizeof(snow), "%lld", (long long)mgr_now_s());
	argv[0] = khash;
	argv[1] = kmp;
	argv[2] = kp;
	argv[3] = kmps;
	argv[4] = kblobs;
	argv[5] = kgc;
	argv[6] = owner;
	argv[7] = key;
	argv[8] = rp->key;
	argv[9] = (const char *)rp->reply;
	argv[10] = v->id;
	argv[11] = snow;
	argv[12] = member;
	replay_argvlen(rp, 13, argv, lens);
	lens[7] = keylen;
	lens[12] = mlen;
	if ((rv = kv_eval(&r, lua_mp_abort, 6, 13, argv, lens)) != MGR_OK)
		return (rv);
	rp->hit = replay_signalled(r);
	freeReplyObject(r);
	return (MGR_OK);
}

static const char lua_mp_list[] =
    "local lim = tonumber(ARGV[3])\n"
    "local ms = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], '+', 'LIMIT', 0, lim + 1)\n"
    "local p = ARGV[2]\n"
    "local out = {}\n"
    "local more = 0\n"
    "for i, mb in ipairs(ms) do\n"
    "  local z = string.find(mb, '\\0', 1, true)\n"
    "  local k = string.sub(mb, 1, z - 1)\n"
    "  if string.sub(k, 1, #p) ~= p then break end\n"
    "  if i > lim then\n"
    "    more = 1\n"
    "    break\n"
    "  end\n"
    "  local id = string.sub(mb, z + 1)\n"
    "  out[#out + 1] = {k, id, redis.call('HGET', ARGV[4] .. id, 'initiated') or '0'}\n"
    "end\n"
    "return {more, out}\n";

mgr_err
vault_store_mp_list(const struct vault_rec *v, const char *prefix, const char *after_key,
    const char *after_id, uint32_t limit, struct vault_mp **out, size_t *n, int *more)
{
	char kmps[MGR_ID_MAX + 16], kmp[MGR_ID_MAX + 16], slim[16];
	char start[VAULT_KEY_MAX + VAULT_MP_ID_LEN + 4];
	const char *argv[5];
	size_t lens[5], pl = strlen(prefix), al = strlen(after_key);
	struct vault_mp *m = NULL;
	redisReply *r = NULL, *items;
	size_t cnt = 0;
	mgr_err rv;

	if (pl > VAULT_KEY_MAX || al > VAULT_KEY_MAX ||
	    strlen(after_id) > VAULT_MP_ID_LEN || limit == 0 || limit > VAULT_LIST_MAX)
		return (MGR_EINVAL);
	if ((rv = kfmt(kmps, sizeof(kmps), "vault:{%s}:mps", v->id)) != MGR_OK ||
	    (rv = kfmt(kmp, sizeof(kmp), "vault:{%s}:mp:", v->id)) != MGR_OK)
		return (rv);
	/* After the marker: "(key\0id" (that key's later uploads, then later
	 * keys) or "(key\1" (every upload of that key passed); from the
	 * prefix when it comes later. */
	if (al > 0 && bytes_cmp(after_key, prefix) >= 0) {
		start[0] = '(';
		memcpy(start + 1, after_key, al);
		if (*after_id != '\0') {
			start[1 + al] = '\0';
			memcpy(start + 2 + al, after_id, strlen(after_id));
			lens[1] = 2 + al + strlen(after_id);
		} else {
			start[1 + al] = '\1';
			lens[1] = 2 + al;
		}
	} else if (pl > 0) {
		start[0] = '[';
		memcpy(start + 1, prefix, pl);
		lens[1] = 1 + pl;
	} else {
		start[0] = '-';
		lens[1] = 1;
	}
	snprintf(slim, sizeof(slim), "%u", limit);
	argv[0] = kmps;
	argv[1] = start;
	argv[2] = prefix;
	argv[3] = slim;
	argv[4] = kmp;
	lens[0] = strlen(kmps);
	lens[2] = pl;
	lens[3] = strlen(slim);
	lens[4] = strlen(kmp);
	if ((rv = kv_eval(&r, lua_mp_list, 1, 5, argv, lens)) != MGR_OK)
		return (rv);
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[1]->type != REDIS_REPLY_ARRAY) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	items = r->element[1];
	if (items->elements > 0 && (m = calloc(items->elements, sizeof(*m))) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < items->elements; i++) {
		redisReply *it = items->element[i];

		if (it->type != REDIS_REPLY_ARRAY || it->elements != 3 ||
		    it->element[0]->type != REDIS_REPLY_STRING ||
		    it->element[0]->len > VAULT_KEY_MAX)
			continue;
		memcpy(m[cnt].key, it->element[0]->str, it->element[0]->len);
		m[cnt].key[it->element[0]->len] = '\0';
		copy_str(m[cnt].id, sizeof(m[cnt].id), el(it, 1));
		m[cnt].initiated = el_i64(it, 2);
		cnt++;
	}
	*more = el_i64(r, 0) == 1;
	*out = m;
	*n = cnt;
	m = NULL;
	rv = MGR_OK;
out:
	free(m);
	freeReplyObject(r);
	return (rv);
}
