/* Encryption at rest: master keys, data keys, chunk sealing (crypt.h). */
#include "services/vault/crypt.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/kv.h"
#include "common/log.h"
#include "common/util.h"

#define KEKS_KEY "vault:keks"
#define MAX_KEKS 8
#define NONCE_BYTES 12
#define TAG_BYTES 16
#define DK_CACHE 256
#define CHECK_AAD "mgr-kek-check"

struct kek {
	char kid[VAULT_KID_LEN + 1];
	uint8_t key[VAULT_KEY_BYTES];
};

static struct {
	struct kek keks[MAX_KEKS]; /* [0] the current one */
	int nkeks;
	EVP_CIPHER *gcm;
	pthread_mutex_t lock; /* the data key cache */
	struct {
		char vid[MGR_ID_MAX];
		uint8_t key[VAULT_KEY_BYTES];
	} cache[DK_CACHE];
} cr = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void
kid_of(const uint8_t key[VAULT_KEY_BYTES], char kid[VAULT_KID_LEN + 1])
{
	static const char label[] = "mgr-master-key-id";
	uint8_t md[32], buf[sizeof(label) - 1 + VAULT_KEY_BYTES];
	unsigned int mdlen = 0;

	memcpy(buf, label, sizeof(label) - 1);
	memcpy(buf + sizeof(label) - 1, key, VAULT_KEY_BYTES);
	EVP_Digest(buf, sizeof(buf), md, &mdlen, EVP_sha256(), NULL);
	OPENSSL_cleanse(buf, sizeof(buf));
	mgr_hex_encode(md, VAULT_KID_LEN / 2, kid);
}

/* AES-256-GCM of in (len bytes) with aad into out (len bytes) and tag. */
static mgr_err
gcm(int enc, const uint8_t *key, const uint8_t nonce[NONCE_BYTES], const void *aad,
    size_t aadlen, const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[TAG_BYTES])
{
	EVP_CIPHER_CTX *c;
	int n = 0, ok;

	if ((c = EVP_CIPHER_CTX_new()) == NULL)
		return (MGR_ENOMEM);
	ok = EVP_CipherInit_ex(c, cr.gcm, NULL, key, nonce, enc) == 1 &&
	    EVP_CipherUpdate(c, NULL, &n, aad, (int)aadlen) == 1;
	/* Whole chunks (at most RPC_CHUNK_BYTES) in one call. */
	if (ok && len > 0)
		ok = EVP_CipherUpdate(c, out, &n, in, (int)len) == 1;
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, tag) == 1;
	if (ok)
		ok = EVP_CipherFinal_ex(c, out + (len > 0 ? n : 0), &n) == 1;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag) == 1;
	EVP_CIPHER_CTX_free(c);
	return (ok ? MGR_OK : MGR_EINTERNAL);
}

/* "<kid>:<hex nonce || ct || tag>" of plain (32 bytes) under aad. */
static mgr_err
wrap_with(const struct kek *k, const char *aad, const uint8_t *plain, char *out,
    size_t outlen)
{
	uint8_t buf[NONCE_BYTES + VAULT_KEY_BYTES + TAG_BYTES];
	mgr_err rv;

	if (outlen < VAULT_KID_LEN + 2 + 2 * sizeof(buf))
		return (MGR_EINVAL);
	if (RAND_bytes(buf, NONCE_BYTES) != 1)
		return (MGR_EINTERNAL);
	if ((rv = gcm(1, k->key, buf, aad, strlen(aad), plain, VAULT_KEY_BYTES,
	         buf + NONCE_BYTES, buf + NONCE_BYTES + VAULT_KEY_BYTES)) != MGR_OK)
		return (rv);
	memcpy(out, k->kid, VAULT_KID_LEN);
	out[VAULT_KID_LEN] = ':';
	mgr_hex_encode(buf, sizeof(buf), out + VAULT_KID_LEN + 1);
	return (MGR_OK);
}

static const struct kek *
kek_find(const char *kid, size_t len)
{
	for (int i = 0; i < cr.nkeks; i++)
		if (len == VAULT_KID_LEN && memcmp(cr.keks[i].kid, kid, len) == 0)
			return (&cr.keks[i]);
	return (NULL);
}

