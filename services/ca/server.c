/* ca.GetCa and ca.ServerCert: what the gateway needs for its own TLS. */
#include "services/ca/handlers.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/util.h"
#include "proto/ca.pb-c.h"

#define SERVER_CERT_VALIDITY_S (90LL * 86400)

mgr_err
ca_h_get_ca(struct rpc_call *call, void *arg)
{
	struct ca_state *ca = arg;
	Mgr__Ca__CaCertReply rep = MGR__CA__CA_CERT_REPLY__INIT;

	rep.pem = ca->cert_pem;
	return (rpc_reply(call, &rep.base));
}

mgr_err
ca_h_server_cert(struct rpc_call *call, void *arg)
{
	struct ca_state *ca = arg;
	Mgr__Ca__ServerCertRequest *req = NULL;
	Mgr__Ca__ServerCertReply rep = MGR__CA__SERVER_CERT_REPLY__INIT;
	struct ca_sign_args a;
	X509_REQ *csr = NULL;
	EVP_PKEY *pub = NULL;
	X509 *x = NULL;
	BIO *b = NULL;
	char serial[64];
	const char **dns = NULL, **ips = NULL;
	int64_t now = mgr_now_s();
	mgr_err rv;

	if (call->caller->kind != MGR__CALLER__KIND__SERVICE)
		return (
		    rpc_fail(call, MGR_EPERM, "server certificates are for the gateway"));
	if ((rv = rpc_args(call, &mgr__ca__server_cert_request__descriptor,
	         (ProtobufCMessage **)&req)) != MGR_OK)
		return (rv);
	rv = MGR_EINVAL;
	if (req->n_dns > 32 || req->n_ips > 32)
		goto out;
	if ((b = BIO_new_mem_buf(req->csr_pem, -1)) == NULL ||
	    (csr = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL)) == NULL ||
	    (pub = X509_REQ_get_pubkey(csr)) == NULL || X509_REQ_verify(csr, pub) != 1)
		goto out;
	dns = calloc(req->n_dns + 1, sizeof(*dns));
	ips = calloc(req->n_ips + 1, sizeof(*ips));
	if (dns == NULL || ips == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < req->n_dns; i++)
		dns[i] = req->dns[i];
	for (size_t i = 0; i < req->n_ips; i++)
		ips[i] = req->ips[i];
	memset(&a, 0, sizeof(a));
	a.pubkey = pub;
	a.subject = X509_REQ_get_subject_name(csr);
	a.not_before = now - 300;
	a.not_after = now + SERVER_CERT_VALIDITY_S < ca->not_after
	    ? now + SERVER_CERT_VALIDITY_S
	    : ca->not_after;
	a.profile = CA_PROFILE_SERVER;
	a.dns = dns;
	a.ips = ips;
	if ((rv = ca_sign(ca, &a, &x, serial)) != MGR_OK)
		goto out;
	if ((rep.cert_pem = ca_x509_pem(x)) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	rv = rpc_reply(call, &rep.base);
	free(rep.cert_pem);
out:
	ERR_clear_error();
	if (rv == MGR_EINVAL)
		rpc_fail(call, rv, "bad server CSR");
	free(dns);
	free(ips);
	X509_free(x);
	EVP_PKEY_free(pub);
	X509_REQ_free(csr);
	BIO_free(b);
	mgr__ca__server_cert_request__free_unpacked(req, NULL);
	return (rv);
}
