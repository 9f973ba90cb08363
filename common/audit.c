#include "common/audit.h"

#include <stdio.h>
#include <string.h>

#include "common/keys.h"
#include "common/kv.h"
#include "common/log.h"
#include "common/util.h"

const char *
audit_caller_kind(const Mgr__Caller *c)
{
	if (c == NULL)
		return ("anonymous");
	switch (c->kind) {
	case MGR__CALLER__KIND__ADMIN:
		return ("admin");
	case MGR__CALLER__KIND__TEMP:
		return ("temp");
	case MGR__CALLER__KIND__APP:
		return ("app");
	case MGR__CALLER__KIND__SERVICE:
		return ("service");
	default:
		return ("anonymous");
	}
}

mgr_err
audit_log(const char *request_id, const Mgr__Caller *caller, const char *action,
    const char *target, mgr_err outcome, const char *detail)
{
	char ts[MGR_TIME_MAX], rid[64];
	redisReply *r;
	mgr_err rv;

	/* The record names the request as its caller knows it: an envelope id
	 * "abc~<hex>" is the client's X-Request-Id "abc" plus the gateway's
	 * per-request bits (gateway/server.c), which only the replay key needs. */
	snprintf(rid, sizeof(rid), "%.*s",
	    request_id != NULL ? (int)strcspn(request_id, "~") : 0,
	    request_id != NULL ? request_id : "");
	mgr_time_format(mgr_now_s(), ts);
	rv = kv_cmd(&r,
	    "XADD " KEY_AUDIT_STREAM " MAXLEN ~ " KEY_AUDIT_MAXLEN
	    " * time %s request_id %s actor_kind %s actor %s action %s target %s"
	    " outcome %s detail %s",
	    ts, rid, audit_caller_kind(caller),
	    caller != NULL && caller->id != NULL ? caller->id : "", action,
	    target != NULL ? target : "",
	    outcome == MGR_OK ? "ok" : mgr_err_code(outcome),
	    detail != NULL ? detail : "");
	if (rv != MGR_OK) {
		log_error(request_id, "audit record for %s not written: %s", action,
		    mgr_strerror(rv));
		return (rv);
	}
	freeReplyObject(r);
	return (MGR_OK);
}
