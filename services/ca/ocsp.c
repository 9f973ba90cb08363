/* ca.Ocsp: the OCSP responder (RFC 6960, RFC 5019 profile). It answers from
 * the records that ca.AuthCert reads (cert:<serial>: revoked_at, not_after),
 * so OCSP and the gateway's authentication never disagree. Signed by the CA
 * key itself (RFC 6960 4.2.2.2, first case; why in api/openapi.yaml),
 * responder ID by key hash, no certificates in the answer.
 *
 * Every outcome is an OCSPResponse: malformedRequest for anything that is
 * not one DER OCSPRequest of 1..CA_OCSP_IDS_MAX CertIDs with SHA-1, SHA-256,
 * SHA-384 or SHA-512 and at most a 32-octet nonce (RFC 8954); unauthorized
 * when a CertID names another issuer; tryLater when Redis does not answer. */
#include "services/ca/handlers.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ocsp.h>

#include "common/kv.h"
#include "common/log.h"
#include "common/util.h"
#include "proto/ca.pb-c.h"

#define CA_OCSP_IDS_MAX 16
#define CA_OCSP_DER_MAX (16u * 1024) /* the gateway refuses larger bodies */
#define CA_OCSP_LIFE_S 3600          /* nextUpdate - thisUpdate */
#define CA_OCSP_NONCE_MAX 32         /* RFC 8954 */

/* ARGV: serials. Returns one {not_after, revoked_at, revoked_reason} per
 * serial (nils for a serial without a record). */
static const char lua_status[] =
    "local out = {}\n"
    "for i = 1, #ARGV do\n"
    "  out[i] = redis.call('HMGET', 'cert:' .. ARGV[i], 'not_after', 'revoked_at',\n"
    "    'revoked_reason')\n"
    "end\n"
    "return out\n";

/* An unsigned answer with only a status. */
static mgr_err
status_only(int status, unsigned char **der, int *len)
{
	OCSP_RESPONSE *r = OCSP_response_create(status, NULL);
	mgr_err rv = MGR_ENOMEM;

	*der = NULL;
	if (r != NULL && (*len = i2d_OCSP_RESPONSE(r, der)) > 0)
		rv = MGR_OK;
	OCSP_RESPONSE_free(r);
	return (rv);
}

/* Does cid name this CA as issuer? 0 no (or a hash we do not compute),
 * 1 yes. */
static int
our_issuer(const struct ca_state *ca, OCSP_CERTID *cid)
{
	ASN1_OCTET_STRING *nh = NULL, *kh = NULL;
	ASN1_OBJECT *alg = NULL;
	const EVP_MD *md;
	const ASN1_BIT_STRING *key;
	unsigned char *name = NULL, want[EVP_MAX_MD_SIZE];
	unsigned int wlen = 0;
	int nlen, ok = 0;

	if (OCSP_id_get0_info(&nh, &alg, &kh, NULL, cid) != 1 || nh == NULL ||
	    kh == NULL || alg == NULL)
		return (0);
	switch (OBJ_obj2nid(alg)) {
	case NID_sha1:
		md = EVP_sha1();
		break;
	case NID_sha256:
		md = EVP_sha256();
		break;
	case NID_sha384:
		md = EVP_sha384();
		break;
	case NID_sha512:
		md = EVP_sha512();
		break;
	default:
		return (0);
	}
	/* issuerNameHash: over the DER of the issuer's subject; issuerKeyHash:
	 * over its subjectPublicKey bits (RFC 6960 4.1.1). */
	if ((nlen = i2d_X509_NAME(X509_get_subject_name(ca->cert), &name)) <= 0 ||
	    EVP_Digest(name, (size_t)nlen, want, &wlen, md, NULL) != 1 ||
	    (int)wlen != ASN1_STRING_length(nh) ||
	    memcmp(want, ASN1_STRING_get0_data(nh), wlen) != 0)
		goto out;
	key = X509_get0_pubkey_bitstr(ca->cert);
	if (key == NULL ||
	    EVP_Digest(key->data, (size_t)key->length, want, &wlen, md, NULL) != 1 ||
	    (int)wlen != ASN1_STRING_length(kh) ||
	    memcmp(want, ASN1_STRING_get0_data(kh), wlen) != 0)
		goto out;
	ok = 1;
out:
	OPENSSL_free(name);
	return (ok);
}

