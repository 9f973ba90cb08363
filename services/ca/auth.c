/* ca.AuthCert: is a presented, chain-verified certificate an app's and usable? */
#include "services/ca/handlers.h"

#include "proto/ca.pb-c.h"

mgr_err
ca_h_auth_cert(struct rpc_call *call, void *arg)
{
	(void)arg;
	/* Certificate records arrive with registration (issue 4). */
	return (rpc_fail(call, MGR_EUNAUTH, "unknown client certificate"));
}
