/* ca-svc: wires config, the CA and the RPC handlers together. */
#include <stdatomic.h>

#include "common/log.h"
#include "common/svc.h"
#include "services/ca/dnmigrate.h"
#include "services/ca/handlers.h"

/* Set once the Subject DN registry is in the current canonical form. The
 * service listens before that (the gateway's server certificate, the CA
 * certificate, the CRL and OCSP need no Redis), but a call that claims or
 * frees a DN waits for it: answered "unavailable" until then. */
static atomic_int ca_dn_ready;

static mgr_err
dn_gate(struct rpc_call *call, void *arg, rpc_handler_fn fn)
{
	if (!atomic_load(&ca_dn_ready))
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

static const struct rpc_method ca_methods[] = {
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

static mgr_err
ca_start(const struct mgr_config *cfg, void **state)
{
	return (ca_open(cfg, (struct ca_state **)state));
}

/* The background thread: first the DN registry migration, retried while
 * Redis is unreachable (with a back-off up to 10 s), then the expiry
 * scanner. */
static void
ca_background(void *state, volatile int *stop)
{
	mgr_err rv, last = MGR_OK;
	int wait_ms = 500;

	while (!*stop && (rv = ca_dn_migrate()) != MGR_OK) {
		if (rv != last)
			log_warn(NULL, "Subject DN registry check failed: %s; "
			    "registration, renewal, rotation and devices wait for it "
			    "(retrying)", mgr_strerror(rv));
		last = rv;
		svc_sleep(stop, wait_ms);
		if (wait_ms < 10000)
			wait_ms *= 2;
	}
	if (*stop)
		return;
	if (last != MGR_OK)
		log_info(NULL, "Subject DN registry ready");
	atomic_store(&ca_dn_ready, 1);
	ca_expiry_loop(state, stop);
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
		.background = ca_background,
		.stop = ca_stop,
	};

	return (svc_main(&def));
}
