/* The gateway's cache of app authentication answers (see authcache.c). */
#ifndef MGR_GATEWAY_AUTHCACHE_H
#define MGR_GATEWAY_AUTHCACHE_H

#include <stdint.h>
#include "common/err.h"

struct gw_auth_answer {
	char account_id[64];
	char role[32];
	int64_t not_after;
};

mgr_err gw_authcache_start(void);
void gw_authcache_stop(void);

/* Reads auth:epoch and drops every cached answer if it moved. Call first on
 * every app request; MGR_EUNAVAIL when Redis does not answer. */
mgr_err gw_authcache_sync(void);

/* Take the generation before asking ca-svc, and hand it to put(). */
unsigned long gw_authcache_generation(void);
int gw_authcache_get(const char *serial, const char *fingerprint,
    struct gw_auth_answer *out);
void gw_authcache_put(unsigned long gen, const char *serial, const char *fingerprint,
    const struct gw_auth_answer *a);

#endif
