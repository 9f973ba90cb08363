#include "services/ca/rules.h"

#include <stdio.h>
#include <string.h>

#include "common/util.h"

int
ca_account_id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n >= MGR_ID_MAX)
		return (0);
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
		        (id[i] >= '0' && id[i] <= '9') || id[i] == '_' || id[i] == '-'))
			return (0);
	return (1);
}

int
ca_serial_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return (0);
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return (0);
	return (1);
}

mgr_err
ca_app_caller(const struct rpc_call *call, const char *account_id, char *why,
    size_t whylen)
{
	if (call->caller->kind != MGR__CALLER__KIND__APP) {
		snprintf(why, whylen, "this operation takes a client certificate");
		return (MGR_EUNAUTH);
	}
	if (strcmp(account_id, call->caller->id) != 0) {
		snprintf(why, whylen, "a certificate may act only on its own account");
		return (MGR_EPERM);
	}
	return (MGR_OK);
}

int
ca_renew_needed(const struct ca_record *newest, int has_want, int64_t want_exp,
    int64_t now, int64_t notice_days)
{
	if (has_want)
		return (newest->not_after < want_exp);
	return (newest->not_after <= now + notice_days * 86400);
}
