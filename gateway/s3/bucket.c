/* Buckets (the caller's locked vaults) and their listings: ListBuckets,
 * CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation,
 * GetBucketVersioning, ListObjects (v1) and ListObjectsV2. The vault
 * service decides and audits; CommonPrefixes are folded here, skipping a
 * whole prefix with one call. */
#include "gateway/s3/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/util.h"

#define LIST_MAX_KEYS 1000
#define BUCKETS_MAX 10000

/* ---- ListBuckets ---------------------------------------------------------- */

static mgr_err
list_buckets(struct s3_req *q)
{
	Mgr__Vault__PageRequest in = MGR__VAULT__PAGE_REQUEST__INIT;
	Mgr__Vault__VaultList *out = NULL;
	char after[128] = "", t[32];
	struct s3_xml *x = NULL;
	size_t total = 0;
	mgr_err rv;

	if ((rv = s3_xml_new(&x, "ListAllMyBucketsResult")) != MGR_OK)
		return (rv);
	s3_xml_open(x, "Owner");
	s3_xml_text(x, "ID", q->r.caller_id, (size_t)-1);
	s3_xml_text(x, "DisplayName", q->r.caller_id, (size_t)-1);
	s3_xml_close(x);
	s3_xml_open(x, "Buckets");
	do {
		in.after = after;
		in.limit = 0;
		if ((rv = gw_rpc(&q->r, gw.vault, "vault.List", &in.base,
		         &mgr__vault__vault_list__descriptor,
		         (ProtobufCMessage **)&out)) != MGR_OK) {
			s3_xml_free(x);
			return (rv);
		}
		for (size_t i = 0; i < out->n_vaults; i++) {
			s3_xml_open(x, "Bucket");
			s3_xml_text(x, "Name", out->vaults[i]->name, (size_t)-1);
			s3_time_iso(out->vaults[i]->created_at, t);
			s3_xml_text(x, "CreationDate", t, (size_t)-1);
			s3_xml_close(x);
		}
		total += out->n_vaults;
		snprintf(after, sizeof(after), "%s", out->next_after);
		mgr__vault__vault_list__free_unpacked(out, NULL);
		out = NULL;
	} while (after[0] != '\0' && total < BUCKETS_MAX);
	s3_xml_close(x);
	return (s3_reply_xml(q, 200, x));
}

/* ---- the bucket itself ---------------------------------------------------- */

/* vault.Get of the request's bucket (*out freed by the caller). */
static mgr_err
bucket_get(struct s3_req *q, Mgr__Vault__Vault **out)
{
	Mgr__Vault__VaultRef in = MGR__VAULT__VAULT_REF__INIT;
	mgr_err rv;

	in.name = q->bucket;
	rv = gw_rpc(&q->r, gw.vault, "vault.Get", &in.base,
	    &mgr__vault__vault__descriptor, (ProtobufCMessage **)out);
	if (rv == MGR_ENOTFOUND)
		return (s3_fail(q, "NoSuchBucket", "no such bucket"));
	return (rv);
}

