/* ca-svc: the method table. */
#include "services/ca/handlers.h"

const struct rpc_method ca_methods[] = {
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
