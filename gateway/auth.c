/* Who is calling: HTTP Basic (admin, temp) or a TLS client certificate (app). */
#include "gateway/gw.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/gnutls.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "common/audit.h"
#include "common/kv.h"
#include "common/log.h"
#include "common/util.h"
#include "gateway/authcache.h"
#include "gateway/conn.h"
#include "gateway/roles.h"
#include "proto/account.pb-c.h"
#include "proto/ca.pb-c.h"

#define BASIC_MAX 1024

/* Decodes "Basic <base64(user:pass)>" into user and pass (NUL-terminated). */
static mgr_err
parse_basic(const char *hdr, char *user, size_t ulen, char *pass, size_t plen)
{
	unsigned char dec[BASIC_MAX];
	size_t n, pad = 0;
	int dn;
	char *colon;

	if (strncasecmp(hdr, "Basic ", 6) != 0)
		return (MGR_EUNAUTH);
	hdr += 6;
	while (*hdr == ' ')
		hdr++;
	n = strlen(hdr);
	if (n == 0 || n % 4 != 0 || n / 4 * 3 >= sizeof(dec))
		return (MGR_EUNAUTH);
	if (hdr[n - 1] == '=')
		pad++;
	if (hdr[n - 2] == '=')
		pad++;
	if ((dn = EVP_DecodeBlock(dec, (const unsigned char *)hdr, (int)n)) < 0)
		return (MGR_EUNAUTH);
	dn -= (int)pad;
	dec[dn] = '\0';
	if (memchr(dec, '\0', (size_t)dn) != NULL ||
	    (colon = strchr((char *)dec, ':')) == NULL)
		return (MGR_EUNAUTH);
	*colon = '\0';
	if (strlen((char *)dec) >= ulen || strlen(colon + 1) >= plen)
		return (MGR_EUNAUTH);
	memcpy(user, dec, strlen((char *)dec) + 1);
	memcpy(pass, colon + 1, strlen(colon + 1) + 1);
	OPENSSL_cleanse(dec, sizeof(dec));
	return (MGR_OK);
}

void
gw_peer_address(struct MHD_Connection *conn, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(out, outlen, "unknown");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		if (inet_ntop(AF_INET, &in->sin_addr, out, (socklen_t)outlen) == NULL)
			snprintf(out, outlen, "unknown");
	} else if (sa->sa_family == AF_INET6) {
		struct in6_addr a = ((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(&a)) {
			if (inet_ntop(AF_INET, &a.s6_addr[12], out, (socklen_t)outlen) ==
			    NULL)
				snprintf(out, outlen, "unknown");
			return;
		}
		/* One host holds a whole /64: count the prefix, not the host. */
		memset(&a.s6_addr[8], 0, 8);
		if (inet_ntop(AF_INET6, &a, out, (socklen_t)outlen) == NULL)
			snprintf(out, outlen, "unknown");
	}
}

static mgr_err
auth_basic(struct gw_req *r, const char *hdr, int temp)
{
	Mgr__Account__AuthBasicRequest in = MGR__ACCOUNT__AUTH_BASIC_REQUEST__INIT;
	Mgr__Account__AuthBasicReply *out = NULL;
	char user[256], pass[512], peer[INET6_ADDRSTRLEN + 8];
	mgr_err rv;

	if (parse_basic(hdr, user, sizeof(user), pass, sizeof(pass)) != MGR_OK)
		return (gw_fail(r, MGR_EUNAUTH, "malformed Basic credentials"));
	gw_peer_address(r->conn, peer, sizeof(peer));
	in.username = user;
	in.password = pass;
	in.temp = temp;
	in.source = peer;
	r->caller.kind = MGR__CALLER__KIND__SERVICE;
	rv = gw_rpc(r, gw.account, "account.AuthBasic", &in.base,
	    &mgr__account__auth_basic_reply__descriptor, (ProtobufCMessage **)&out);
	OPENSSL_cleanse(pass, sizeof(pass));
	r->caller.kind = MGR__CALLER__KIND__NONE;
	if (rv != MGR_OK) {
		if (rv == MGR_EUNAUTH)
			gw_fail(r, rv, "wrong user name or password");
		return (rv);
	}
	snprintf(r->caller_id, sizeof(r->caller_id), "%s", out->id);
	snprintf(r->caller_role, sizeof(r->caller_role), "%s", temp ? "" : out->role);
	r->caller.kind = temp ? MGR__CALLER__KIND__TEMP : MGR__CALLER__KIND__ADMIN;
	r->caller.id = r->caller_id;
	r->caller.role = r->caller_role;
	r->caller.cred_version = out->cred_version;
	mgr__account__auth_basic_reply__free_unpacked(out, NULL);
	return (MGR_OK);
}

