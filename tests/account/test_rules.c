/* services/account/rules.c: names, user names, ids, the state machine. */
#include <stdio.h>
#include <string.h>

#include "services/account/rules.h"
#include "tests/lib/check.h"

static void
test_names(void)
{
	static const struct {
		int (*fn)(const char *);
		const char *fname, *s;
		int ok;
	} cases[] = {
	    {acct_username_ok, "username", "abc", 1},
	    {acct_username_ok, "username", "ab", 0},
	    {acct_username_ok, "username", "billing-setup.1_A", 1},
	    {acct_username_ok, "username", "with space", 0},
	    {acct_username_ok, "username", "caf\xc3\xa9", 0},
	    {acct_username_ok, "username",
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1},
	    {acct_username_ok, "username",
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
	    {acct_name_ok, "name", "billing app", 1},
	    {acct_name_ok, "name", "caf\xc3\xa9", 1},
	    {acct_name_ok, "name", "", 0},
	    {acct_name_ok, "name", "tab\there", 0},
	    {acct_name_ok, "name", "del\x7f", 0},
	    {acct_id_ok, "id", "acc_abc123", 1},
	    {acct_id_ok, "id", "acc_", 0},
	    {acct_id_ok, "id", "acc_ABC", 0},
	    {acct_id_ok, "id", "vlt_abc", 0},
	    {acct_id_ok, "id", "acc_a-b", 0},
	    {acct_id_ok, "id", "acc_../x", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(cases[i].fn(cases[i].s) == cases[i].ok, "%s(\"%s\") != %d",
		    cases[i].fname, cases[i].s, cases[i].ok);
}

static void
test_states(void)
{
	static const struct {
		const char *state;
		int64_t registered_at;
		int registered;
		const char *after_disable, *after_enable;
	} cases[] = {
	    {"pending_registration", 0, 0, "disabled", "pending_registration"},
	    {"active", 1700000000, 1, "disabled", "active"},
	    {"disabled", 1700000000, 1, "disabled", "active"},
	    {"disabled", 0, 0, "disabled", "pending_registration"},
	    /* active without registered_at (data from before it): registered */
	    {"active", 0, 1, "disabled", "pending_registration"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct acct_rec a;

		memset(&a, 0, sizeof(a));
		snprintf(a.state, sizeof(a.state), "%s", cases[i].state);
		a.registered_at = cases[i].registered_at;
		CHECK(acct_registered(&a) == cases[i].registered, "%s/%lld: registered",
		    cases[i].state, (long long)cases[i].registered_at);
		CHECK(strcmp(acct_next_state(&a, "disable"), cases[i].after_disable) == 0,
		    "%s: disable", cases[i].state);
		CHECK(strcmp(acct_next_state(&a, "enable"), cases[i].after_enable) == 0,
		    "%s: enable", cases[i].state);
	}
}

int
main(void)
{
	test_names();
	test_states();
	return (fails != 0);
}