static mgr_err
create_bucket(struct s3_req *q)
{
	Mgr__Vault__CreateVaultRequest in = MGR__VAULT__CREATE_VAULT_REQUEST__INIT;
	Mgr__Vault__Vault *out = NULL, *have = NULL;
	const char *mirror = s3_header(q, "x-mgr-mirror-template");
	struct MHD_Response *resp;
	char loc[256], path[S3_BUCKET_MAX + 2];
	mgr_err rv;

	if ((rv = s3_xml_parse_location(q->r.body.data, q->r.body.len, loc,
	         sizeof(loc))) != MGR_OK)
		return (s3_fail(q, "MalformedXML", "bad CreateBucketConfiguration"));
	/* The template named by LocationConstraint (its id or name), else the
	 * vault service's default; the service says which does not exist. */
	in.name = q->bucket;
	in.vault_template_id = loc;
	in.template_by_name = 1;
	if (mirror != NULL)
		in.mirror_template_id = (char *)mirror;
	rv = gw_rpc(&q->r, gw.vault, "vault.Create", &in.base,
	    &mgr__vault__vault__descriptor, (ProtobufCMessage **)&out);
	if (rv == MGR_ECONFLICT) {
		char msg[sizeof(q->r.errmsg)];

		snprintf(msg, sizeof(msg), "%s", q->r.errmsg);
		if (bucket_get(q, &have) == MGR_OK) {
			mgr__vault__vault__free_unpacked(have, NULL);
			return (s3_fail(q, "BucketAlreadyOwnedByYou",
			    "you own the bucket "
			    "%s already",
			    q->bucket));
		}
		return (s3_fail(q, "BucketAlreadyExists", "%s", msg));
	}
	/* Template refusals come as "InvalidLocationConstraint: ..." (the
	 * front takes the code from there); the rest of 400s is the name's. */
	if (rv == MGR_EINVAL && strncmp(q->r.errmsg, "Invalid", 7) != 0 &&
	    strstr(q->r.errmsg, "\"name\"") != NULL)
		return (s3_fail(q, "InvalidBucketName", "%s", q->r.errmsg));
	if (rv == MGR_EUNAUTH)
		q->s3code = "AccessDenied";
	if (rv != MGR_OK)
		return (rv);
	mgr__vault__vault__free_unpacked(out, NULL);
	resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return (MGR_ENOMEM);
	snprintf(path, sizeof(path), "/%s", q->bucket);
	MHD_add_response_header(resp, "Location", path);
	q->r.bytes = 0;
	return (s3_reply(q, 200, resp));
}

static mgr_err
head_bucket(struct s3_req *q)
{
	Mgr__Vault__Vault *v = NULL;
	mgr_err rv;

	if ((rv = bucket_get(q, &v)) != MGR_OK)
		return (rv);
	mgr__vault__vault__free_unpacked(v, NULL);
	return (s3_reply_empty(q, 200));
}

static mgr_err
delete_bucket(struct s3_req *q)
{
	Mgr__Vault__VaultRef in = MGR__VAULT__VAULT_REF__INIT;
	mgr_err rv;

	in.name = q->bucket;
	rv = gw_rpc(&q->r, gw.vault, "vault.Delete", &in.base, NULL, NULL);
	if (rv == MGR_ECONFLICT)
		return (s3_fail(q, "BucketNotEmpty", "the bucket is not empty"));
	if (rv == MGR_ENOTFOUND)
		return (s3_fail(q, "NoSuchBucket", "no such bucket"));
	if (rv != MGR_OK)
		return (rv);
	return (s3_reply_empty(q, 204));
}

static mgr_err
get_location(struct s3_req *q)
{
	Mgr__Vault__Vault *v = NULL;
	struct s3_xml *x = NULL;
	mgr_err rv;

	if ((rv = bucket_get(q, &v)) != MGR_OK)
		return (rv);
	mgr__vault__vault__free_unpacked(v, NULL);
	/* One location: S3's "us-east-1", written as an empty constraint. */
	if ((rv = s3_xml_new(&x, "LocationConstraint")) != MGR_OK)
		return (rv);
	return (s3_reply_xml(q, 200, x));
}

static mgr_err
get_versioning(struct s3_req *q)
{
	Mgr__Vault__Vault *v = NULL;
	struct s3_xml *x = NULL;
	mgr_err rv;

	if ((rv = bucket_get(q, &v)) != MGR_OK)
		return (rv);
	mgr__vault__vault__free_unpacked(v, NULL);
	/* Never enabled: S3 answers an empty configuration. */
	if ((rv = s3_xml_new(&x, "VersioningConfiguration")) != MGR_OK)
		return (rv);
	return (s3_reply_xml(q, 200, x));
}

/* ---- listings -------------------------------------------------------------- */

/* Past every key that starts with p (a common prefix): p followed by the
 * largest UTF-8 character as often as a key's length allows. Keys are
 * UTF-8, ordered byte-wise, so no key with prefix p sorts after it (but one
 * of more than 255 such characters, which no client writes). */
