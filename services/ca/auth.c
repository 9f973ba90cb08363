/* ca.AuthCert: is a presented, chain-verified certificate an app's, and usable?
 * On the hot path of every app request: one Redis round trip. */
#include "services/ca/handlers.h"

#include <string.h>

#include "common/audit.h"
#include "common/kv.h"
#include "common/util.h"
#include "proto/ca.pb-c.h"

/* ARGV: serial, fingerprint, now. Returns {account_id, role, not_after}, or
 * {"", reason, account_id or "", audit} when the certificate may not be used:
 * audit is 1 for the first refusal of that serial in AUTH_REFUSED_TTL_S
 * seconds (the key auth:refused:<serial>), so that a stolen or revoked key
 * still being tried shows in the audit log without a retry loop flooding it. */
#define AUTH_REFUSED_TTL_S "60"

/* clang-format off */
static const char lua_auth[] =
    "local function no(why, acct)\n"
    "  local first = redis.call('SET', 'auth:refused:' .. ARGV[1], '1', 'NX',\n"
    "    'EX', " AUTH_REFUSED_TTL_S ")\n"
    "  return {'', why, acct or '', first and 1 or 0}\n"
    "end\n"
    "local c = redis.call('HMGET', 'cert:' .. ARGV[1], 'fingerprint',\n"
    "  'revoked_at', 'not_after', 'account_id')\n"
    "if not c[1] or c[1] ~= ARGV[2] then return no('unknown client certificate') end\n"
    "if c[2] and c[2] ~= '' then return no('client certificate revoked', c[4]) end\n"
    "if tonumber(c[3]) <= tonumber(ARGV[3]) then\n"
    "  return no('client certificate expired', c[4]) end\n"
    "if not c[4] or c[4] == '' then\n"
    "  return no('a device certificate is not an application credential') end\n"
    "local a = redis.call('HMGET', 'acct:{' .. c[4] .. '}', 'state', 'role')\n"
    "if a[1] == 'disabled' then return no('account disabled', c[4]) end\n"
    "if a[1] ~= 'active' then return no('account not active', c[4]) end\n"
    "return {c[4], a[2] or '', c[3]}\n";
/* clang-format on */

/* Audits a refused certificate as its holder's attempt (action auth.cert). */
static void
audit_refused(struct rpc_call *call, const char *serial, redisReply *r)
{
	Mgr__Caller who = MGR__CALLER__INIT;
	char detail[256]; /* reason <= 60, serial <= 64 (ca_h_auth_cert) */

	if (r->elements < 4 || r->element[2]->type != REDIS_REPLY_STRING ||
	    r->element[3]->type != REDIS_REPLY_INTEGER || r->element[3]->integer != 1)
		return;
	who.kind = MGR__CALLER__KIND__APP;
	who.id = r->element[2]->str;
	who.cert_serial = (char *)serial;
	who.role = (char *)"";
	snprintf(detail, sizeof(detail),
	    "%s, serial %s (further refusals of it "
	    "within " AUTH_REFUSED_TTL_S " s are not recorded)",
	    r->element[1]->str, serial);
	audit_log(call->request_id, &who, "auth.cert", r->element[2]->str, MGR_EUNAUTH,
	    detail);
}

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
		audit_refused(call, req->serial, r);
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