/* Chain check of the connection's client certificate, once per connection. */
static mgr_err
check_peer(struct gw_req *r, struct gw_conn *gc)
{
	const union MHD_ConnectionInfo *ci;
	const gnutls_datum_t *peers;
	unsigned int npeers = 0;
	const unsigned char *p;
	X509 *leaf = NULL;
	X509_STORE_CTX *ctx = NULL;
	unsigned char md[32];
	unsigned int mdlen = 0;
	mgr_err rv = MGR_EUNAUTH;

	if (gc->checked)
		return (gc->ok ? MGR_OK : MGR_EUNAUTH);
	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci == NULL || ci->tls_session == NULL)
		return (MGR_EUNAUTH);
	peers = gnutls_certificate_get_peers((gnutls_session_t)ci->tls_session, &npeers);
	if (peers == NULL || npeers == 0)
		return (MGR_EUNAUTH); /* no certificate: not checked, maybe Basic */
	gc->checked = 1;
	p = peers[0].data;
	if ((leaf = d2i_X509(NULL, &p, (long)peers[0].size)) == NULL)
		goto out;
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, gw.trust, leaf, NULL) != 1)
		goto out;
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	/* Dates are checked on every request below, not once here. */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
	if (X509_verify_cert(ctx) != 1) {
		log_info(r->request_id, "client certificate refused: %s",
		    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	X509_digest(leaf, EVP_sha256(), md, &mdlen);
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(gc->fingerprint + 2 * i, 3, "%02x", md[i]);
	{
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
		char *h = bn != NULL ? BN_bn2hex(bn) : NULL;
		size_t i;

		for (i = 0; h != NULL && h[i] != '\0' && i < sizeof(gc->serial) - 1; i++)
			gc->serial[i] = (char)(h[i] >= 'A' && h[i] <= 'F' ? h[i] + 32
			                                                  : h[i]);
		gc->serial[i] = '\0';
		OPENSSL_free(h);
		BN_free(bn);
	}
	{
		struct tm tm;

		if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm) == 1)
			gc->not_after = (int64_t)timegm(&tm);
		if (ASN1_TIME_to_tm(X509_get0_notBefore(leaf), &tm) == 1)
			gc->not_before = (int64_t)timegm(&tm);
	}
	gc->ok = gc->serial[0] != '\0' && gc->not_after != 0;
	rv = gc->ok ? MGR_OK : MGR_EUNAUTH;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_free(leaf);
	return (rv);
}

/* ca.AuthCert for the connection's certificate: ans filled when usable. */
static mgr_err
ask_ca(struct gw_req *r, const struct gw_conn *gc, struct gw_auth_answer *ans)
{
	Mgr__Ca__AuthCertRequest in = MGR__CA__AUTH_CERT_REQUEST__INIT;
	Mgr__Ca__AuthCertReply *out = NULL;
	mgr_err rv;

	in.serial = (char *)gc->serial;
	in.fingerprint = (char *)gc->fingerprint;
	r->caller.kind = MGR__CALLER__KIND__SERVICE;
	rv = gw_rpc(r, gw.ca, "ca.AuthCert", &in.base,
	    &mgr__ca__auth_cert_reply__descriptor, (ProtobufCMessage **)&out);
	r->caller.kind = MGR__CALLER__KIND__NONE;
	if (rv != MGR_OK)
		return (rv);
	snprintf(ans->account_id, sizeof(ans->account_id), "%s", out->account_id);
	snprintf(ans->role, sizeof(ans->role), "%s", out->role);
	ans->not_after = out->not_after;
	mgr__ca__auth_cert_reply__free_unpacked(out, NULL);
	return (MGR_OK);
}

