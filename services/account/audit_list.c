/* account.ListAudit: the audit stream, oldest first, paged by stream id. */
#include "services/account/account.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/keys.h"
#include "common/kv.h"
#include "proto/account.pb-c.h"

#define AUDIT_LIMIT_DEFAULT 100
#define AUDIT_LIMIT_MAX 1000
#define AUDIT_CURSOR_MAX 48

/* A stream id "<ms>-<seq>" (or "<ms>"), digits only around one dash. */
static int
audit_cursor_ok(const char *s)
{
	size_t n = strlen(s), d1 = strspn(s, "0123456789");

	if (n == 0 || n >= AUDIT_CURSOR_MAX || d1 == 0 || d1 > 20)
		return (0);
	if (d1 == n)
		return (1);
	if (s[d1] != '-')
		return (0);
	return (n - d1 - 1 >= 1 && n - d1 - 1 <= 20 &&
	    strspn(s + d1 + 1, "0123456789") == n - d1 - 1);
}

static char *
audit_field(const redisReply *fields, const char *name)
{
	for (size_t i = 0; i + 1 < fields->elements; i += 2) {
		const redisReply *k = fields->element[i], *v = fields->element[i + 1];

		if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
		    strcmp(k->str, name) == 0)
			return (v->str);
	}
	return ((char *)"");
}

mgr_err
acct_h_list_audit(struct rpc_call *call, void *arg)
{
	Mgr__Account__AuditRequest *in = NULL;
	Mgr__Account__AuditReply out = MGR__ACCOUNT__AUDIT_REPLY__INIT;
	Mgr__Account__AuditRecord *recs = NULL, **ptrs = NULL;
	char start[AUDIT_CURSOR_MAX + 2], count[16];
	redisReply *r = NULL;
	size_t n = 0;
	unsigned limit;
	mgr_err rv;

	(void)arg;
	if (call->caller->kind != MGR__CALLER__KIND__ADMIN)
		return (rpc_fail(call, MGR_EPERM, "administrators only"));
	if ((rv = rpc_args(call, &mgr__account__audit_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	limit = in->limit == 0 ? AUDIT_LIMIT_DEFAULT : in->limit;
	if (limit > AUDIT_LIMIT_MAX) {
		rv = rpc_fail(call, MGR_EINVAL, "\"limit\" must be 1 to %d",
		    AUDIT_LIMIT_MAX);
		goto out;
	}
	if (in->after[0] != '\0' && !audit_cursor_ok(in->after)) {
		rv = rpc_fail(call, MGR_EINVAL, "\"after\" is not a cursor of this list");
		goto out;
	}
	/* "(" makes the start exclusive (Redis 6.2+). */
	if (in->after[0] != '\0')
		snprintf(start, sizeof(start), "(%s", in->after);
	else
		snprintf(start, sizeof(start), "-");
	snprintf(count, sizeof(count), "%u", limit);
	if ((rv = kv_cmd(&r, "XRANGE %s %s + COUNT %s", KEY_AUDIT_STREAM, start,
	         count)) != MGR_OK) {
		if (rv == MGR_EINTERNAL)
			rv = rpc_fail(call, MGR_EINVAL,
			    "\"after\" is not a cursor of "
			    "this list");
		goto out;
	}
	if (r->type != REDIS_REPLY_ARRAY) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	if (r->elements > 0) {
		recs = calloc(r->elements, sizeof(*recs));
		ptrs = calloc(r->elements, sizeof(*ptrs));
		if (recs == NULL || ptrs == NULL) {
			rv = MGR_ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i];
		Mgr__Account__AuditRecord *a = &recs[n];

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING ||
		    e->element[1]->type != REDIS_REPLY_ARRAY)
			continue;
		mgr__account__audit_record__init(a);
		a->id = e->element[0]->str;
		a->time = audit_field(e->element[1], "time");
		a->request_id = audit_field(e->element[1], "request_id");
		a->actor_kind = audit_field(e->element[1], "actor_kind");
		a->actor = audit_field(e->element[1], "actor");
		a->action = audit_field(e->element[1], "action");
		a->target = audit_field(e->element[1], "target");
		a->outcome = audit_field(e->element[1], "outcome");
		a->detail = audit_field(e->element[1], "detail");
		ptrs[n++] = a;
	}
	out.n_records = n;
	out.records = ptrs;
	out.next_after = n > 0 ? recs[n - 1].id : in->after;
	rv = rpc_reply(call, &out.base);
out:
	if (r != NULL)
		freeReplyObject(r);
	free(ptrs);
	free(recs);
	mgr__account__audit_request__free_unpacked(in, NULL);
	return (rv);
}