/* MGR_EUNAVAIL: the key it names is not loaded, or it does not open. */
static mgr_err
unwrap_any(const char *aad, const char *wrapped, uint8_t *plain)
{
	uint8_t buf[NONCE_BYTES + VAULT_KEY_BYTES + TAG_BYTES];
	const char *colon = strchr(wrapped, ':');
	const struct kek *k;

	if (colon == NULL || strlen(colon + 1) != 2 * sizeof(buf) ||
	    !mgr_hex_decode(colon + 1, sizeof(buf), buf))
		return (MGR_EUNAVAIL);
	if ((k = kek_find(wrapped, (size_t)(colon - wrapped))) == NULL)
		return (MGR_EUNAVAIL);
	if (gcm(0, k->key, buf, aad, strlen(aad), buf + NONCE_BYTES, VAULT_KEY_BYTES,
	        plain, buf + NONCE_BYTES + VAULT_KEY_BYTES) != MGR_OK)
		return (MGR_EUNAVAIL);
	return (MGR_OK);
}

static int
fsync_dir_of(const char *path)
{
	char dir[1024];
	char *slash;
	int fd, rc;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
		return (-1);
	rc = fsync(fd);
	close(fd);
	return (rc);
}

/* Reads a key file: 32 raw bytes (taken as they are), or 64 hex digits and an
 * optional newline.
 * MGR_ENOTFOUND when it does not exist. */
static mgr_err
key_read(const char *path, struct kek *out)
{
	char buf[130];
	struct stat st;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0) {
		if (errno == ENOENT)
			return (MGR_ENOTFOUND);
		log_error(NULL, "master key %s: %s", path, strerror(errno));
		return (MGR_EINVAL);
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
		log_warn(NULL,
		    "master key %s is readable by others (mode %o); "
		    "make it 0600 or 0400",
		    path, (unsigned)(st.st_mode & 0777));
	n = read(fd, buf, sizeof(buf));
	close(fd);
	/* 32 bytes are a raw key as they are: its last bytes may be CR or LF
	 * (1 key in 128 that this service makes), which only the hex form may
	 * end with. */
	if (n != VAULT_KEY_BYTES)
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			n--;
	if (n == VAULT_KEY_BYTES)
		memcpy(out->key, buf, VAULT_KEY_BYTES);
	else if (n != 2 * VAULT_KEY_BYTES ||
	    !mgr_hex_decode(buf, VAULT_KEY_BYTES, out->key)) {
		log_error(NULL,
		    "master key %s must hold 32 bytes (or 64 hex digits), "
		    "not %zd",
		    path, n);
		OPENSSL_cleanse(buf, sizeof(buf));
		return (MGR_EINVAL);
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	kid_of(out->key, out->kid);
	return (MGR_OK);
}

static mgr_err
key_create(const char *path, struct kek *out)
{
	int fd;

	if (RAND_bytes(out->key, VAULT_KEY_BYTES) != 1)
		return (MGR_EINTERNAL);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0) {
		if (errno == EEXIST) /* another process made it first */
			return (key_read(path, out));
		log_error(NULL, "cannot create master key %s: %s", path, strerror(errno));
		return (MGR_EINVAL);
	}
	if (write(fd, out->key, VAULT_KEY_BYTES) != VAULT_KEY_BYTES || fsync(fd) != 0) {
		log_error(NULL, "cannot write master key %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return (MGR_EINVAL);
	}
	close(fd);
	fsync_dir_of(path);
	kid_of(out->key, out->kid);
	log_info(NULL, "created master key %s (id %s)", path, out->kid);
	return (MGR_OK);
}

/* The key ids Redis knows (vault:keks) against the loaded keys. */
static mgr_err
keks_check(int *known)
{
	const char *argv[] = {"HGETALL", NULL};
	redisReply *r = NULL;
	uint8_t check[VAULT_KEY_BYTES];
	mgr_err rv;

	argv[1] = KEKS_KEY;
	if ((rv = kv_cmdargv(&r, 2, argv, NULL)) != MGR_OK) {
		log_error(NULL, "cannot read %s from Redis: %s", KEKS_KEY,
		    mgr_strerror(rv));
		return (rv);
	}
	*known = r->type == REDIS_REPLY_ARRAY ? (int)(r->elements / 2) : 0;
	rv = MGR_OK;
	for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
		const char *kid = r->element[i]->str, *val = r->element[i + 1]->str;

		if (kid == NULL || val == NULL)
			continue;
		if (kek_find(kid, strlen(kid)) == NULL) {
			log_error(NULL,
			    "master key %s wraps data keys but is not "
			    "loaded: MANAGER_MASTER_KEY_FILE holds another key (%s), "
			    "or an earlier key is missing from "
			    "MANAGER_MASTER_KEY_OLD_FILES; refusing to start",
			    kid, cr.keks[0].kid);
			rv = MGR_EINVAL;
			break;
		}
		if (unwrap_any(CHECK_AAD, val, check) != MGR_OK) {
			log_error(NULL,
			    "master key %s does not open its check value: "
			    "wrong key file; refusing to start",
			    kid);
			rv = MGR_EINVAL;
			break;
		}
	}
	freeReplyObject(r);
	OPENSSL_cleanse(check, sizeof(check));
	return (rv);
}

