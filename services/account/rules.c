#include "services/account/rules.h"

#include <string.h>

int
acct_username_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < ACCT_USER_MIN || n > ACCT_USER_MAX)
		return (0);
	return (strspn(s,
	            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	            "0123456789._-") == n);
}

int
acct_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > ACCT_NAME_MAX)
		return (0);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return (0);
	return (1);
}

int
acct_id_ok(const char *s)
{
	size_t n = strlen(s);

	return (n > 4 && n <= MGR_ID_MAX && strncmp(s, "acc_", 4) == 0 &&
	    strspn(s + 4, "abcdefghijklmnopqrstuvwxyz0123456789") == n - 4);
}

int
acct_registered(const struct acct_rec *a)
{
	return (a->registered_at != 0 || strcmp(a->state, "active") == 0);
}

const char *
acct_next_state(const struct acct_rec *a, const char *verb)
{
	if (strcmp(verb, "disable") == 0)
		return ("disabled");
	return (a->registered_at != 0 ? "active" : "pending_registration");
}
