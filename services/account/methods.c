/* Minimal account.AuthBasic (vault helper): the administrator "admin" with
 * MANAGER_ADMIN_PASSWORD, so that admin routes can be tested before the
 * account service lands. The accounts work replaces this file. */
#include "services/account/handlers.h"

#include <stdlib.h>
#include <string.h>

#include "proto/account.pb-c.h"
#include "common/util.h"

static mgr_err
acct_h_auth_basic_min(struct rpc_call *call, void *arg)
{
	Mgr__Account__AuthBasicRequest *in = NULL;
	Mgr__Account__AuthBasicReply out = MGR__ACCOUNT__AUTH_BASIC_REPLY__INIT;
	const char *pw = getenv("MANAGER_ADMIN_PASSWORD");
	mgr_err rv;

	(void)arg;
	if ((rv = rpc_args(call, &mgr__account__auth_basic_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	if (in->temp || pw == NULL || *pw == '\0' ||
	    strcmp(in->username, "admin") != 0 ||
	    !mgr_ct_equal(in->password, strlen(in->password), pw, strlen(pw))) {
		rv = rpc_fail(call, MGR_EUNAUTH, "wrong user name or password");
		goto out;
	}
	out.id = (char *)"admin";
	rv = rpc_reply(call, &out.base);
out:
	mgr__account__auth_basic_request__free_unpacked(in, NULL);
	return (rv);
}

const struct rpc_method account_methods[] = {
	{"account.AuthBasic", acct_h_auth_basic_min},
	{NULL, NULL},
};