static void
past_prefix(const char *p, size_t n, char *out, size_t outlen)
{
	size_t len = n < outlen - 1 ? n : outlen - 1;

	memcpy(out, p, len);
	while (len + 4 <= S3_KEY_MAX && len + 4 < outlen) {
		memcpy(out + len, "\xf4\x8f\xbf\xbf", 4);
		len += 4;
	}
	out[len] = '\0';
}

struct entry {
	char *key; /* a key or a common prefix */
	int is_prefix;
	int64_t size;
	int64_t modified_at;
	char etag[80];
};

struct listing {
	struct entry *e;
	size_t n;
	int truncated;
	char next[S3_KEY_MAX * 2 + 8]; /* the last entry (a marker) */
	int next_is_prefix;
};

static void
listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].key);
	free(l->e);
	l->e = NULL;
	l->n = 0;
}

static mgr_err
listing_add(struct listing *l, const char *key, size_t n, int is_prefix,
    const Mgr__Vault__Object *o)
{
	struct entry *e;

	e = &l->e[l->n];
	if ((e->key = malloc(n + 1)) == NULL)
		return (MGR_ENOMEM);
	memcpy(e->key, key, n);
	e->key[n] = '\0';
	e->is_prefix = is_prefix;
	if (o != NULL) {
		e->size = o->size;
		e->modified_at = o->modified_at;
		s3_etag(o, e->etag);
	}
	l->n++;
	return (MGR_OK);
}

/* Up to max entries of the bucket after `after` (exclusive; after_prefix:
 * after is a common prefix, skip all of it), keys under prefix, folded at
 * delim (NULL: none). */
static mgr_err
list_walk(struct s3_req *q, const char *prefix, const char *delim, const char *after,
    int after_prefix, uint32_t max, struct listing *l)
{
	Mgr__Vault__ListObjectsRequest in = MGR__VAULT__LIST_OBJECTS_REQUEST__INIT;
	Mgr__Vault__ListObjectsReply *out = NULL;
	char cur[S3_KEY_MAX + 8], skip[S3_KEY_MAX + 1] = "";
	size_t pl = strlen(prefix), dl = delim != NULL ? strlen(delim) : 0;
	int done = 0;
	mgr_err rv = MGR_OK;

	l->n = 0;
	l->truncated = 0;
	if ((l->e = calloc(max + 1, sizeof(*l->e))) == NULL)
		return (MGR_ENOMEM);
	if (max == 0)
		return (MGR_OK); /* max-keys=0: nothing, and nothing more */
	if (after_prefix) {
		past_prefix(after, strlen(after), cur, sizeof(cur));
		snprintf(skip, sizeof(skip), "%s", after);
	} else
		snprintf(cur, sizeof(cur), "%s", after);
	in.vault = q->bucket;
	in.prefix = (char *)prefix;
	while (!done) {
		size_t i;
		int restart = 0;

		in.after = cur;
		/* One more than asked: whether there are more is known without
		 * another call (when nothing folds). */
		in.limit = max - (uint32_t)l->n + 1;
		if (in.limit > LIST_MAX_KEYS)
			in.limit = LIST_MAX_KEYS;
		if ((rv = gw_rpc(&q->r, gw.vault, "vault.ListObjects", &in.base,
		         &mgr__vault__list_objects_reply__descriptor,
		         (ProtobufCMessage **)&out)) != MGR_OK)
			break;
		for (i = 0; i < out->n_objects; i++) {
			const Mgr__Vault__Object *o = out->objects[i];
			size_t kl = strlen(o->key);
			const char *d = NULL;

			/* A key of the prefix just folded that sorts past the skip
			 * (past_prefix's limit): step over it one by one. */
			if (skip[0] != '\0' && strncmp(o->key, skip, strlen(skip)) == 0) {
				snprintf(cur, sizeof(cur), "%s", o->key);
				continue;
			}
			if (dl > 0 && kl > pl)
				d = strstr(o->key + pl, delim);
			if (l->n == max) {
				/* An entry past the page: there is more. */
				l->truncated = 1;
				done = 1;
				break;
			}
			if (d != NULL) {
				size_t cl = (size_t)(d - o->key) + dl;

				if ((rv = listing_add(l, o->key, cl, 1, NULL)) != MGR_OK)
					break;
				/* Skip the rest of the prefix in one call. */
				past_prefix(o->key, cl, cur, sizeof(cur));
				memcpy(skip, o->key, cl);
				skip[cl] = '\0';
				restart = 1;
				break;
			}
			if ((rv = listing_add(l, o->key, kl, 0, o)) != MGR_OK)
				break;
			snprintf(cur, sizeof(cur), "%s", o->key);
		}
		if (rv == MGR_OK && !done && !restart && out->next_after[0] == '\0')
			done = 1;
		mgr__vault__list_objects_reply__free_unpacked(out, NULL);
		out = NULL;
		if (rv != MGR_OK)
			break;
	}
	if (rv != MGR_OK) {
		listing_free(l);
		return (rv);
	}
	if (l->n > 0) {
		snprintf(l->next, sizeof(l->next), "%s", l->e[l->n - 1].key);
		l->next_is_prefix = l->e[l->n - 1].is_prefix;
	}
	return (MGR_OK);
}

