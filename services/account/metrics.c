/* account-svc's domain metrics (common/metrics.h): the password
 * derivations' slots (password.h, MANAGER_PW_HASH_SLOTS). */
#include "services/account/metrics.h"

#include "common/metrics.h"
#include "services/account/password.h"

void
account_metrics(void *state, struct mgr_buf *b, const char *labels)
{
	struct acct_pw_stats st;

	(void)state;
	acct_pw_stats(&st);
	mgr_metrics_family(b, "manager_password_hash_slots", "gauge",
	    "Password derivations (16 MiB of scrypt each) allowed at once.");
	mgr_buf_printf(b, "manager_password_hash_slots{%s} %d\n", labels, st.slots);
	mgr_metrics_family(b, "manager_password_hash_busy", "gauge",
	    "Password derivations running now.");
	mgr_buf_printf(b, "manager_password_hash_busy{%s} %d\n", labels, st.busy);
	mgr_metrics_family(b, "manager_password_hash_busy_max", "gauge",
	    "The most password derivations seen running at once.");
	mgr_buf_printf(b, "manager_password_hash_busy_max{%s} %d\n", labels, st.busy_max);
	mgr_metrics_family(b, "manager_password_hash_waits_total", "counter",
	    "Password derivations that waited for a slot.");
	mgr_buf_printf(b, "manager_password_hash_waits_total{%s} %llu\n", labels,
	    st.waited);
}
