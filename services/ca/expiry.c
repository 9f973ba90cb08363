/* The expiry scanner: certificate.expiring / certificate.expired events. */
#include "services/ca/handlers.h"

#include "common/svc.h"

void
ca_expiry_loop(void *state, volatile int *stop)
{
	struct ca_state *ca = state;

	/* Issue 6 fills this in. */
	while (!*stop)
		svc_sleep(stop, (int)ca->cfg->expiry_scan_interval_s * 1000);
}
