/* RPCs on behalf of a request: its envelope id, its caller, its deadline;
 * failures of the backing services counted in /metrics. */
#include "gateway/gw.h"

#include "common/log.h"

mgr_err
gw_rpc(struct gw_req *r, struct rpc_client *c, const char *method,
    const ProtobufCMessage *in, const ProtobufCMessageDescriptor *out_desc,
    ProtobufCMessage **out)
{
	mgr_err rv;

	rv = rpc_call(c, method, r->rpc_id, &r->caller, in, out_desc, out, r->errmsg,
	    sizeof(r->errmsg), 0);
	if (rv == MGR_EUNAVAIL || rv == MGR_EINTERNAL || rv == MGR_ENOMEM)
		gw_metrics_rpc_error(method, rv);
	if (rv == MGR_EUNAVAIL)
		log_warn(r->request_id, "%s: backing service unavailable", method);
	return (rv);
}