mgr_err
vault_crypt_init(const char *key_file, const char *old_files)
{
	static const uint8_t zero[VAULT_KEY_BYTES];
	char wrapped[VAULT_WRAPPED_MAX], list[4096];
	const char *argv[4];
	redisReply *r = NULL;
	int known = 0;
	char *p, *save = NULL;
	mgr_err rv;

	if ((cr.gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL)) == NULL)
		return (MGR_EINTERNAL);
	rv = key_read(key_file, &cr.keks[0]);
	if (rv == MGR_ENOTFOUND) {
		/* A first start only: once Redis knows of a key, it is never
		 * made anew (the data would be lost with it). */
		argv[0] = "HLEN";
		argv[1] = KEKS_KEY;
		if ((rv = kv_cmdargv(&r, 2, argv, NULL)) != MGR_OK) {
			log_error(NULL, "cannot reach Redis to check for master keys");
			return (rv);
		}
		known = r->type == REDIS_REPLY_INTEGER ? (int)r->integer : 1;
		freeReplyObject(r);
		if (known > 0) {
			log_error(NULL,
			    "master key file %s is missing, but data keys "
			    "are wrapped by a master key: restore the file; refusing "
			    "to start",
			    key_file);
			return (MGR_EINVAL);
		}
		rv = key_create(key_file, &cr.keks[0]);
	}
	if (rv != MGR_OK)
		return (rv);
	cr.nkeks = 1;
	snprintf(list, sizeof(list), "%s", old_files != NULL ? old_files : "");
	for (p = strtok_r(list, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
		if (*p == '\0')
			continue;
		if (cr.nkeks == MAX_KEKS) {
			log_error(NULL, "MANAGER_MASTER_KEY_OLD_FILES: at most %d keys",
			    MAX_KEKS - 1);
			return (MGR_EINVAL);
		}
		if ((rv = key_read(p, &cr.keks[cr.nkeks])) != MGR_OK) {
			if (rv == MGR_ENOTFOUND)
				log_error(NULL, "old master key %s is missing", p);
			return (MGR_EINVAL);
		}
		cr.nkeks++;
	}
	if ((rv = keks_check(&known)) != MGR_OK)
		return (rv);
	/* Only now that every key in use is loaded: the current key joins. */
	if ((rv = wrap_with(&cr.keks[0], CHECK_AAD, zero, wrapped, sizeof(wrapped))) !=
	    MGR_OK)
		return (rv);
	argv[0] = "HSETNX";
	argv[1] = KEKS_KEY;
	argv[2] = cr.keks[0].kid;
	argv[3] = wrapped;
	if ((rv = kv_cmdargv(&r, 4, argv, NULL)) != MGR_OK)
		return (rv);
	freeReplyObject(r);
	log_info(NULL, "master key %s loaded (%d earlier key(s) readable)",
	    cr.keks[0].kid, cr.nkeks - 1);
	return (MGR_OK);
}

void
vault_crypt_fini(void)
{
	OPENSSL_cleanse(cr.keks, sizeof(cr.keks));
	OPENSSL_cleanse(cr.cache, sizeof(cr.cache));
	EVP_CIPHER_free(cr.gcm);
	cr.gcm = NULL;
	cr.nkeks = 0;
}

const char *
vault_crypt_kid(void)
{
	return (cr.keks[0].kid);
}

static void
dk_aad(const char *vid, char *aad, size_t len)
{
	snprintf(aad, len, "mgr-dk1:%s", vid);
}

mgr_err
vault_crypt_wrap(const char *vid, const uint8_t key[VAULT_KEY_BYTES], char *out,
    size_t outlen)
{
	char aad[MGR_ID_MAX + 16];

	dk_aad(vid, aad, sizeof(aad));
	return (wrap_with(&cr.keks[0], aad, key, out, outlen));
}

mgr_err
vault_crypt_unwrap(const char *vid, const char *wrapped, uint8_t key[VAULT_KEY_BYTES])
{
	char aad[MGR_ID_MAX + 16];

	dk_aad(vid, aad, sizeof(aad));
	return (unwrap_any(aad, wrapped, key));
}

static size_t
slot_of(const char *vid)
{
	size_t h = 5381;

	for (const char *p = vid; *p != '\0'; p++)
		h = h * 33 + (unsigned char)*p;
	return (h % DK_CACHE);
}

