/* The public PKI routes (API.md "PKI (v2)"): the CA certificate and the CRL
 * in DER at the URLs written into every certificate, and the OCSP responder
 * (RFC 6960 over POST and GET, RFC 5019's caching headers), answered by
 * ca-svc.
 *
 * Signed answers to requests without a nonce are cached here, keyed by the
 * SHA-256 of the request's DER (a GET and a POST of the same request share
 * one), for up to GW_OCSP_REUSE_S and never past nextUpdate. A revocation
 * moves auth:epoch in the script that revokes; the authentication cache's
 * sync (gateway/authcache.c) sees it on the next request and bumps its
 * generation, and an answer cached under another generation is not used: so
 * an OCSP answer, like an authentication answer, reflects a revocation from
 * the next request on. */
#include "gateway/gw.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include "common/util.h"
#include "gateway/authcache.h"
#include "proto/ca.pb-c.h"

#define GW_OCSP_SLOTS 4096     /* power of two */
#define GW_OCSP_ENTRY_MAX 4096 /* larger answers are not cached */
#define GW_OCSP_REUSE_S 300    /* a cached answer's thisUpdate is at most this old */
#define GW_OCSP_GET_MAX 1024   /* decoded GET request bytes */

struct ocsp_entry {
	unsigned char key[32];
	unsigned char der[GW_OCSP_ENTRY_MAX];
	size_t len;
	int64_t this_up, next_up;
	unsigned long gen;
	int used;
};

static pthread_mutex_t oc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ocsp_entry *oc_table;

static unsigned
oc_slot(const unsigned char key[32])
{
	return (((unsigned)key[0] | (unsigned)key[1] << 8 | (unsigned)key[2] << 16) &
	    (GW_OCSP_SLOTS - 1));
}

/* A cached answer for key under generation gen, copied into *der (malloc'ed). */
static int
oc_get(const unsigned char key[32], unsigned long gen, int64_t now, unsigned char **der,
    size_t *len, int64_t *this_up, int64_t *next_up)
{
	struct ocsp_entry *e;
	int hit = 0;

	pthread_mutex_lock(&oc_lock);
	if (oc_table != NULL) {
		e = &oc_table[oc_slot(key)];
		if (e->used && e->gen == gen && memcmp(e->key, key, 32) == 0 &&
		    now < e->this_up + GW_OCSP_REUSE_S && now < e->next_up &&
		    (*der = malloc(e->len)) != NULL) {
			memcpy(*der, e->der, e->len);
			*len = e->len;
			*this_up = e->this_up;
			*next_up = e->next_up;
			hit = 1;
		}
	}
	pthread_mutex_unlock(&oc_lock);
	return (hit);
}

static void
oc_put(const unsigned char key[32], unsigned long gen, const unsigned char *der,
    size_t len, int64_t this_up, int64_t next_up)
{
	struct ocsp_entry *e;

	if (len > GW_OCSP_ENTRY_MAX)
		return;
	pthread_mutex_lock(&oc_lock);
	if (oc_table == NULL)
		oc_table = calloc(GW_OCSP_SLOTS, sizeof(*oc_table));
	/* Stored only if no revocation was seen since gen was taken. */
	if (oc_table != NULL && gen == gw_authcache_generation()) {
		e = &oc_table[oc_slot(key)];
		memcpy(e->key, key, 32);
		memcpy(e->der, der, len);
		e->len = len;
		e->this_up = this_up;
		e->next_up = next_up;
		e->gen = gen;
		e->used = 1;
	}
	pthread_mutex_unlock(&oc_lock);
}

static void
http_date(int64_t t, char out[40])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		out[0] = '\0';
}

