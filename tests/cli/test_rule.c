/* cli/rule.c: when the daemon renews by time, what it asks for, and how
 * long it waits after an error. */
#include <stdint.h>

#include "cli/rule.h"
#include "tests/lib/check.h"

#define DAY 86400

int
main(void)
{
	int64_t nb = 1000000, year = 365 * DAY;

	/* a third of the lifetime left */
	CHECK(rule_renew_at(nb, nb + 30 * DAY) == nb + 20 * DAY, "30 days: at day 20");
	CHECK(!rule_due(nb, nb + 30 * DAY, nb + 20 * DAY - 1), "not a second early");
	CHECK(rule_due(nb, nb + 30 * DAY, nb + 20 * DAY), "due at the moment");
	CHECK(rule_due(nb, nb + 30 * DAY, nb + 31 * DAY), "due once expired");
	CHECK(!rule_due(nb, nb + year, nb + 200 * DAY), "a year: not at day 200");
	CHECK(rule_due(nb, nb + year, nb + 244 * DAY), "a year: at day 244");
	/* a 20-day certificate (the case): renewed by time 6.67 days before */
	CHECK(rule_renew_at(nb, nb + 20 * DAY) == nb + 20 * DAY - (20 * DAY) / 3,
	    "20 days");
	/* nonsense lifetimes renew at expiry, never before issue */
	CHECK(rule_renew_at(nb, nb) == nb && rule_renew_at(nb, nb - 5) == nb - 5,
	    "empty life");

	/* the new expiry keeps the lifetime, within the server's limits */
	CHECK(rule_new_expiry(nb, nb + year, nb + 300 * DAY) == nb + 300 * DAY + year,
	    "same life");
	CHECK(rule_new_expiry(nb, nb + 60, nb) == nb + DAY, "at least a day");
	CHECK(rule_new_expiry(nb, nb + 10 * year, nb) == nb + 5 * 365 * DAY - DAY,
	    "at most 5 years");

	/* backoff: doubles up to the cap, half fixed, half jitter */
	CHECK(rule_backoff_ms(0, 1000, 60000, 0.0) == 500, "first, no jitter");
	CHECK(rule_backoff_ms(0, 1000, 60000, 0.999999) == 999, "first, full jitter");
	CHECK(rule_backoff_ms(3, 1000, 60000, 0.0) == 4000, "fourth");
	CHECK(rule_backoff_ms(10, 1000, 60000, 0.0) == 30000, "capped");
	CHECK(rule_backoff_ms(200, 1000, 60000, 0.5) <= 60000, "no overflow");
	CHECK(rule_backoff_ms(200, 1000, 60000, 2.0) < 60000, "rnd clamped");
	for (unsigned a = 0; a < 40; a++) {
		int64_t lo = rule_backoff_ms(a, 1000, 60000, 0.0);
		int64_t hi = rule_backoff_ms(a, 1000, 60000, 0.999);

		CHECK(lo >= 500 && hi <= 60000 && lo <= hi, "attempt %u: %lld..%lld", a,
		    (long long)lo, (long long)hi);
	}
	return (fails ? 1 : 0);
}