/* A key as the listing writes it: url-encoded for encoding-type=url. */
static void
xml_key(struct s3_xml *x, const char *name, const char *key, int url)
{
	char *enc;
	size_t n = strlen(key);

	if (!url) {
		s3_xml_text(x, name, key, n);
		return;
	}
	if ((enc = malloc(3 * n + 1)) == NULL) {
		s3_xml_text(x, name, key, n); /* s3_xml_finish fails anyway */
		return;
	}
	s3_url_encode(key, n, enc);
	s3_xml_text(x, name, enc, (size_t)-1);
	free(enc);
}

/* The query arguments of both listings; a bad one is InvalidArgument. */
struct list_args {
	const char *prefix, *delim, *enc;
	uint32_t max;
	int url;
};

static mgr_err
list_args(struct s3_req *q, struct list_args *a)
{
	const char *mk = s3_query(q, "max-keys");
	int64_t n = LIST_MAX_KEYS;

	a->prefix = s3_query(q, "prefix");
	a->delim = s3_query(q, "delimiter");
	a->enc = s3_query(q, "encoding-type");
	if (a->prefix == NULL)
		a->prefix = "";
	if (a->delim != NULL && *a->delim == '\0')
		a->delim = NULL;
	if (strlen(a->prefix) > S3_KEY_MAX)
		return (s3_fail(q, "InvalidArgument", "prefix is too long"));
	if (a->enc != NULL && strcmp(a->enc, "url") != 0)
		return (s3_fail(q, "InvalidArgument", "encoding-type is url or none"));
	a->url = a->enc != NULL;
	if (mk != NULL && (mgr_parse_i64(mk, &n) != MGR_OK || n < 0))
		return (s3_fail(q, "InvalidArgument",
		    "max-keys must be a number from "
		    "0 to %d",
		    LIST_MAX_KEYS));
	if (n > LIST_MAX_KEYS)
		n = LIST_MAX_KEYS;
	a->max = (uint32_t)n;
	return (MGR_OK);
}

static void
list_body(struct s3_xml *x, const struct listing *l, const struct list_args *a,
    const char *owner, int with_owner)
{
	char t[32];

	for (size_t i = 0; i < l->n; i++) {
		const struct entry *e = &l->e[i];

		if (e->is_prefix)
			continue;
		s3_xml_open(x, "Contents");
		xml_key(x, "Key", e->key, a->url);
		s3_time_iso(e->modified_at, t);
		s3_xml_text(x, "LastModified", t, (size_t)-1);
		s3_xml_text(x, "ETag", e->etag, (size_t)-1);
		s3_xml_printf(x, "Size", "%lld", (long long)e->size);
		if (with_owner) {
			s3_xml_open(x, "Owner");
			s3_xml_text(x, "ID", owner, (size_t)-1);
			s3_xml_text(x, "DisplayName", owner, (size_t)-1);
			s3_xml_close(x);
		}
		s3_xml_text(x, "StorageClass", "STANDARD", (size_t)-1);
		s3_xml_close(x);
	}
	for (size_t i = 0; i < l->n; i++) {
		if (!l->e[i].is_prefix)
			continue;
		s3_xml_open(x, "CommonPrefixes");
		xml_key(x, "Prefix", l->e[i].key, a->url);
		s3_xml_close(x);
	}
}