static mgr_err
reply_der(struct gw_req *r, int status, const char *type, const unsigned char *der,
    size_t len, const char *cache_control, int64_t last_modified, int64_t expires,
    const char *etag)
{
	struct MHD_Response *resp;
	char d[40];

	resp = MHD_create_response_from_buffer(len, (void *)der, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return (MGR_ENOMEM);
	MHD_add_response_header(resp, "Content-Type", type);
	if (cache_control != NULL)
		MHD_add_response_header(resp, "Cache-Control", cache_control);
	if (last_modified > 0) {
		http_date(last_modified, d);
		MHD_add_response_header(resp, "Last-Modified", d);
	}
	if (expires > 0) {
		http_date(expires, d);
		MHD_add_response_header(resp, "Expires", d);
	}
	if (etag != NULL)
		MHD_add_response_header(resp, "ETag", etag);
	return (gw_reply_response(r, status, resp));
}

static mgr_err
h_ca_der(struct gw_req *r)
{
	unsigned char *der = NULL;
	int n;
	mgr_err rv;

	if ((n = i2d_X509(gw.ca_cert, &der)) <= 0)
		return (MGR_ENOMEM);
	rv = reply_der(r, 200, "application/pkix-cert", der, (size_t)n,
	    "public, max-age=3600", 0, 0, NULL);
	OPENSSL_free(der);
	return (rv);
}

static mgr_err
h_crl_der(struct gw_req *r)
{
	Mgr__Ca__CrlReply *out = NULL;
	X509_CRL *crl = NULL;
	BIO *b = NULL;
	unsigned char *der = NULL;
	struct tm tm;
	int64_t last = 0, next = 0;
	int n;
	mgr_err rv;

	if ((rv = gw_rpc(r, gw.ca, "ca.GetCrl", NULL, &mgr__ca__crl_reply__descriptor,
	         (ProtobufCMessage **)&out)) != MGR_OK)
		return (rv);
	rv = MGR_EINTERNAL;
	if ((b = BIO_new_mem_buf(out->pem, -1)) == NULL ||
	    (crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) == NULL ||
	    (n = i2d_X509_CRL(crl, &der)) <= 0)
		goto out;
	if (ASN1_TIME_to_tm(X509_CRL_get0_lastUpdate(crl), &tm) == 1)
		last = (int64_t)timegm(&tm);
	if (X509_CRL_get0_nextUpdate(crl) != NULL &&
	    ASN1_TIME_to_tm(X509_CRL_get0_nextUpdate(crl), &tm) == 1)
		next = (int64_t)timegm(&tm);
	/* A revocation makes a new CRL at once: caches revalidate each time. */
	rv = reply_der(r, 200, "application/pkix-crl", der, (size_t)n, "no-cache", last,
	    next, NULL);
out:
	OPENSSL_free(der);
	X509_CRL_free(crl);
	BIO_free(b);
	mgr__ca__crl_reply__free_unpacked(out, NULL);
	return (rv);
}

/* An unsigned OCSP answer with only a status (RFC 6960 4.2.1). */
static mgr_err
ocsp_status_only(struct gw_req *r, int status)
{
	unsigned char der[5] = {0x30, 0x03, 0x0a, 0x01, (unsigned char)status};

	return (reply_der(r, 200, "application/ocsp-response", der, sizeof(der),
	    "no-store", 0, 0, NULL));
}

/* RFC 5019 6.2: max-age no longer than nextUpdate, Last-Modified is
 * thisUpdate, Expires nextUpdate, an ETag of the answer's bytes. */
static mgr_err
ocsp_signed(struct gw_req *r, const unsigned char *der, size_t len, int64_t this_up,
    int64_t next_up)
{
	const char *inm = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);
	char hex[65], etag[40], cc[96];
	int64_t age = next_up - mgr_now_s();

	mgr_sha256_hex(der, len, hex);
	snprintf(etag, sizeof(etag), "\"%.32s\"", hex);
	snprintf(cc, sizeof(cc), "max-age=%lld, public, no-transform, must-revalidate",
	    (long long)(age > 0 ? age : 0));
	if (inm != NULL && strcmp(r->method, "GET") == 0 && strstr(inm, etag) != NULL) {
		struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL,
		    MHD_RESPMEM_PERSISTENT);

		if (resp == NULL)
			return (MGR_ENOMEM);
		MHD_add_response_header(resp, "Cache-Control", cc);
		MHD_add_response_header(resp, "ETag", etag);
		return (gw_reply_response(r, 304, resp));
	}
	return (reply_der(r, 200, "application/ocsp-response", der, len, cc, this_up,
	    next_up, etag));
}

/* Answers the DER request req: from the cache, else from ca-svc. Never an
 * HTTP error: a backend that does not answer gives OCSP tryLater. */
