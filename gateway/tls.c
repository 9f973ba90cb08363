/* The gateway's TLS identity: a key made here, a certificate from ca-svc. */
#include "gateway/tls.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "proto/ca.pb-c.h"

static char *
bio_string(BIO *b)
{
	char *data, *out;
	long n = BIO_get_mem_data(b, &data);

	if (n <= 0 || (out = malloc((size_t)n + 1)) == NULL)
		return (NULL);
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	return (out);
}

mgr_err
gw_tls_fetch_ca(int wait_s)
{
	Mgr__Ca__CaCertReply *rep = NULL;
	Mgr__Caller me = MGR__CALLER__INIT;
	BIO *b = NULL;
	mgr_err rv = MGR_EUNAVAIL;

	me.kind = MGR__CALLER__KIND__SERVICE;
	for (int i = 0; i < wait_s * 2; i++) {
		rv = rpc_call(gw.ca, "ca.GetCa", NULL, &me, NULL,
		    &mgr__ca__ca_cert_reply__descriptor, (ProtobufCMessage **)&rep, NULL,
		    0, 500);
		if (rv == MGR_OK)
			break;
		if (i == 0)
			log_info(NULL, "waiting for the CA service");
	}
	if (rv != MGR_OK)
		return (rv);
	rv = MGR_EINTERNAL;
	if ((gw.ca_pem = strdup(rep->pem)) == NULL ||
	    (b = BIO_new_mem_buf(gw.ca_pem, -1)) == NULL ||
	    (gw.ca_cert = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL ||
	    (gw.trust = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(gw.trust, gw.ca_cert) != 1)
		goto out;
	rv = MGR_OK;
out:
	BIO_free(b);
	mgr__ca__ca_cert_reply__free_unpacked(rep, NULL);
	return (rv);
}

static int
is_ip(const char *s)
{
	unsigned char buf[16];

	return (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

#define GW_SAN_MAX 32
#define GW_IFADDR_MAX 16

/* With a wildcard MANAGER_BIND the gateway is reached by this host's name or
 * any of its addresses: name them all in the certificate (bounded), so that
 * `curl --cacert ca-cert.pem https://HOST:PORT` verifies whatever HOST is. */
static void
wildcard_sans(char *host, size_t hostlen, char addrs[][INET6_ADDRSTRLEN], char **dns,
    size_t *nd, char **ips, size_t *ni)
{
	struct ifaddrs *ifa = NULL, *p;
	size_t na = 0;

	if (gethostname(host, hostlen) == 0 && host[0] != '\0' &&
	    memchr(host, '\0', hostlen) != NULL && strcmp(host, "localhost") != 0 &&
	    *nd < GW_SAN_MAX)
		dns[(*nd)++] = host;
	if (getifaddrs(&ifa) != 0)
		return;
	for (p = ifa; p != NULL && na < GW_IFADDR_MAX && *ni < GW_SAN_MAX;
	     p = p->ifa_next) {
		const void *a;
		int fam;

		if (p->ifa_addr == NULL)
			continue;
		fam = p->ifa_addr->sa_family;
		if (fam == AF_INET)
			a = &((const struct sockaddr_in *)(const void *)p->ifa_addr)
			         ->sin_addr;
		else if (fam == AF_INET6)
			a = &((const struct sockaddr_in6 *)(const void *)p->ifa_addr)
			         ->sin6_addr;
		else
			continue;
		if (fam == AF_INET6 && IN6_IS_ADDR_LINKLOCAL((const struct in6_addr *)a))
			continue;
		if (inet_ntop(fam, a, addrs[na], INET6_ADDRSTRLEN) == NULL ||
		    strcmp(addrs[na], "127.0.0.1") == 0 || strcmp(addrs[na], "::1") == 0)
			continue;
		ips[(*ni)++] = addrs[na++];
	}
	freeifaddrs(ifa);
}

mgr_err
gw_tls_server_identity(char **cert_pem, char **key_pem)
{
	Mgr__Ca__ServerCertRequest in = MGR__CA__SERVER_CERT_REQUEST__INIT;
	Mgr__Ca__ServerCertReply *rep = NULL;
	Mgr__Caller me = MGR__CALLER__INIT;
	EVP_PKEY *key = NULL;
	X509_REQ *req = NULL;
	BIO *kb = NULL, *rb = NULL;
	char *dns[40], *ips[40], sans[1024], *save = NULL, *t;
	char host[256], addrs[GW_IFADDR_MAX][INET6_ADDRSTRLEN];
	size_t nd = 0, ni = 0;
	mgr_err rv = MGR_EINTERNAL;

	dns[nd++] = "localhost";
	ips[ni++] = "127.0.0.1";
	ips[ni++] = "::1";
	if (strcmp(gw.cfg.bind, "127.0.0.1") != 0 &&
	    strcmp(gw.cfg.bind, "0.0.0.0") != 0 && strcmp(gw.cfg.bind, "::") != 0 &&
	    strcmp(gw.cfg.bind, "::1") != 0)
		ips[ni++] = gw.cfg.bind;
	if (strcmp(gw.cfg.bind, "0.0.0.0") == 0 || strcmp(gw.cfg.bind, "::") == 0)
		wildcard_sans(host, sizeof(host), addrs, dns, &nd, ips, &ni);
	snprintf(sans, sizeof(sans), "%s", gw.cfg.tls_sans);
	for (t = strtok_r(sans, ", ", &save);
	     t != NULL && nd < GW_SAN_MAX && ni < GW_SAN_MAX;
	     t = strtok_r(NULL, ", ", &save)) {
		if (is_ip(t))
			ips[ni++] = t;
		else
			dns[nd++] = t;
	}
	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL ||
	    (req = X509_REQ_new()) == NULL)
		goto out;
	X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
	    (const unsigned char *)"localhost", -1, -1, 0);
	if (X509_REQ_set_pubkey(req, key) != 1 ||
	    X509_REQ_sign(req, key, EVP_sha256()) <= 0)
		goto out;
	if ((rb = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509_REQ(rb, req) != 1 ||
	    (in.csr_pem = bio_string(rb)) == NULL)
		goto out;
	in.dns = dns;
	in.n_dns = nd;
	in.ips = ips;
	in.n_ips = ni;
	me.kind = MGR__CALLER__KIND__SERVICE;
	rv = rpc_call(gw.ca, "ca.ServerCert", NULL, &me, &in.base,
	    &mgr__ca__server_cert_reply__descriptor, (ProtobufCMessage **)&rep, NULL, 0,
	    10000);
	if (rv != MGR_OK)
		goto out;
	rv = MGR_EINTERNAL;
	if ((kb = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (*key_pem = bio_string(kb)) == NULL)
		goto out;
	if ((*cert_pem = strdup(rep->cert_pem)) == NULL) {
		free(*key_pem);
		goto out;
	}
	rv = MGR_OK;
out:
	ERR_clear_error();
	free(in.csr_pem);
	if (rep != NULL)
		mgr__ca__server_cert_reply__free_unpacked(rep, NULL);
	BIO_free(kb);
	BIO_free(rb);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	return (rv);
}