/* A v1 marker that is a common prefix of this listing (it ends in the
 * delimiter, which it holds nowhere else past the prefix) skips that
 * prefix, as NextMarker means. */
static int
marker_is_prefix(const char *m, const struct list_args *a)
{
	size_t pl = strlen(a->prefix), dl, ml = strlen(m);
	const char *d;

	if (a->delim == NULL || strncmp(m, a->prefix, pl) != 0)
		return (0);
	dl = strlen(a->delim);
	if (ml < pl + dl || strcmp(m + ml - dl, a->delim) != 0)
		return (0);
	d = strstr(m + pl, a->delim);
	return (d == m + ml - dl);
}

static mgr_err
list_v1(struct s3_req *q)
{
	struct list_args a;
	struct listing l = {NULL, 0, 0, "", 0};
	const char *marker = s3_query(q, "marker");
	struct s3_xml *x = NULL;
	mgr_err rv;

	if ((rv = list_args(q, &a)) != MGR_OK)
		return (rv);
	if (marker == NULL)
		marker = "";
	if (strlen(marker) > S3_KEY_MAX)
		return (s3_fail(q, "InvalidArgument", "marker is too long"));
	if ((rv = list_walk(q, a.prefix, a.delim, marker, marker_is_prefix(marker, &a),
	         a.max, &l)) != MGR_OK)
		return (rv);
	if ((rv = s3_xml_new(&x, "ListBucketResult")) != MGR_OK) {
		listing_free(&l);
		return (rv);
	}
	s3_xml_text(x, "Name", q->bucket, (size_t)-1);
	xml_key(x, "Prefix", a.prefix, a.url);
	xml_key(x, "Marker", marker, a.url);
	s3_xml_printf(x, "MaxKeys", "%u", a.max);
	if (a.delim != NULL)
		xml_key(x, "Delimiter", a.delim, a.url);
	if (a.url)
		s3_xml_text(x, "EncodingType", "url", (size_t)-1);
	s3_xml_text(x, "IsTruncated", l.truncated ? "true" : "false", (size_t)-1);
	if (l.truncated && a.delim != NULL)
		xml_key(x, "NextMarker", l.next, a.url);
	list_body(x, &l, &a, q->r.caller_id, 1);
	listing_free(&l);
	return (s3_reply_xml(q, 200, x));
}

/* Continuation tokens: "k" or "p" (a key or a common prefix to skip) and
 * the marker, base64url without padding. */