/* 1 when req's nonce, if any, is 1..32 octets (RFC 8954 2.1). The
 * extension's value is an OCTET STRING holding the nonce's OCTET STRING. */
static int
nonce_ok(OCSP_REQUEST *req, int *has)
{
	int i = OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1);
	X509_EXTENSION *ex;
	const ASN1_OCTET_STRING *v;
	const unsigned char *p;
	ASN1_OCTET_STRING *inner = NULL;
	int ok;

	*has = i >= 0;
	if (i < 0)
		return (1);
	if (OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, i) >= 0 ||
	    (ex = OCSP_REQUEST_get_ext(req, i)) == NULL ||
	    (v = X509_EXTENSION_get_data(ex)) == NULL)
		return (0);
	p = ASN1_STRING_get0_data(v);
	inner = d2i_ASN1_OCTET_STRING(NULL, &p, ASN1_STRING_length(v));
	ok = inner != NULL && p == ASN1_STRING_get0_data(v) + ASN1_STRING_length(v) &&
	    ASN1_STRING_length(inner) >= 1 &&
	    ASN1_STRING_length(inner) <= CA_OCSP_NONCE_MAX;
	ASN1_OCTET_STRING_free(inner);
	return (ok);
}

static int64_t
reply_i64(const redisReply *r, size_t i)
{
	int64_t v = 0;

	if (r->type != REDIS_REPLY_ARRAY || i >= r->elements ||
	    r->element[i]->type != REDIS_REPLY_STRING || r->element[i]->len == 0 ||
	    mgr_parse_i64(r->element[i]->str, &v) != MGR_OK)
		return (-1);
	return (v);
}

