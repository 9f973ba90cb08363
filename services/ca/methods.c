/* ca-svc: the method table. */
#include "services/ca/dnmigrate.h"
#include "services/ca/handlers.h"

/* The service listens before the Subject DN registry is known to be in the
 * current canonical form (the gateway's server certificate, the CA
 * certificate, the CRL and OCSP need no Redis), but a call that claims or
 * frees a DN waits for it: answered "unavailable" until then. */
static mgr_err
dn_gate(struct rpc_call *call, void *arg, rpc_handler_fn fn)
{
	if (!ca_dn_ready())
		return (rpc_fail(call, MGR_EUNAVAIL,
		    "the Subject DN registry is not ready (Redis unreachable)"));
	return (fn(call, arg));
}

static mgr_err
ca_g_register(struct rpc_call *call, void *arg)
{
	return (dn_gate(call, arg, ca_h_register));
}

static mgr_err
ca_g_renew(struct rpc_call *call, void *arg)
{
	return (dn_gate(call, arg, ca_h_renew));
}

static mgr_err
ca_g_rotate(struct rpc_call *call, void *arg)
{
	return (dn_gate(call, arg, ca_h_rotate));
}

static mgr_err
ca_g_create_device(struct rpc_call *call, void *arg)
{
	return (dn_gate(call, arg, ca_h_create_device));
}

static mgr_err
ca_g_delete_device(struct rpc_call *call, void *arg)
{
	return (dn_gate(call, arg, ca_h_delete_device));
}

const struct rpc_method ca_methods[] = {
    {"ca.GetCa", ca_h_get_ca},
    {"ca.ServerCert", ca_h_server_cert},
    {"ca.AuthCert", ca_h_auth_cert},
    {"ca.Register", ca_g_register},
    {"ca.Renew", ca_g_renew},
    {"ca.Rotate", ca_g_rotate},
    {"ca.ListCerts", ca_h_list_certs},
    {"ca.GetCrl", ca_h_crl},
    {"ca.Ocsp", ca_h_ocsp},
    {"ca.CreateDevice", ca_g_create_device},
    {"ca.ListDevices", ca_h_list_devices},
    {"ca.RevokeDevice", ca_h_revoke_device},
    {"ca.DeleteDevice", ca_g_delete_device},
    {NULL, NULL},
};
