/* Signing into records, record storage Lua, record reading (see issue.h). */
#include "services/ca/issue.h"

#include "common/keys.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/events.h"
#include "common/kv.h"
#include "common/log.h"
#include "services/ca/der.h"

#define CA_BACKDATE_S 300 /* clock skew of the relying parties */

/* clang-format off */
static const char lua_certs[] =
    "local function put_cert(a)\n"
    "  redis.call('HSET', 'cert:' .. a[1], 'serial', a[1], 'holder', a[2],\n"
    "    'account_id', a[3], 'subject', a[4], 'dn', a[5], 'not_before', a[6],\n"
    "    'not_after', a[7], 'pem', a[8], 'fingerprint', a[9], 'spki', a[10],\n"
    "    'issued_at', a[11], 'revoked_at', '')\n"
    "  redis.call('SET', 'spki:' .. a[10], a[1])\n"
    "  if a[3] ~= '' then redis.call('ZADD', 'certs:expiry', a[7], a[1]) end\n"
    "end\n"
    "local function revoke_cert(serial, acct, now, etime, skip_expired, reason)\n"
    "  local c = redis.call('HMGET', 'cert:' .. serial, 'revoked_at', 'not_after')\n"
    "  if not c[2] then return false end\n"
    "  if c[1] and c[1] ~= '' then return false end\n"
    "  if skip_expired and tonumber(c[2]) <= tonumber(now) then return false end\n"
    "  redis.call('HSET', 'cert:' .. serial, 'revoked_at', now)\n"
    "  if reason then redis.call('HSET', 'cert:' .. serial, 'revoked_reason', reason) end\n"
    "  redis.call('ZADD', 'certs:revoked', c[2], serial)\n"
    "  redis.call('ZREM', 'certs:expiry', serial)\n"
    "  redis.call('INCR', 'crl:gen')\n"
    "  redis.call('INCR', '" KEY_AUTH_EPOCH "')\n"
    "  redis.call('PUBLISH', '" KEY_AUTH_CHANNEL "', 'cert ' .. serial)\n"
    "  if acct ~= '' then\n"
    "    emit_event(acct, 'certificate.revoked', etime, cjson.encode({serial = serial}))\n"
    "  end\n"
    "  return true\n"
    "end\n";
/* clang-format on */

const char *
ca_lua_script(const char *body, char *buf, size_t buflen)
{
	if ((size_t)snprintf(buf, buflen, "%s%s%s", event_lua_emit, lua_certs, body) >=
	    buflen)
		return (NULL);
	return (buf);
}

mgr_err
ca_issue(struct ca_state *ca, const X509_PUBKEY *spki, const X509_NAME *subject,
    int64_t not_after, enum ca_profile profile, struct ca_issued *out)
{
	struct ca_sign_args a;
	struct ca_issued c;
	X509 *x = NULL;
	unsigned char md[32];
	unsigned int mdlen = 0;
	int64_t now_ms = mgr_now_ms();
	mgr_err rv;

	memset(&c, 0, sizeof(c));
	memset(&a, 0, sizeof(a));
	a.spki = spki;
	a.subject = subject;
	a.not_before = now_ms / 1000 - CA_BACKDATE_S;
	a.not_after = not_after;
	a.profile = profile;
	/* The SPKI is copied as it is; the decoded key is only the fallback
	 * for an unusual parameter type (X509_PUBKEY_get0 decodes a key that
	 * was not decoded yet: see ca_pem_subject_spki). */
	if (ca_sign(ca, &a, &x, c.serial) != MGR_OK) {
		ERR_clear_error();
		if ((a.pubkey = X509_PUBKEY_get0(spki)) == NULL) {
			rv = MGR_EINTERNAL;
			goto out;
		}
		if ((rv = ca_sign(ca, &a, &x, c.serial)) != MGR_OK)
			goto out;
	}
	rv = MGR_EINTERNAL;
	if ((c.pem = ca_x509_pem(x)) == NULL ||
	    X509_digest(x, ca->sha256, md, &mdlen) != 1 || mdlen != 32 ||
	    ca_spki_hex(X509_get_X509_PUBKEY(x), c.spki) != MGR_OK ||
	    ca_dn_key(subject, c.dn_key) != MGR_OK ||
	    ca_dn_text(subject, c.subject, sizeof(c.subject)) != MGR_OK)
		goto out;
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(c.fingerprint + 2 * i, 3, "%02x", md[i]);
	c.not_before = ca_asn1_time(X509_get0_notBefore(x));
	c.not_after = ca_asn1_time(X509_get0_notAfter(x));
	c.issued_ms = now_ms;
	*out = c;
	c.pem = NULL;
	rv = MGR_OK;
out:
	ERR_clear_error();
	free(c.pem);
	X509_free(x);
	return (rv);
}