/* The answer to der (see the top of this file); *der_out is OPENSSL_malloc'ed. */
static mgr_err
ocsp_answer(struct ca_state *ca, const uint8_t *der, size_t len, unsigned char **der_out,
    int *len_out, int *cacheable, int64_t *this_up, int64_t *next_up)
{
	const unsigned char *p = der;
	OCSP_REQUEST *req = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *resp = NULL;
	ASN1_TIME *thisupd = NULL, *nextupd = NULL, *revt = NULL;
	redisReply *r = NULL;
	char serials[CA_OCSP_IDS_MAX][64];
	const char *argv[CA_OCSP_IDS_MAX];
	int n, has_nonce = 0, status = OCSP_RESPONSE_STATUS_MALFORMEDREQUEST;
	int64_t now = mgr_now_s();
	mgr_err rv;

	*cacheable = 0;
	*this_up = *next_up = 0;
	if (len == 0 || len > CA_OCSP_DER_MAX ||
	    (req = d2i_OCSP_REQUEST(NULL, &p, (long)len)) == NULL ||
	    p != der + len) /* one request, nothing after it */
		goto plain;
	n = OCSP_request_onereq_count(req);
	if (n < 1 || n > CA_OCSP_IDS_MAX || !nonce_ok(req, &has_nonce))
		goto plain;
	for (int i = 0; i < n; i++) {
		OCSP_CERTID *cid = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, i));
		ASN1_INTEGER *sn = NULL;

		if (cid == NULL || OCSP_id_get0_info(NULL, NULL, NULL, &sn, cid) != 1 ||
		    sn == NULL)
			goto plain;
		if (!our_issuer(ca, cid)) {
			status = OCSP_RESPONSE_STATUS_UNAUTHORIZED;
			goto plain;
		}
		/* A negative serial is none of ours: "-..." matches no record. */
		if (ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER)
			snprintf(serials[i], sizeof(serials[i]), "-");
		else
			ca_serial_hex(sn, serials[i]);
		argv[i] = serials[i];
	}
	if (kv_eval(&r, lua_status, 0, n, argv, NULL) != MGR_OK ||
	    r->type != REDIS_REPLY_ARRAY || (int)r->elements != n) {
		status = OCSP_RESPONSE_STATUS_TRYLATER;
		goto plain;
	}
	if ((bs = OCSP_BASICRESP_new()) == NULL ||
	    (thisupd = ASN1_TIME_set(NULL, (time_t)now)) == NULL ||
	    (nextupd = ASN1_TIME_set(NULL, (time_t)(now + CA_OCSP_LIFE_S))) == NULL)
		goto internal;
	for (int i = 0; i < n; i++) {
		OCSP_CERTID *cid = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, i));
		const redisReply *e = r->element[i];
		int64_t na = reply_i64(e, 0), revoked = reply_i64(e, 1);
		int64_t reason = reply_i64(e, 2);
		int st = V_OCSP_CERTSTATUS_UNKNOWN, why = OCSP_REVOKED_STATUS_NOSTATUS;

		if (na >= 0 && revoked > 0) {
			st = V_OCSP_CERTSTATUS_REVOKED;
			if (reason > 0 && reason <= 10 && reason != 7)
				why = (int)reason;
			ASN1_TIME_free(revt);
			if ((revt = ASN1_TIME_set(NULL, (time_t)revoked)) == NULL)
				goto internal;
		} else if (na >= 0) {
			/* Unrevoked, also once expired: OCSP speaks of revocation
			 * only (RFC 6960 2.2); the relying party checks validity. */
			st = V_OCSP_CERTSTATUS_GOOD;
		}
		if (OCSP_basic_add1_status(bs, cid, st, why,
		        st == V_OCSP_CERTSTATUS_REVOKED ? revt : NULL, thisupd,
		        nextupd) == NULL)
			goto internal;
	}
	if ((has_nonce && OCSP_copy_nonce(bs, req) != 1) || !ca_key_sign_ocsp(ca, bs) ||
	    (resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs)) == NULL)
		goto internal;
	*der_out = NULL;
	if ((*len_out = i2d_OCSP_RESPONSE(resp, der_out)) <= 0)
		goto internal;
	*cacheable = !has_nonce;
	*this_up = now;
	*next_up = now + CA_OCSP_LIFE_S;
	rv = MGR_OK;
	goto out;
internal : {
	char buf[200];

	ERR_error_string_n(ERR_peek_error(), buf, sizeof(buf));
	log_error(NULL, "OCSP answer: %s", buf);
}
	status = OCSP_RESPONSE_STATUS_INTERNALERROR;
plain:
	rv = status_only(status, der_out, len_out);
out:
	ERR_clear_error();
	if (r != NULL)
		freeReplyObject(r);
	ASN1_TIME_free(thisupd);
	ASN1_TIME_free(nextupd);
	ASN1_TIME_free(revt);
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	OCSP_REQUEST_free(req);
	return (rv);
}

mgr_err
ca_h_ocsp(struct rpc_call *call, void *arg)
{
	Mgr__Ca__OcspRequest *req = NULL;
	Mgr__Ca__OcspReply rep = MGR__CA__OCSP_REPLY__INIT;
	unsigned char *der = NULL;
	int len = 0, cacheable = 0;
	int64_t this_up = 0, next_up = 0;
	mgr_err rv;

	if ((rv = rpc_args(call, &mgr__ca__ocsp_request__descriptor,
	         (ProtobufCMessage **)&req)) != MGR_OK)
		return (rv);
	if ((rv = ocsp_answer(arg, req->der.data, req->der.len, &der, &len, &cacheable,
	         &this_up, &next_up)) != MGR_OK) {
		rv = rpc_fail(call, rv, "no OCSP answer");
		goto out;
	}
	rep.der.data = der;
	rep.der.len = (size_t)len;
	rep.cacheable = cacheable != 0;
	rep.this_update = this_up;
	rep.next_update = next_up;
	rv = rpc_reply(call, &rep.base);
out:
	OPENSSL_free(der);
	mgr__ca__ocsp_request__free_unpacked(req, NULL);
	return (rv);
}
