/* ca-svc: wires config, the CA and the RPC handlers together. */
#include "common/svc.h"
#include "services/ca/dnmigrate.h"
#include "services/ca/handlers.h"

static const struct rpc_method ca_methods[] = {
	{"ca.GetCa", ca_h_get_ca},
	{"ca.ServerCert", ca_h_server_cert},
	{"ca.AuthCert", ca_h_auth_cert},
	{"ca.Register", ca_h_register},
	{"ca.Renew", ca_h_renew},
	{"ca.Rotate", ca_h_rotate},
	{"ca.ListCerts", ca_h_list_certs},
	{"ca.GetCrl", ca_h_crl},
	{"ca.Ocsp", ca_h_ocsp},
	{"ca.CreateDevice", ca_h_create_device},
	{"ca.ListDevices", ca_h_list_devices},
	{"ca.RevokeDevice", ca_h_revoke_device},
	{"ca.DeleteDevice", ca_h_delete_device},
	{NULL, NULL},
};

static mgr_err
ca_start(const struct mgr_config *cfg, void **state)
{
	mgr_err rv;

	if ((rv = ca_open(cfg, (struct ca_state **)state)) != MGR_OK)
		return (rv);
	if ((rv = ca_dn_migrate()) != MGR_OK) {
		ca_close(*state);
		*state = NULL;
	}
	return (rv);
}

static void
ca_stop(void *state)
{
	ca_close(state);
}

int
main(void)
{
	static const struct svc_def def = {
		.name = "ca",
		.methods = ca_methods,
		.start = ca_start,
		.background = ca_expiry_loop,
		.stop = ca_stop,
	};

	return (svc_main(&def));
}