mgr_err
ca_pem_subject_spki(const char *pem, X509_NAME **subject, X509_PUBKEY **spki)
{
	unsigned char *der = NULL;
	const unsigned char *p, *end, *el = NULL, *subj = NULL, *pub = NULL;
	long len = 0, ellen = 0, subjlen = 0, publen = 0;
	X509_NAME *name = NULL;
	X509_PUBKEY *pk = NULL;
	mgr_err rv;

	if ((rv = ca_pem_der(pem, "CERTIFICATE", &der, &len)) != MGR_OK)
		return (rv);
	rv = MGR_EINVAL;
	/* Certificate { tbsCertificate { [0] version, serialNumber, signature,
	 * issuer, validity, subject, subjectPublicKeyInfo, ... }, ... } */
	p = der;
	end = der + len;
	if (!ca_der_enter(&p, &end, CA_DER_SEQUENCE) ||
	    !ca_der_enter(&p, &end, CA_DER_SEQUENCE))
		goto out;
	if (p < end && *p == CA_DER_CONTEXT0 && !ca_der_next(&p, end, &el, &ellen))
		goto out;
	for (int i = 0; i < 4; i++) /* serial, signature, issuer, validity */
		if (!ca_der_next(&p, end, &el, &ellen))
			goto out;
	if (!ca_der_next(&p, end, &subj, &subjlen) ||
	    !ca_der_next(&p, end, &pub, &publen))
		goto out;
	if ((name = d2i_X509_NAME(NULL, &subj, subjlen)) == NULL ||
	    (pk = ca_spki_from_der(pub, publen)) == NULL)
		goto out;
	*subject = name;
	*spki = pk;
	name = NULL;
	pk = NULL;
	rv = MGR_OK;
out:
	ERR_clear_error();
	X509_NAME_free(name);
	X509_PUBKEY_free(pk);
	free(der);
	return (rv);
}

void
ca_issued_clear(struct ca_issued *c)
{
	if (c == NULL)
		return;
	free(c->pem);
	c->pem = NULL;
}

/* now + years calendar years (UTC; 29 February moves to 1 March). */
static int64_t
add_years(int64_t now, int years)
{
	time_t t = (time_t)now;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return (now + years * CA_YEAR_S);
	tm.tm_year += years;
	return ((int64_t)timegm(&tm));
}

mgr_err
ca_expiration(const struct ca_state *ca, int present, int64_t want, int64_t now,
    int64_t *out, char *why, size_t whylen)
{
	int64_t min = now + ca->cfg->min_cert_validity_s;

	if (!present) {
		want = now + CA_YEAR_S;
		if (want > ca->not_after)
			want = ca->not_after;
		if (want <= min) {
			snprintf(why, whylen, "the CA certificate expires too soon");
			return (MGR_EINVAL);
		}
		*out = want;
		return (MGR_OK);
	}
	if (want <= min) {
		snprintf(why, whylen,
		    "expiration_date must lie more than %lld seconds "
		    "in the future",
		    (long long)ca->cfg->min_cert_validity_s);
		return (MGR_EINVAL);
	}
	if (want > ca->not_after) {
		snprintf(why, whylen,
		    "expiration_date is past the CA certificate's expiry");
		return (MGR_EINVAL);
	}
	if (want > add_years(now, CA_MAX_YEARS)) {
		snprintf(why, whylen, "expiration_date is more than 5 years ahead");
		return (MGR_EINVAL);
	}
	*out = want;
	return (MGR_OK);
}

void
ca_argv_add(struct ca_argv *a, const char *s)
{
	if (a->n < (int)(sizeof(a->v) / sizeof(a->v[0])))
		a->v[a->n++] = s;
}

void
ca_argv_add_i64(struct ca_argv *a, int64_t v)
{
	/* Numbers past the record's own live in num[4..5]. */
	static const int slots = (int)(sizeof(a->num) / sizeof(a->num[0]));
	int used = 0;

	for (int i = 0; i < slots; i++)
		if (a->num[i][0] != '\0')
			used = i + 1;
	if (used >= slots)
		return;
	snprintf(a->num[used], sizeof(a->num[used]), "%lld", (long long)v);
	ca_argv_add(a, a->num[used]);
}