static void
token_make(const char *marker, int is_prefix, char *out, size_t outlen)
{
	size_t n = strlen(marker);
	unsigned char *raw = malloc(n + 1);
	int len;

	out[0] = '\0';
	if (raw == NULL || outlen < 4 * ((n + 3) / 3) + 1) {
		free(raw);
		return;
	}
	raw[0] = is_prefix ? 'p' : 'k';
	memcpy(raw + 1, marker, n);
	len = EVP_EncodeBlock((unsigned char *)out, raw, (int)n + 1);
	free(raw);
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (int i = 0; i < len; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
}

static int
token_parse(const char *tok, char *marker, size_t mlen, int *is_prefix)
{
	size_t n = strlen(tok), pad = (4 - n % 4) % 4;
	unsigned char dec[S3_KEY_MAX * 2 + 8];
	char b64[(S3_KEY_MAX * 2 + 8) * 4 / 3 + 8];
	int dn;

	if (n == 0 || n + pad >= sizeof(b64) || pad == 3)
		return (0);
	for (size_t i = 0; i < n; i++) {
		char c = tok[i];

		b64[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	for (size_t i = 0; i < pad; i++)
		b64[n + i] = '=';
	b64[n + pad] = '\0';
	if ((dn = EVP_DecodeBlock(dec, (unsigned char *)b64, (int)(n + pad))) < 0)
		return (0);
	dn -= (int)pad;
	if (dn < 1 || (dec[0] != 'k' && dec[0] != 'p') || (size_t)dn > mlen ||
	    memchr(dec, '\0', (size_t)dn) != NULL)
		return (0);
	*is_prefix = dec[0] == 'p';
	memcpy(marker, dec + 1, (size_t)dn - 1);
	marker[dn - 1] = '\0';
	return (1);
}

static mgr_err
list_v2(struct s3_req *q)
{
	struct list_args a;
	struct listing l = {NULL, 0, 0, "", 0};
	const char *tok = s3_query(q, "continuation-token");
	const char *sa = s3_query(q, "start-after");
	const char *fo = s3_query(q, "fetch-owner");
	char after[S3_KEY_MAX + 1] = "", next[(S3_KEY_MAX + 2) * 4 / 3 + 8];
	int after_prefix = 0;
	size_t count = 0;
	struct s3_xml *x = NULL;
	mgr_err rv;

	if ((rv = list_args(q, &a)) != MGR_OK)
		return (rv);
	if (tok != NULL) {
		if (!token_parse(tok, after, sizeof(after), &after_prefix))
			return (s3_fail(q, "InvalidArgument",
			    "The continuation token "
			    "provided is incorrect"));
	} else if (sa != NULL) {
		if (strlen(sa) > S3_KEY_MAX)
			return (s3_fail(q, "InvalidArgument", "start-after is too long"));
		snprintf(after, sizeof(after), "%s", sa);
	}
	if ((rv = list_walk(q, a.prefix, a.delim, after, after_prefix, a.max, &l)) !=
	    MGR_OK)
		return (rv);
	if ((rv = s3_xml_new(&x, "ListBucketResult")) != MGR_OK) {
		listing_free(&l);
		return (rv);
	}
	count = l.n;
	s3_xml_text(x, "Name", q->bucket, (size_t)-1);
	xml_key(x, "Prefix", a.prefix, a.url);
	if (sa != NULL)
		xml_key(x, "StartAfter", sa, a.url);
	if (tok != NULL)
		s3_xml_text(x, "ContinuationToken", tok, (size_t)-1);
	s3_xml_printf(x, "KeyCount", "%zu", count);
	s3_xml_printf(x, "MaxKeys", "%u", a.max);
	if (a.delim != NULL)
		xml_key(x, "Delimiter", a.delim, a.url);
	if (a.url)
		s3_xml_text(x, "EncodingType", "url", (size_t)-1);
	s3_xml_text(x, "IsTruncated", l.truncated ? "true" : "false", (size_t)-1);
	if (l.truncated) {
		token_make(l.next, l.next_is_prefix, next, sizeof(next));
		s3_xml_text(x, "NextContinuationToken", next, (size_t)-1);
	}
	list_body(x, &l, &a, q->r.caller_id, fo != NULL && strcmp(fo, "true") == 0);
	listing_free(&l);
	return (s3_reply_xml(q, 200, x));
}

const struct s3_opdef s3_op_list_buckets = {S3_BODY_NONE, 0, NULL, NULL, list_buckets,
    NULL};
const struct s3_opdef s3_op_create_bucket = {S3_BODY_XML, 0, NULL, NULL, create_bucket,
    NULL};
const struct s3_opdef s3_op_head_bucket = {S3_BODY_NONE, 0, NULL, NULL, head_bucket,
    NULL};
const struct s3_opdef s3_op_delete_bucket = {S3_BODY_NONE, 0, NULL, NULL, delete_bucket,
    NULL};
const struct s3_opdef s3_op_get_location = {S3_BODY_NONE, 0, NULL, NULL, get_location,
    NULL};
const struct s3_opdef s3_op_get_versioning = {S3_BODY_NONE, 0, NULL, NULL, get_versioning,
    NULL};
const struct s3_opdef s3_op_list_objects = {S3_BODY_NONE, 0, NULL, NULL, list_v1, NULL};
const struct s3_opdef s3_op_list_objects_v2 = {S3_BODY_NONE, 0, NULL, NULL, list_v2,
    NULL};

/* For the other listings (multipart.c: ListMultipartUploads). */
void
s3_xml_key(struct s3_xml *x, const char *name, const char *key, int url)
{
	xml_key(x, name, key, url);
}
