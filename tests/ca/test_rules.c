/* services/ca/rules.c: ids, serials, the caller, and "renew only if needed". */
#include <string.h>

#include "services/ca/rules.h"
#include "tests/lib/check.h"

#define DAY 86400

static void
test_renew_needed(void)
{
	static const int64_t now = 1800000000;
	static const struct {
		int64_t not_after; /* of the newest valid certificate */
		int has_want;
		int64_t want; /* the expiry asked for */
		int64_t notice_days;
		int needed;
		const char *what;
	} cases[] = {
	    {now + 60 * DAY, 0, 0, 30, 0, "far from expiry"},
	    {now + 30 * DAY + 1, 0, 0, 30, 0, "one second outside the notice window"},
	    {now + 30 * DAY, 0, 0, 30, 1, "at the notice window's edge"},
	    {now + 1 * DAY, 0, 0, 30, 1, "inside the notice window"},
	    {now + 1 * DAY, 0, 0, 0, 0, "no notice window"},
	    {now + 60 * DAY, 1, now + 90 * DAY, 30, 1, "asked for a later expiry"},
	    {now + 60 * DAY, 1, now + 60 * DAY, 30, 0, "asked for the same expiry"},
	    {now + 60 * DAY, 1, now + 40 * DAY, 30, 0, "asked for an earlier expiry"},
	    {now + 1 * DAY, 1, now + DAY / 2, 30, 0,
	        "an expiry asked for wins over the window"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ca_record r;

		memset(&r, 0, sizeof(r));
		r.not_after = cases[i].not_after;
		CHECK(ca_renew_needed(&r, cases[i].has_want, cases[i].want, now,
		          cases[i].notice_days) == cases[i].needed,
		    "%s", cases[i].what);
	}
}

static void
test_ids(void)
{
	static const struct {
		const char *s;
		int id_ok, serial_ok;
	} cases[] = {
	    {"acc_abc", 1, 0},
	    {"0a1b2c", 1, 1},
	    {"0A1B", 1, 0},
	    {"", 0, 0},
	    {"a b", 0, 0},
	    {"a/b", 0, 0},
	    {"deadbeef", 1, 1},
	    {"xyz", 1, 0},
	    {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", 1, 1},
	    {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(ca_account_id_ok(cases[i].s) == cases[i].id_ok, "id \"%s\"",
		    cases[i].s);
		CHECK(ca_serial_ok(cases[i].s) == cases[i].serial_ok, "serial \"%s\"",
		    cases[i].s);
	}
}

static void
test_app_caller(void)
{
	static const struct {
		Mgr__Caller__Kind kind;
		const char *caller_id, *account;
		mgr_err rv;
	} cases[] = {
	    {MGR__CALLER__KIND__APP, "acc_a", "acc_a", MGR_OK},
	    {MGR__CALLER__KIND__APP, "acc_a", "acc_b", MGR_EPERM},
	    {MGR__CALLER__KIND__ADMIN, "admin", "acc_a", MGR_EUNAUTH},
	    {MGR__CALLER__KIND__TEMP, "acc_a", "acc_a", MGR_EUNAUTH},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Mgr__Caller c = MGR__CALLER__INIT;
		struct rpc_call call;
		char why[128] = "";

		memset(&call, 0, sizeof(call));
		c.kind = cases[i].kind;
		c.id = (char *)cases[i].caller_id;
		call.caller = &c;
		CHECK(ca_app_caller(&call, cases[i].account, why, sizeof(why)) ==
		        cases[i].rv,
		    "caller %d %s on %s", (int)cases[i].kind, cases[i].caller_id,
		    cases[i].account);
		CHECK(cases[i].rv == MGR_OK || why[0] != '\0', "a refusal says why");
	}
}

int
main(void)
{
	test_renew_needed();
	test_ids();
	test_app_caller();
	return (fails != 0);
}
