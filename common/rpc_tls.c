/* Transports of the RPC: which URLs a service address may use, and mutual
 * TLS with the internal identity for tls+tcp:// (PEM files loaded here). */
#include "common/rpc_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/supplemental/tls/tls.h>
#include <openssl/crypto.h>

#include "common/config.h"
#include "common/log.h"

/* Largest PEM file of the internal identity. */
#define RPC_PEM_MAX (64 * 1024)

static int
is_tls_url(const char *url)
{
	return (strncmp(url, "tls+tcp", 7) == 0);
}

/*
 * Whether url is a transport that keeps strangers out: ipc:// (a socket
 * file under $MANAGER_DATA_DIR/run, mode 0700), inproc:// (this process)
 * or tls+tcp:// (mutual TLS). Plain tcp://, ws:// and the like would let
 * any process that reaches the port call the service as any caller, so
 * they are refused unless MANAGER_RPC_ALLOW_PLAINTEXT=1 (tests, or a
 * network the operator protects otherwise), and then logged.
 */
static int
url_allowed(const char *url)
{
	const char *env;

	if (strncmp(url, "ipc://", 6) == 0 || strncmp(url, "inproc://", 9) == 0 ||
	    is_tls_url(url))
		return (1);
	env = getenv("MANAGER_RPC_ALLOW_PLAINTEXT");
	if (env != NULL && strcmp(env, "1") == 0) {
		log_warn(NULL,
		    "rpc: %s carries calls without authentication "
		    "(MANAGER_RPC_ALLOW_PLAINTEXT=1)",
		    url);
		return (1);
	}
	log_error(NULL,
	    "rpc: %s: a service address must be ipc:// or tls+tcp:// "
	    "(plain transports let any process call it; "
	    "MANAGER_RPC_ALLOW_PLAINTEXT=1 to allow)",
	    url);
	return (0);
}

/* Reads a PEM file of at most RPC_PEM_MAX bytes as a string. */
static mgr_err
read_pem(const char *path, char **out)
{
	FILE *f;
	char *b = NULL;
	size_t n;
	mgr_err rv = MGR_EINVAL;

	if ((f = fopen(path, "r")) == NULL) {
		log_error(NULL, "rpc: cannot read %s", path);
		return (MGR_EINVAL);
	}
	if ((b = malloc(RPC_PEM_MAX + 1)) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	n = fread(b, 1, RPC_PEM_MAX + 1, f);
	if (ferror(f) || n == 0 || n > RPC_PEM_MAX) {
		log_error(NULL, "rpc: %s is empty or too large", path);
		goto out;
	}
	b[n] = '\0';
	*out = b;
	b = NULL;
	rv = MGR_OK;
out:
	if (b != NULL) {
		OPENSSL_cleanse(b, RPC_PEM_MAX + 1);
		free(b);
	}
	fclose(f);
	return (rv);
}

/* A TLS configuration carrying this process's internal identity
 * (MANAGER_INTERNAL_TLS_*). Both sides require the peer's certificate and
 * verify it against the internal CA; a client also checks that the server's
 * certificate names `host` (the host of the URL it dials). Free *out with
 * nng_tls_config_free. */
static mgr_err
tls_config_new(int server, const char *host, nng_tls_config **out)
{
	struct mgr_internal_tls id;
	nng_tls_config *cfg = NULL;
	char *cert = NULL, *key = NULL, *ca = NULL;
	mgr_err err;
	int rv = 0;

	if ((err = mgr_config_internal_tls(&id)) != MGR_OK)
		return (err);
	if (*id.cert == '\0') {
		log_error(NULL,
		    "rpc: tls+tcp:// needs MANAGER_INTERNAL_TLS_CERT, "
		    "MANAGER_INTERNAL_TLS_KEY and MANAGER_INTERNAL_TLS_CA");
		return (MGR_EINVAL);
	}
	if ((err = read_pem(id.cert, &cert)) != MGR_OK ||
	    (err = read_pem(id.key, &key)) != MGR_OK ||
	    (err = read_pem(id.ca, &ca)) != MGR_OK)
		goto out;
	err = MGR_EINVAL;
	if ((rv = nng_tls_config_alloc(&cfg,
	         server ? NNG_TLS_MODE_SERVER : NNG_TLS_MODE_CLIENT)) != 0 ||
	    (rv = nng_tls_config_version(cfg, NNG_TLS_1_2, NNG_TLS_1_3)) != 0 ||
	    (rv = nng_tls_config_ca_chain(cfg, ca, NULL)) != 0 ||
	    (rv = nng_tls_config_own_cert(cfg, cert, key, NULL)) != 0 ||
	    (rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED)) != 0 ||
	    (!server && (rv = nng_tls_config_server_name(cfg, host)) != 0)) {
		log_error(NULL, "rpc: internal TLS identity (%s, %s, %s): %s", id.cert,
		    id.key, id.ca, nng_strerror(rv));
		goto out;
	}
	*out = cfg;
	cfg = NULL;
	err = MGR_OK;
out:
	if (cfg != NULL)
		nng_tls_config_free(cfg);
	if (key != NULL) {
		OPENSSL_cleanse(key, strlen(key));
		free(key);
	}
	free(cert);
	free(ca);
	return (err);
}

/* Listens on url; tls+tcp:// with the internal identity, requiring clients
 * to present a certificate of the internal CA. Returns an nng error. */
int
rpc_listen_url(nng_socket sock, const char *url)
{
	nng_listener l;
	nng_tls_config *cfg = NULL;
	int rv;

	if (!url_allowed(url))
		return (NNG_EINVAL);
	if (!is_tls_url(url))
		return (nng_listen(sock, url, NULL, 0));
	if ((rv = nng_listener_create(&l, sock, url)) != 0)
		return (rv);
	if (tls_config_new(1, NULL, &cfg) != MGR_OK) {
		nng_listener_close(l);
		return (NNG_EINVAL);
	}
	rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, cfg);
	nng_tls_config_free(cfg); /* the listener holds its own reference */
	if (rv == 0)
		rv = nng_listener_start(l, 0);
	if (rv != 0)
		nng_listener_close(l);
	return (rv);
}

/* Dials url in the background; tls+tcp:// with the internal identity,
 * checking the server's certificate against the internal CA and the host of
 * the URL. Returns an nng error. */
int
rpc_dial_url(nng_socket sock, const char *url)
{
	nng_dialer d;
	nng_url *u = NULL;
	nng_tls_config *cfg = NULL;
	int rv;

	if (!url_allowed(url))
		return (NNG_EINVAL);
	if (!is_tls_url(url))
		return (nng_dial(sock, url, NULL, NNG_FLAG_NONBLOCK));
	if ((rv = nng_url_parse(&u, url)) != 0)
		return (rv);
	if ((rv = nng_dialer_create(&d, sock, url)) != 0)
		goto out;
	if (tls_config_new(0, u->u_hostname, &cfg) != MGR_OK) {
		nng_dialer_close(d);
		rv = NNG_EINVAL;
		goto out;
	}
	rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg);
	nng_tls_config_free(cfg); /* the dialer holds its own reference */
	if (rv == 0)
		rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
	if (rv != 0)
		nng_dialer_close(d);
out:
	nng_url_free(u);
	return (rv);
}
