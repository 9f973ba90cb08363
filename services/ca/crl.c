/* The CRL: every revoked, unexpired serial, signed by the CA. Cached in Redis
 * (hash "crl": pem, gen, next_update, stale_at) and rebuilt when crl:gen
 * (bumped by every revocation) moved past the cached one, when nextUpdate
 * draws near, or when a listed serial expires. */
#include "services/ca/handlers.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/kv.h"
#include "common/log.h"
#include "common/util.h"
#include "proto/ca.pb-c.h"
#include "services/ca/issue.h"

#define CRL_LIFE_S 86400
#define CRL_REFRESH_S 3600 /* rebuild when nextUpdate is this close */

/* Returns {pem or false, cached gen or false, stale_at or false, gen}. */
static const char lua_cached[] =
    "local c = redis.call('HMGET', 'crl', 'pem', 'gen', 'stale_at')\n"
    "return {c[1], c[2], c[3], redis.call('GET', 'crl:gen') or '0'}\n";

/* ARGV: now. Returns {gen, number, first expiry or "", serial1, revoked_at1,
 * reason1 or "", ...}: the revoked serials that have not expired. */
static const char lua_snapshot[] =
    "local ss = redis.call('ZRANGEBYSCORE', 'certs:revoked', '(' .. ARGV[1], '+inf',\n"
    "  'WITHSCORES')\n"
    "local out = {redis.call('GET', 'crl:gen') or '0', redis.call('INCR', 'crl:number'),\n"
    "  ss[2] or ''}\n"
    "for i = 1, #ss, 2 do\n"
    "  out[#out + 1] = ss[i]\n"
    "  local c = redis.call('HMGET', 'cert:' .. ss[i], 'revoked_at', 'revoked_reason')\n"
    "  out[#out + 1] = c[1] or ARGV[1]\n"
    "  out[#out + 1] = c[2] or ''\n"
    "end\n"
    "return out\n";

/* ARGV: pem, gen, next_update, stale_at. Keeps the newest generation. */
static const char lua_store[] =
    "local g = tonumber(redis.call('HGET', 'crl', 'gen') or '-1')\n"
    "if tonumber(ARGV[2]) >= g then\n"
    "  redis.call('HSET', 'crl', 'pem', ARGV[1], 'gen', ARGV[2], 'next_update', ARGV[3],\n"
    "    'stale_at', ARGV[4])\n"
    "end\n"
    "return 1\n";

static const char *
str_el(const redisReply *r, size_t i)
{
	if (r->type != REDIS_REPLY_ARRAY || i >= r->elements ||
	    r->element[i]->type != REDIS_REPLY_STRING)
		return (NULL);
	return (r->element[i]->str);
}

static int
add_revoked(X509_CRL *crl, const char *serial, int64_t when, const char *reason)
{
	ASN1_ENUMERATED *code = NULL;
	int64_t rc = -1;
	X509_REVOKED *rev = X509_REVOKED_new();
	BIGNUM *bn = NULL;
	ASN1_INTEGER *sn = NULL;
	ASN1_TIME *t = NULL;
	int ok = 0;

	if (rev == NULL || BN_hex2bn(&bn, serial) == 0 ||
	    (sn = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    (t = ASN1_TIME_set(NULL, (time_t)when)) == NULL ||
	    X509_REVOKED_set_serialNumber(rev, sn) != 1 ||
	    X509_REVOKED_set_revocationDate(rev, t) != 1)
		goto out;
	/* reasonCode (RFC 5280 5.3.1), left out for unspecified. */
	if (reason != NULL && mgr_parse_i64(reason, &rc) == MGR_OK && rc > 0 &&
	    rc <= 10 && rc != 7 &&
	    ((code = ASN1_ENUMERATED_new()) == NULL ||
	        ASN1_ENUMERATED_set(code, (long)rc) != 1 ||
	        X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, code, 0, 0) != 1))
		goto out;
	if (X509_CRL_add0_revoked(crl, rev) != 1)
		goto out;
	rev = NULL;
	ok = 1;
out:
	X509_REVOKED_free(rev);
	ASN1_ENUMERATED_free(code);
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);
	BN_free(bn);
	return (ok);
}