/* Stores a data key for the vault unless it has one; returns the one it
 * has. NOTFOUND when the vault is gone. */
static const char lua_dk_set[] = "if redis.call('EXISTS', KEYS[1]) == 0 then\n"
                                 "  return redis.error_reply('NOTFOUND no such vault')\n"
                                 "end\n"
                                 "redis.call('HSETNX', KEYS[1], 'dk', ARGV[1])\n"
                                 "return redis.call('HGET', KEYS[1], 'dk')\n";

mgr_err
vault_crypt_dk(const char *vid, uint8_t key[VAULT_KEY_BYTES])
{
	char khash[MGR_ID_MAX + 16], wrapped[VAULT_WRAPPED_MAX];
	const char *argv[3];
	uint8_t fresh[VAULT_KEY_BYTES];
	redisReply *r = NULL;
	size_t slot = slot_of(vid);
	mgr_err rv;

	if (strlen(vid) >= MGR_ID_MAX)
		return (MGR_EINVAL);
	pthread_mutex_lock(&cr.lock);
	if (strcmp(cr.cache[slot].vid, vid) == 0) {
		memcpy(key, cr.cache[slot].key, VAULT_KEY_BYTES);
		pthread_mutex_unlock(&cr.lock);
		return (MGR_OK);
	}
	pthread_mutex_unlock(&cr.lock);
	snprintf(khash, sizeof(khash), "vault:{%s}", vid);
	argv[0] = "HGET";
	argv[1] = khash;
	argv[2] = "dk";
	if ((rv = kv_cmdargv(&r, 3, argv, NULL)) != MGR_OK)
		return (rv);
	if (r->type != REDIS_REPLY_STRING) {
		freeReplyObject(r);
		r = NULL;
		/* The vault's first write (or the first since an upgrade). */
		if (RAND_bytes(fresh, sizeof(fresh)) != 1)
			return (MGR_EINTERNAL);
		rv = vault_crypt_wrap(vid, fresh, wrapped, sizeof(wrapped));
		OPENSSL_cleanse(fresh, sizeof(fresh));
		if (rv != MGR_OK)
			return (rv);
		argv[0] = khash;
		argv[1] = wrapped;
		if ((rv = kv_eval(&r, lua_dk_set, 1, 2, argv, NULL)) != MGR_OK)
			return (rv);
	}
	rv = r->type == REDIS_REPLY_STRING ? vault_crypt_unwrap(vid, r->str, key)
	                                   : MGR_EINTERNAL;
	freeReplyObject(r);
	if (rv != MGR_OK) {
		log_error(NULL,
		    "vault %s: its data key does not open with any "
		    "loaded master key",
		    vid);
		return (MGR_EUNAVAIL);
	}
	pthread_mutex_lock(&cr.lock);
	snprintf(cr.cache[slot].vid, sizeof(cr.cache[slot].vid), "%s", vid);
	memcpy(cr.cache[slot].key, key, VAULT_KEY_BYTES);
	pthread_mutex_unlock(&cr.lock);
	return (MGR_OK);
}

/* "mgr-chunk1" || vid || 0 || blob || 0 || index (4, big endian) || len (8). */
static size_t
chunk_aad(const char *vid, const char *blob, uint32_t index, uint64_t len, uint8_t *aad,
    size_t cap)
{
	size_t a = strlen(vid), b = strlen(blob), n = 0;

	if (10 + a + 1 + b + 1 + 12 > cap)
		return (0);
	memcpy(aad, "mgr-chunk1", 10);
	n = 10;
	memcpy(aad + n, vid, a + 1);
	n += a + 1;
	memcpy(aad + n, blob, b + 1);
	n += b + 1;
	for (int i = 3; i >= 0; i--)
		aad[n++] = (uint8_t)(index >> (8 * i));
	for (int i = 7; i >= 0; i--)
		aad[n++] = (uint8_t)(len >> (8 * i));
	return (n);
}

mgr_err
vault_seal(const uint8_t key[VAULT_KEY_BYTES], const char *vid, const char *blob,
    uint32_t index, const void *in, size_t len, uint8_t *out)
{
	uint8_t aad[256];
	size_t aadlen = chunk_aad(vid, blob, index, len, aad, sizeof(aad));

	if (aadlen == 0)
		return (MGR_EINVAL);
	memcpy(out, "MGC1", 4);
	if (RAND_bytes(out + 4, NONCE_BYTES) != 1)
		return (MGR_EINTERNAL);
	return (gcm(1, key, out + 4, aad, aadlen, in, len, out + 4 + NONCE_BYTES,
	    out + 4 + NONCE_BYTES + len));
}

