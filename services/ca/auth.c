/* ca.AuthCert: is a presented, chain-verified certificate an app's, and usable?
 * On the hot path of every app request: one Redis round trip. */
#include "services/ca/handlers.h"

#include <string.h>

#include "common/kv.h"
#include "common/util.h"
#include "proto/ca.pb-c.h"

/* ARGV: serial, fingerprint, now. Returns {account_id, role, not_after}, or
 * {"", reason} when the certificate may not be used. */
static const char lua_auth[] =
    "local c = redis.call('HMGET', 'cert:' .. ARGV[1], 'fingerprint',\n"
    "  'revoked_at', 'not_after', 'account_id')\n"
    "if not c[1] or c[1] ~= ARGV[2] then return {'', 'unknown client certificate'} end\n"
    "if c[2] and c[2] ~= '' then return {'', 'client certificate revoked'} end\n"
    "if tonumber(c[3]) <= tonumber(ARGV[3]) then\n"
    "  return {'', 'client certificate expired'} end\n"
    "if not c[4] or c[4] == '' then\n"
    "  return {'', 'a device certificate is not an application credential'} end\n"
    "local a = redis.call('HMGET', 'acct:{' .. c[4] .. '}', 'state', 'role')\n"
    "if a[1] == 'disabled' then return {'', 'account disabled'} end\n"
    "if a[1] ~= 'active' then return {'', 'account not active'} end\n"
    "return {c[4], a[2] or '', c[3]}\n";

mgr_err
ca_h_auth_cert(struct rpc_call *call, void *arg)
{
	Mgr__Ca__AuthCertRequest *req = NULL;
	Mgr__Ca__AuthCertReply rep = MGR__CA__AUTH_CERT_REPLY__INIT;
	redisReply *r = NULL;
	const char *argv[3];
	char now[24];
	int64_t na = 0;
	mgr_err rv;

	(void)arg;
	if (call->caller->kind != MGR__CALLER__KIND__SERVICE)
		return (rpc_fail(call, MGR_EPERM, "AuthCert is for the gateway"));
	if ((rv = rpc_args(call, &mgr__ca__auth_cert_request__descriptor,
	         (ProtobufCMessage **)&req)) != MGR_OK)
		return (rv);
	if (req->serial[0] == '\0' || strlen(req->serial) > 64 ||
	    strlen(req->fingerprint) != 64) {
		rv = rpc_fail(call, MGR_EUNAUTH, "unknown client certificate");
		goto out;
	}
	snprintf(now, sizeof(now), "%lld", (long long)mgr_now_s());
	argv[0] = req->serial;
	argv[1] = req->fingerprint;
	argv[2] = now;
	if ((rv = kv_eval(&r, lua_auth, 0, 3, argv, NULL)) != MGR_OK)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	if (r->element[0]->len == 0) {
		rv = rpc_fail(call, MGR_EUNAUTH, "%s", r->element[1]->str);
		goto out;
	}
	if (r->elements < 3 || r->element[2]->type != REDIS_REPLY_STRING ||
	    mgr_parse_i64(r->element[2]->str, &na) != MGR_OK) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	rep.account_id = r->element[0]->str;
	rep.role = r->element[1]->str;
	rep.not_after = na;
	rv = rpc_reply(call, &rep.base);
out:
	if (r != NULL)
		freeReplyObject(r);
	mgr__ca__auth_cert_request__free_unpacked(req, NULL);
	return (rv);
}