static mgr_err
crl_build(struct ca_state *ca, const redisReply *snap, int64_t now, char **pem_out)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *last = NULL, *next = NULL;
	ASN1_INTEGER *num = NULL;
	X509_EXTENSION *ext = NULL;
	X509V3_CTX ctx;
	BIO *b = NULL;
	char *data, *pem = NULL;
	long n;
	mgr_err rv = MGR_EINTERNAL;

	if (crl == NULL || snap->type != REDIS_REPLY_ARRAY || snap->elements < 3 ||
	    snap->element[1]->type != REDIS_REPLY_INTEGER)
		goto out;
	if (X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) != 1 ||
	    (last = ASN1_TIME_set(NULL, (time_t)now)) == NULL ||
	    (next = ASN1_TIME_set(NULL, (time_t)(now + CRL_LIFE_S))) == NULL ||
	    X509_CRL_set1_lastUpdate(crl, last) != 1 ||
	    X509_CRL_set1_nextUpdate(crl, next) != 1)
		goto out;
	for (size_t i = 3; i + 2 < snap->elements; i += 3) {
		const char *s = str_el(snap, i), *w = str_el(snap, i + 1);
		int64_t when = now;

		if (s == NULL)
			goto out;
		if (w != NULL)
			(void)mgr_parse_i64(w, &when);
		if (!add_revoked(crl, s, when, str_el(snap, i + 2)))
			goto out;
	}
	if ((num = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set_int64(num, snap->element[1]->integer) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1)
		goto out;
	X509V3_set_ctx(&ctx, ca->cert, NULL, NULL, crl, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier,
	         "keyid:always")) == NULL ||
	    X509_CRL_add_ext(crl, ext, -1) != 1)
		goto out;
	X509_CRL_sort(crl);
	if (!ca_key_sign_crl(ca, crl))
		goto out;
	if ((b = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509_CRL(b, crl) != 1 ||
	    (n = BIO_get_mem_data(b, &data)) <= 0 ||
	    (pem = malloc((size_t)n + 1)) == NULL)
		goto out;
	memcpy(pem, data, (size_t)n);
	pem[n] = '\0';
	*pem_out = pem;
	rv = MGR_OK;
out:
	if (rv != MGR_OK) {
		unsigned long e = ERR_peek_error();
		char buf[200];

		ERR_error_string_n(e, buf, sizeof(buf));
		log_error(NULL, "building the CRL: %s", buf);
	}
	ERR_clear_error();
	BIO_free(b);
	X509_EXTENSION_free(ext);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	X509_CRL_free(crl);
	return (rv);
}

/* The current CRL PEM (caller frees), rebuilt if stale. */
static mgr_err
crl_get(struct ca_state *ca, char **out)
{
	redisReply *r = NULL, *snap = NULL, *st = NULL;
	const char *argv[4];
	char nowbuf[24], nextbuf[24], stalebuf[24];
	int64_t now = mgr_now_s(), stale = 0, gen = -1, cur = 0, first = 0;
	char *pem = NULL;
	mgr_err rv;

	if ((rv = kv_eval(&r, lua_cached, 0, 0, NULL, NULL)) != MGR_OK)
		return (rv);
	if (str_el(r, 2) != NULL)
		(void)mgr_parse_i64(str_el(r, 2), &stale);
	if (str_el(r, 1) != NULL)
		(void)mgr_parse_i64(str_el(r, 1), &gen);
	if (str_el(r, 3) != NULL)
		(void)mgr_parse_i64(str_el(r, 3), &cur);
	/* Fresh: no revocation since, nextUpdate not near, no listed serial
	 * expired (an expired one leaves the CRL). */
	if (str_el(r, 0) != NULL && gen >= cur && now < stale) {
		if ((pem = strdup(str_el(r, 0))) == NULL)
			rv = MGR_ENOMEM;
		goto out;
	}
	snprintf(nowbuf, sizeof(nowbuf), "%lld", (long long)now);
	argv[0] = nowbuf;
	if ((rv = kv_eval(&snap, lua_snapshot, 0, 1, argv, NULL)) != MGR_OK ||
	    (rv = crl_build(ca, snap, now, &pem)) != MGR_OK)
		goto out;
	stale = now + CRL_LIFE_S - CRL_REFRESH_S;
	if (str_el(snap, 2) != NULL && mgr_parse_i64(str_el(snap, 2), &first) == MGR_OK &&
	    first < stale)
		stale = first;
	snprintf(nextbuf, sizeof(nextbuf), "%lld", (long long)(now + CRL_LIFE_S));
	snprintf(stalebuf, sizeof(stalebuf), "%lld", (long long)stale);
	argv[0] = pem;
	argv[1] = str_el(snap, 0) != NULL ? str_el(snap, 0) : "0";
	argv[2] = nextbuf;
	argv[3] = stalebuf;
	if ((rv = kv_eval(&st, lua_store, 0, 4, argv, NULL)) != MGR_OK)
		goto out;
out:
	if (r != NULL)
		freeReplyObject(r);
	if (snap != NULL)
		freeReplyObject(snap);
	if (st != NULL)
		freeReplyObject(st);
	if (rv != MGR_OK) {
		free(pem);
		return (rv);
	}
	*out = pem;
	return (MGR_OK);
}

mgr_err
ca_h_crl(struct rpc_call *call, void *arg)
{
	Mgr__Ca__CrlReply rep = MGR__CA__CRL_REPLY__INIT;
	char *pem = NULL;
	mgr_err rv;

	if ((rv = crl_get(arg, &pem)) != MGR_OK)
		return (rpc_fail(call, rv, "the CRL is not available"));
	rep.pem = pem;
	rv = rpc_reply(call, &rep.base);
	free(pem);
	return (rv);
}