mgr_err
gw_auth_app(struct gw_req *r)
{
	struct gw_conn *gc = gw_conn_of(r->conn);
	struct gw_auth_answer ans;
	int64_t now = mgr_now_s();
	mgr_err rv;

	if (gc == NULL || check_peer(r, gc) != MGR_OK)
		return (gw_fail(r, MGR_EUNAUTH, "no valid client certificate"));
	if (now >= gc->not_after || now < gc->not_before) {
		/* Refused here; ca.AuthCert refuses an expired one too and
		 * audits the attempt (once a minute per certificate). */
		if (now >= gc->not_after)
			(void)ask_ca(r, gc, &ans);
		return (gw_fail(r, MGR_EUNAUTH, "client certificate expired"));
	}
	if ((rv = gw_authcache_sync()) != MGR_OK)
		return (gw_fail(r, rv, "authentication state unavailable"));
	if (!gw_authcache_get(gc->serial, gc->fingerprint, &ans)) {
		unsigned long gen = gw_authcache_generation();

		if ((rv = ask_ca(r, gc, &ans)) != MGR_OK)
			return (rv);
		gw_authcache_put(gen, gc->serial, gc->fingerprint, &ans);
	}
	snprintf(r->caller_id, sizeof(r->caller_id), "%s", ans.account_id);
	snprintf(r->caller_role, sizeof(r->caller_role), "%s", ans.role);
	snprintf(r->caller_serial, sizeof(r->caller_serial), "%s", gc->serial);
	r->caller.kind = MGR__CALLER__KIND__APP;
	r->caller.id = r->caller_id;
	r->caller.cert_serial = r->caller_serial;
	r->caller.role = r->caller_role;
	return (MGR_OK);
}

static mgr_err
authenticate(struct gw_req *r)
{
	unsigned auth = r->route->auth;
	const char *hdr;

	r->caller.kind = MGR__CALLER__KIND__NONE;
	r->caller.id = (char *)"";
	r->caller.cert_serial = (char *)"";
	r->caller.role = (char *)"";
	if (auth & GW_AUTH_PUBLIC)
		return (MGR_OK);
	hdr = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (hdr != NULL) {
		if (auth & GW_AUTH_ADMIN)
			return (auth_basic(r, hdr, 0));
		if (auth & GW_AUTH_TEMP)
			return (auth_basic(r, hdr, 1));
		return (gw_fail(r, MGR_EUNAUTH,
		    "this route takes a client certificate, not a password"));
	}
	if (auth & GW_AUTH_APP)
		return (gw_auth_app(r));
	return (gw_fail(r, MGR_EUNAUTH, "credentials required"));
}

/* GW_AUTH_OWN: an app or temp caller acts only on its own account; a
 * refusal is audited as the service would have (route->audit). */
static mgr_err
check_own(struct gw_req *r)
{
	const struct gw_route *rt = r->route;

	if (!(rt->auth & GW_AUTH_OWN) || r->nparams < 1 ||
	    strcmp(r->params[0], r->caller_id) == 0)
		return (MGR_OK);
	if (r->caller.kind == MGR__CALLER__KIND__APP)
		gw_fail(r, MGR_EPERM, "a certificate may act only on its own account");
	else if (r->caller.kind == MGR__CALLER__KIND__TEMP)
		gw_fail(r, MGR_EPERM,
		    "the temporary credentials belong to another account");
	else
		return (MGR_OK);
	if (rt->audit != NULL) {
		audit_log(r->request_id, &r->caller, rt->audit, r->params[0], MGR_EPERM,
		    r->errmsg);
		kv_thread_done(); /* MHD's threads are not ours (acc_refused) */
	}
	return (MGR_EPERM);
}

/* An administrator's role against the one role table (roles.h); a refusal
 * is audited with the acting administrator and the operation. */
static mgr_err
check_role(struct gw_req *r)
{
	const struct gw_role_rule *rule;

	if (r->caller.kind != MGR__CALLER__KIND__ADMIN)
		return (MGR_OK);
	if (gw_role_check(r->caller_role, r->route->method, r->route->pattern) == MGR_OK)
		return (MGR_OK);
	rule = gw_role_rule_of(r->route->method, r->route->pattern);
	gw_fail(r, MGR_EPERM, "the role %s may not do this",
	    r->caller_role[0] != '\0' ? r->caller_role : "(none)");
	audit_log(r->request_id, &r->caller, rule != NULL ? rule->op : r->route->pattern,
	    r->nparams > 0 ? r->params[0] : "", MGR_EPERM, r->errmsg);
	kv_thread_done(); /* MHD's threads are not ours (acc_refused) */
	return (MGR_EPERM);
}

mgr_err
gw_authenticate(struct gw_req *r)
{
	mgr_err rv;

	if ((rv = authenticate(r)) != MGR_OK)
		return (rv);
	if ((rv = check_role(r)) != MGR_OK)
		return (rv);
	return (check_own(r));
}