mgr_err
vault_open(const uint8_t key[VAULT_KEY_BYTES], const char *vid, const char *blob,
    uint32_t index, const uint8_t *in, size_t inlen, uint8_t *out, size_t len)
{
	uint8_t aad[256], tag[TAG_BYTES];
	size_t aadlen = chunk_aad(vid, blob, index, len, aad, sizeof(aad));

	if (aadlen == 0 || inlen != len + VAULT_SEAL_OVERHEAD ||
	    memcmp(in, "MGC1", 4) != 0)
		return (MGR_EINTERNAL);
	memcpy(tag, in + 4 + NONCE_BYTES + len, TAG_BYTES);
	return (gcm(0, key, in + 4, aad, aadlen, in + 4 + NONCE_BYTES, len, out, tag));
}

/* Re-wraps one vault's data key when it still is the value read. */
static const char lua_dk_swap[] =
    "if redis.call('HGET', KEYS[1], 'dk') ~= ARGV[1] then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'dk', ARGV[2])\n"
    "return 1\n";

mgr_err
vault_crypt_rewrap_pass(size_t limit, size_t *left)
{
	const char *zr[] = {"ZRANGE", "vault:all", "0", "-1"};
	redisReply *ids = NULL, *r = NULL;
	uint8_t key[VAULT_KEY_BYTES];
	char khash[MGR_ID_MAX + 16], wrapped[VAULT_WRAPPED_MAX];
	size_t old = 0, done = 0;
	mgr_err rv;

	if ((rv = kv_cmdargv(&ids, 4, zr, NULL)) != MGR_OK)
		return (rv);
	for (size_t i = 0; ids->type == REDIS_REPLY_ARRAY && i < ids->elements; i++) {
		const char *vid = ids->element[i]->str;
		const char *hg[] = {"HGET", khash, "dk"};
		const char *sw[] = {khash, NULL, wrapped};

		if (vid == NULL || strlen(vid) >= MGR_ID_MAX)
			continue;
		snprintf(khash, sizeof(khash), "vault:{%s}", vid);
		if ((rv = kv_cmdargv(&r, 3, hg, NULL)) != MGR_OK)
			goto out;
		if (r->type != REDIS_REPLY_STRING ||
		    strncmp(r->str, cr.keks[0].kid, VAULT_KID_LEN) == 0) {
			freeReplyObject(r);
			r = NULL;
			continue;
		}
		old++;
		if (done < limit && vault_crypt_unwrap(vid, r->str, key) == MGR_OK &&
		    vault_crypt_wrap(vid, key, wrapped, sizeof(wrapped)) == MGR_OK) {
			redisReply *s = NULL;

			sw[1] = r->str;
			if (kv_eval(&s, lua_dk_swap, 1, 3, sw, NULL) == MGR_OK) {
				if (s->type == REDIS_REPLY_INTEGER && s->integer == 1) {
					done++;
					old--;
				}
				freeReplyObject(s);
			}
		}
		freeReplyObject(r);
		r = NULL;
	}
	if (done > 0)
		log_info(NULL,
		    "re-wrapped %zu data key(s) with master key %s; %zu "
		    "left",
		    done, cr.keks[0].kid, old);
	if (old == 0 && cr.nkeks > 1) {
		/* No data key uses an old master key any more. */
		const char *hk[] = {"HKEYS", KEKS_KEY};
		redisReply *k = NULL;

		if (kv_cmdargv(&k, 2, hk, NULL) == MGR_OK) {
			for (size_t j = 0;
			     k->type == REDIS_REPLY_ARRAY && j < k->elements; j++) {
				const char *hd[] = {"HDEL", KEKS_KEY, k->element[j]->str};
				redisReply *d = NULL;

				if (k->element[j]->str == NULL ||
				    strcmp(k->element[j]->str, cr.keks[0].kid) == 0)
					continue;
				if (kv_cmdargv(&d, 3, hd, NULL) == MGR_OK) {
					if (d->type == REDIS_REPLY_INTEGER &&
					    d->integer == 1)
						log_info(NULL,
						    "master key %s is no longer "
						    "used; its file may be removed from "
						    "MANAGER_MASTER_KEY_OLD_FILES",
						    k->element[j]->str);
					freeReplyObject(d);
				}
			}
			freeReplyObject(k);
		}
	}
	*left = old;
	rv = MGR_OK;
out:
	OPENSSL_cleanse(key, sizeof(key));
	if (r != NULL)
		freeReplyObject(r);
	freeReplyObject(ids);
	return (rv);
}