void
ca_argv_cert(struct ca_argv *a, const struct ca_issued *c, const char *holder,
    const char *account_id)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->num[0], sizeof(a->num[0]), "%lld", (long long)c->not_before);
	snprintf(a->num[1], sizeof(a->num[1]), "%lld", (long long)c->not_after);
	snprintf(a->num[2], sizeof(a->num[2]), "%lld", (long long)(c->issued_ms / 1000));
	snprintf(a->num[3], sizeof(a->num[3]), "%lld", (long long)c->issued_ms);
	mgr_time_format(c->issued_ms / 1000, a->iso[0]);
	mgr_time_format(c->not_after, a->iso[1]);
	ca_argv_add(a, c->serial);
	ca_argv_add(a, holder);
	ca_argv_add(a, account_id);
	ca_argv_add(a, c->subject);
	ca_argv_add(a, c->dn_key);
	ca_argv_add(a, a->num[0]);
	ca_argv_add(a, a->num[1]);
	ca_argv_add(a, c->pem);
	ca_argv_add(a, c->fingerprint);
	ca_argv_add(a, c->spki);
	ca_argv_add(a, a->num[2]);
	ca_argv_add(a, a->num[3]);
	ca_argv_add(a, a->iso[0]);
	ca_argv_add(a, a->iso[1]);
}

static char *
dup_el(const redisReply *e)
{
	if (e == NULL || e->type != REDIS_REPLY_STRING)
		return (strdup(""));
	return (strdup(e->str));
}

static int64_t
num_el(const redisReply *e)
{
	int64_t v = 0;

	if (e != NULL && e->type == REDIS_REPLY_STRING && e->len > 0 &&
	    mgr_parse_i64(e->str, &v) == MGR_OK)
		return (v);
	return (0);
}

mgr_err
ca_records_from_reply(const redisReply *rep, struct ca_record **out, size_t *n)
{
	struct ca_record *recs = NULL;
	size_t i, cnt;

	if (rep->type != REDIS_REPLY_ARRAY)
		return (MGR_EINTERNAL);
	cnt = rep->elements;
	if (cnt > 0 && (recs = calloc(cnt, sizeof(*recs))) == NULL)
		return (MGR_ENOMEM);
	for (i = 0; i < cnt; i++) {
		const redisReply *r = rep->element[i];
		struct ca_record *c = &recs[i];

		if (r->type != REDIS_REPLY_ARRAY || r->elements != 10)
			goto fail;
		c->serial = dup_el(r->element[0]);
		c->holder = dup_el(r->element[1]);
		c->account_id = dup_el(r->element[2]);
		c->subject = dup_el(r->element[3]);
		c->pem = dup_el(r->element[4]);
		c->spki = dup_el(r->element[5]);
		c->not_before = num_el(r->element[6]);
		c->not_after = num_el(r->element[7]);
		c->revoked_at = num_el(r->element[8]);
		c->issued_at = num_el(r->element[9]);
		if (c->serial == NULL || c->holder == NULL || c->account_id == NULL ||
		    c->subject == NULL || c->pem == NULL || c->spki == NULL)
			goto fail;
	}
	*out = recs;
	*n = cnt;
	return (MGR_OK);
fail:
	ca_records_free(recs, cnt);
	return (MGR_ENOMEM);
}

void
ca_records_free(struct ca_record *r, size_t n)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(r[i].serial);
		free(r[i].holder);
		free(r[i].account_id);
		free(r[i].subject);
		free(r[i].pem);
		free(r[i].spki);
	}
	free(r);
}

const char *
ca_record_status(const struct ca_record *r, int64_t now)
{
	if (r->revoked_at != 0)
		return ("revoked");
	if (now >= r->not_after)
		return ("expired");
	return ("valid");
}

void
ca_record_msg(const struct ca_record *r, int64_t now, Mgr__Ca__Certificate *m)
{
	mgr__ca__certificate__init(m);
	m->serial = r->serial;
	m->subject = r->subject;
	m->not_before = r->not_before;
	m->not_after = r->not_after;
	m->status = (char *)ca_record_status(r, now);
	m->pem = r->pem;
}

void
ca_issued_msg(const struct ca_issued *c, Mgr__Ca__Certificate *m)
{
	mgr__ca__certificate__init(m);
	m->serial = (char *)c->serial;
	m->subject = (char *)c->subject;
	m->not_before = c->not_before;
	m->not_after = c->not_after;
	m->status = (char *)"valid";
	m->pem = c->pem;
}
