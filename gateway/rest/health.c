/* Public routes: health, readiness, metrics, the CA certificate. */
#include "gateway/gw.h"

#include <stdlib.h>

#include "common/kv.h"
#include "proto/ca.pb-c.h"

static mgr_err
h_healthz(struct gw_req *r)
{
	return (gw_reply_text(r, 200, "text/plain", "ok\n"));
}

/* 200 only when Redis and every service answer; else 503 naming who did not. */
static mgr_err
h_readyz(struct gw_req *r)
{
	static const struct {
		const char *name;
		struct rpc_client **client;
	} svcs[] = {
	    {"account", &gw.account},
	    {"ca", &gw.ca},
	    {"vault", &gw.vault},
	};
	redisContext *c = NULL;
	redisReply *rep = NULL;
	struct mgr_buf down;
	int redis_ok = 0;

	if (kv_connect(1000, &c) == MGR_OK) {
		if (kv_conn_cmd(c, &rep, "PING") == MGR_OK) {
			redis_ok = 1;
			freeReplyObject(rep);
		}
		kv_conn_close(c);
	}
	mgr_buf_init(&down, 256);
	if (!redis_ok)
		mgr_buf_printf(&down, " redis");
	for (size_t i = 0; i < sizeof(svcs) / sizeof(svcs[0]); i++) {
		Mgr__Caller me = MGR__CALLER__INIT;

		me.kind = MGR__CALLER__KIND__SERVICE;
		if (rpc_call(*svcs[i].client, "ping", r->request_id, &me, NULL, NULL,
		        NULL, NULL, 0, 1000) != MGR_OK)
			mgr_buf_printf(&down, " %s", svcs[i].name);
	}
	if (down.len == 0) {
		mgr_buf_free(&down);
		return (gw_reply_text(r, 200, "text/plain", "ready\n"));
	}
	gw_fail(r, MGR_EUNAVAIL, "not ready:%s", down.data);
	mgr_buf_free(&down);
	return (MGR_EUNAVAIL);
}

static mgr_err
h_metrics(struct gw_req *r)
{
	char *text = gw_metrics_render();
	mgr_err rv;

	if (text == NULL)
		return (MGR_ENOMEM);
	rv = gw_reply_text(r, 200, "text/plain; version=0.0.4", text);
	free(text);
	return (rv);
}

static mgr_err
h_ca_certificate(struct gw_req *r)
{
	return (gw_reply_text(r, 200, "application/x-pem-file", gw.ca_pem));
}

const struct gw_route gw_routes_health[] = {
    {"GET", "/healthz", GW_AUTH_PUBLIC, GW_BODY_NONE, h_healthz, NULL, NULL, NULL},
    {"GET", "/readyz", GW_AUTH_PUBLIC, GW_BODY_NONE, h_readyz, NULL, NULL, NULL},
    {"GET", "/metrics", GW_AUTH_PUBLIC, GW_BODY_NONE, h_metrics, NULL, NULL, NULL},
    {"GET", "/api/v1/ca/certificate", GW_AUTH_PUBLIC, GW_BODY_NONE, h_ca_certificate,
        NULL, NULL, NULL},
    {NULL},
};