static mgr_err
ocsp_answer(struct gw_req *r, const unsigned char *req, size_t len)
{
	Mgr__Ca__OcspRequest in = MGR__CA__OCSP_REQUEST__INIT;
	Mgr__Ca__OcspReply *out = NULL;
	unsigned char key[32], *der = NULL;
	unsigned int klen = 0;
	unsigned long gen = 0;
	size_t dlen = 0;
	int64_t this_up = 0, next_up = 0;
	int synced;
	mgr_err rv;

	if (len == 0)
		return (ocsp_status_only(r, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST));
	synced = gw_authcache_sync() == MGR_OK;
	gen = gw_authcache_generation();
	if (EVP_Digest(req, len, key, &klen, EVP_sha256(), NULL) != 1)
		return (MGR_EINTERNAL);
	if (synced && oc_get(key, gen, mgr_now_s(), &der, &dlen, &this_up, &next_up)) {
		rv = ocsp_signed(r, der, dlen, this_up, next_up);
		free(der);
		return (rv);
	}
	in.der.data = (uint8_t *)req;
	in.der.len = len;
	if (gw_rpc(r, gw.ca, "ca.Ocsp", &in.base, &mgr__ca__ocsp_reply__descriptor,
	        (ProtobufCMessage **)&out) != MGR_OK)
		return (ocsp_status_only(r, OCSP_RESPONSE_STATUS_TRYLATER));
	if (out->this_update == 0) {
		rv = reply_der(r, 200, "application/ocsp-response", out->der.data,
		    out->der.len, "no-store", 0, 0, NULL);
	} else {
		if (out->cacheable && synced)
			oc_put(key, gen, out->der.data, out->der.len, out->this_update,
			    out->next_update);
		rv = ocsp_signed(r, out->der.data, out->der.len, out->this_update,
		    out->next_update);
	}
	mgr__ca__ocsp_reply__free_unpacked(out, NULL);
	return (rv);
}

static mgr_err
h_ocsp_post(struct gw_req *r)
{
	return (ocsp_answer(r, (const unsigned char *)r->body.data, r->body.len));
}

/* GET /pki/ocsp/{base64 of the DER request} (RFC 6960 A.1), percent-decoded
 * by the router; the URL-safe alphabet and missing padding are accepted too. */
static mgr_err
h_ocsp_get(struct gw_req *r)
{
	char b64[GW_PARAM_MAX + 4];
	unsigned char der[GW_OCSP_GET_MAX + 4];
	const char *s = r->params[0];
	size_t n = 0;
	EVP_ENCODE_CTX *ctx = NULL;
	int out = 0, fin = 0, ok;
	mgr_err rv;

	for (size_t i = 0; i < r->param_len[0] && n < sizeof(b64) - 4; i++) {
		char c = s[i];

		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (c == '\r' || c == '\n' || c == ' ')
			continue;
		b64[n++] = c;
	}
	while (n % 4 != 0 && n < sizeof(b64) - 1)
		b64[n++] = '=';
	b64[n] = '\0';
	if (n == 0 || n / 4 * 3 > GW_OCSP_GET_MAX)
		return (ocsp_status_only(r, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST));
	if ((ctx = EVP_ENCODE_CTX_new()) == NULL)
		return (MGR_ENOMEM);
	EVP_DecodeInit(ctx);
	ok = EVP_DecodeUpdate(ctx, der, &out, (const unsigned char *)b64, (int)n) >= 0 &&
	    EVP_DecodeFinal(ctx, der + out, &fin) == 1;
	EVP_ENCODE_CTX_free(ctx);
	if (!ok)
		return (ocsp_status_only(r, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST));
	rv = ocsp_answer(r, der, (size_t)(out + fin));
	return (rv);
}

const struct gw_route gw_routes_pki[] = {
    {"GET", "/pki/ca.crt", GW_AUTH_PUBLIC, GW_BODY_NONE, h_ca_der, NULL, NULL, NULL},
    {"GET", "/pki/crl", GW_AUTH_PUBLIC, GW_BODY_NONE, h_crl_der, NULL, NULL, NULL},
    {"POST", "/pki/ocsp", GW_AUTH_PUBLIC, GW_BODY_RAW, h_ocsp_post, NULL, NULL, NULL},
    {"GET", "/pki/ocsp/{+}", GW_AUTH_PUBLIC, GW_BODY_NONE, h_ocsp_get, NULL, NULL, NULL},
    {NULL},
};
