/* gateway: wires config, the service clients, TLS, the fronts and their
 * listeners together. */
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/cmdline.h"
#include "common/kv.h"
#include "common/log.h"
#include "common/svc.h"
#include "gateway/adm/front.h"
#include "gateway/authcache.h"
#include "gateway/gw.h"
#include "gateway/rest/rest.h"
#include "gateway/s3/s3.h"
#include "gateway/tls.h"

struct gw gw;
static volatile int gw_stopping;

/* The fronts of the main listener (MANAGER_HTTPS_PORT). */
static const struct gw_front *const gw_fronts[] = {&gw_front_rest, &gw_front_adm, NULL};

static void
on_signal(int sig)
{
	(void)sig;
	gw_stopping = 1;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	char *cert = NULL, *key = NULL;
	struct gw_handler main_handler;
	struct gw_listener *main_listener = NULL, *s3_listener = NULL;
	int rc;

	if ((rc = mgr_cmdline(argc, argv, "mgr-gateway",
	         "The gateway of the Manager: the HTTPS REST API, the S3 and .adm "
	         "fronts, the console, /metrics.")) >= 0)
		return (rc);
	rc = 1;
	mgr_log_init("gateway", MGR_LOG_INFO);
	if (mgr_config_load(&gw.cfg) != MGR_OK)
		return (2);
	if (kv_init(gw.cfg.redis_url) != MGR_OK)
		return (2);
	rpc_set_default_timeout(gw.cfg.rpc_timeout_ms);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Object chunks are ~1 MiB buffers (rest/vaults.c: several nng
	 * messages in flight per request): keep them on the heap and the freed
	 * ones there, instead of an mmap, page faults and a munmap per chunk. */
	mallopt(M_MMAP_THRESHOLD, 8 << 20);
	mallopt(M_TRIM_THRESHOLD, 32 << 20);

	if (rpc_client_create(&gw.account, gw.cfg.account_addr) != MGR_OK ||
	    rpc_client_create(&gw.ca, gw.cfg.ca_addr) != MGR_OK ||
	    rpc_client_create(&gw.vault, gw.cfg.vault_addr) != MGR_OK ||
	    gw_metrics_start() != MGR_OK) {
		log_error(NULL, "bad service addresses");
		goto out;
	}
	if (gw_tls_fetch_ca(60) != MGR_OK) {
		log_error(NULL, "the CA service did not answer");
		goto out;
	}
	if (gw_tls_server_identity(&cert, &key) != MGR_OK) {
		log_error(NULL, "cannot get a server certificate from the CA service");
		goto out;
	}
	gw_route_handler(gw_fronts, &main_handler);
	if (gw_adm_init() != MGR_OK || gw_authcache_start() != MGR_OK ||
	    gw_server_init(cert, key) != MGR_OK ||
	    gw_listen("https", gw.cfg.https_port, &main_handler, &main_listener) !=
	        MGR_OK ||
	    s3_front_start(&s3_listener) != MGR_OK)
		goto out;
	OPENSSL_cleanse(key, strlen(key));
	log_info(NULL, "gateway listening on https://%s:%d", gw.cfg.bind,
	    gw.cfg.https_port);
	if (s3_listener != NULL)
		log_info(NULL, "S3 listening on https://%s:%d", gw.cfg.bind,
		    gw.cfg.s3_port);
	while (!gw_stopping)
		svc_sleep(&gw_stopping, 1000);
	log_info(NULL, "gateway stopping");
	rc = 0;
out:
	gw_listener_stop(s3_listener);
	gw_listener_stop(main_listener);
	gw_server_fini();
	gw_authcache_stop();
	free(cert);
	free(key);
	rpc_client_destroy(gw.account);
	rpc_client_destroy(gw.ca);
	rpc_client_destroy(gw.vault);
	gw_metrics_stop();
	return (rc);
}
