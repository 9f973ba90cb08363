/* ca.AuthCert: is a presented, chain-verified certificate an app's and usable?
 * Minimal version (vault helper): reads cert:<serial> and acct:{<id>} as laid
 * out in common/keys.h; the CA work replaces it. */
#include "services/ca/handlers.h"

#include <string.h>

#include "common/kv.h"
#include "common/util.h"
#include "proto/ca.pb-c.h"

/* A reply element as a NUL-terminated string, "" for nil. */
static const char *
elem_str(const redisReply *r, size_t i)
{
	if (r->type != REDIS_REPLY_ARRAY || i >= r->elements ||
	    r->element[i]->type != REDIS_REPLY_STRING)
		return ("");
	return (r->element[i]->str);
}

mgr_err
ca_h_auth_cert(struct rpc_call *call, void *arg)
{
	Mgr__Ca__AuthCertRequest *in = NULL;
	Mgr__Ca__AuthCertReply out = MGR__CA__AUTH_CERT_REPLY__INIT;
	redisReply *cert = NULL, *acct = NULL;
	const char *fp, *holder, *id;
	int64_t not_after = 0;
	char acct_id[MGR_ID_MAX];
	mgr_err rv;

	(void)arg;
	if ((rv = rpc_args(call, &mgr__ca__auth_cert_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	if (*in->serial == '\0' || strlen(in->serial) > 64 ||
	    strlen(in->fingerprint) != 64) {
		rv = rpc_fail(call, MGR_EUNAUTH, "unknown client certificate");
		goto out;
	}
	if ((rv = kv_cmd(&cert, "HMGET cert:%s fingerprint revoked_at not_after "
	                        "holder account_id", in->serial)) != MGR_OK)
		goto out;
	fp = elem_str(cert, 0);
	holder = elem_str(cert, 3);
	id = elem_str(cert, 4);
	if (!mgr_ct_equal(fp, strlen(fp), in->fingerprint, strlen(in->fingerprint)) ||
	    *elem_str(cert, 1) != '\0' ||
	    mgr_parse_i64(elem_str(cert, 2), &not_after) != MGR_OK ||
	    not_after <= mgr_now_s() || strncmp(holder, "acct:", 5) != 0 ||
	    *id == '\0' || strcmp(holder + 5, id) != 0 ||
	    strlen(id) >= sizeof(acct_id)) {
		rv = rpc_fail(call, MGR_EUNAUTH, "unknown or unusable client certificate");
		goto out;
	}
	memcpy(acct_id, id, strlen(id) + 1);
	if ((rv = kv_cmd(&acct, "HMGET acct:{%s} state role", acct_id)) != MGR_OK)
		goto out;
	if (strcmp(elem_str(acct, 0), "active") != 0) {
		rv = rpc_fail(call, MGR_EUNAUTH, "the account is not active");
		goto out;
	}
	out.account_id = acct_id;
	out.role = (char *)elem_str(acct, 1);
	out.not_after = not_after;
	rv = rpc_reply(call, &out.base);
out:
	if (cert != NULL)
		freeReplyObject(cert);
	if (acct != NULL)
		freeReplyObject(acct);
	if (in != NULL)
		mgr__ca__auth_cert_request__free_unpacked(in, NULL);
	return (rv);
}
