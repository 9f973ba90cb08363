/* What register, renew, rotate and devices share: signing a certificate into
 * a record, the Lua that stores and revokes records, and record reading. */
#ifndef MGR_CA_ISSUE_H
#define MGR_CA_ISSUE_H

#include <stdint.h>
#include <hiredis/hiredis.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "common/util.h"
#include "proto/ca.pb-c.h"
#include "services/ca/ca.h"
#include "services/ca/csr.h"

#define CA_YEAR_S (365LL * 86400)
#define CA_MAX_YEARS 5 /* calendar years: now + 5 years is the latest expiry */
#define CA_REVOKE_MAX 32
#define CA_LIST_MAX 1000 /* certificates per page of an account's list */

/* A freshly signed certificate, before it is stored. */
struct ca_issued {
	char serial[64];
	char *pem;            /* owned */
	char fingerprint[65]; /* hex SHA-256 of the DER */
	char spki[65];
	char subject[CA_SUBJECT_MAX]; /* RFC 2253 */
	char dn_key[CA_DN_KEY_MAX];
	int64_t not_before;
	int64_t not_after;
	int64_t issued_ms;
};

/* Signs spki/subject until not_after with profile; spki (a CSR's or an old
 * certificate's) is copied into the certificate as it is. On success *out
 * is filled (free its pem with ca_issued_clear). */
mgr_err ca_issue(struct ca_state *ca, const X509_PUBKEY *spki, const X509_NAME *subject,
    int64_t not_after, enum ca_profile profile, struct ca_issued *out);
void ca_issued_clear(struct ca_issued *c);

/* The subject and SubjectPublicKeyInfo of a PEM certificate, read as plain
 * DER: no key is decoded (OpenSSL 3.0 decodes the key of every X509 it
 * parses, which costs more than signing). Free with X509_NAME_free and
 * X509_PUBKEY_free. MGR_EINVAL on anything unexpected. */
mgr_err ca_pem_subject_spki(const char *pem, X509_NAME **subject, X509_PUBKEY **spki);

/* The expiry a request asks for: absent gives now + 1 year (not past the CA's
 * own expiry); present must lie after now + MANAGER_MIN_CERT_VALIDITY_S and
 * not past the CA's expiry nor now + 5 years. MGR_EINVAL with why. */
mgr_err ca_expiration(const struct ca_state *ca, int present, int64_t want, int64_t now,
    int64_t *out, char *why, size_t whylen);

/* Lua argument block of a certificate record: ARGV[1..CA_ARGV_CERT]. */
#define CA_ARGV_CERT 14
struct ca_argv {
	const char *v[64];
	int n;
	char num[6][24];
	char iso[2][MGR_TIME_MAX];
};
/* Starts argv with the record of c held by holder ("acct:<id>"/"dev:<id>"). */
void ca_argv_cert(struct ca_argv *a, const struct ca_issued *c, const char *holder,
    const char *account_id);
void ca_argv_add(struct ca_argv *a, const char *s);
void ca_argv_add_i64(struct ca_argv *a, int64_t v);

/* Writes into buf the Lua prelude followed by body: event_lua_emit, then
 * put_cert(ARGV) (the record, and certs:expiry for accounts) and
 * revoke_cert(serial, account_id, now_s, time_iso, skip_expired, reason) which
 * marks a record revoked (reason: an RFC 5280 CRLReason code as a string,
 * or nil for none: "4" superseded for rotation, "5" cessationOfOperation
 * for a device; kept as revoked_reason for the CRL and OCSP), moves it from certs:expiry to certs:revoked, bumps crl:gen,
 * publishes "cert <serial>" on mgr:auth and emits certificate.revoked (to
 * the account; a device, account_id "", has no event stream); it
 * returns true when it revoked now. NULL when buf is too small. */
#define CA_LUA_MAX 16384
const char *ca_lua_script(const char *body, char *buf, size_t buflen);

/* A stored record as the API shows it. Strings are owned. */
struct ca_record {
	char *serial, *holder, *account_id, *subject, *pem, *spki;
	int64_t not_before, not_after, revoked_at, issued_at;
};
void ca_records_free(struct ca_record *r, size_t n);
/* Records from a Lua reply: an array of 10-field HMGET arrays (serial, holder,
 * account_id, subject, pem, spki, not_before, not_after, revoked_at,
 * issued_at). */
mgr_err ca_records_from_reply(const redisReply *rep, struct ca_record **out, size_t *n);
const char *ca_record_status(const struct ca_record *r, int64_t now);
/* Fills m from r (borrowing r's strings). */
void ca_record_msg(const struct ca_record *r, int64_t now, Mgr__Ca__Certificate *m);
/* Fills m from a just issued certificate (status valid; borrows c). */
void ca_issued_msg(const struct ca_issued *c, Mgr__Ca__Certificate *m);


#endif
