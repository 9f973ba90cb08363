#include "cli/rule.h"

#define DAY 86400
#define MAX_LIFE (5 * 365 * DAY - DAY)

int64_t
rule_renew_at(int64_t nb, int64_t na)
{
	if (na <= nb)
		return (na); /* a nonsense lifetime: renew when it ends */
	return (na - (na - nb) / 3);
}

int
rule_due(int64_t nb, int64_t na, int64_t now)
{
	return (now >= rule_renew_at(nb, na));
}

int64_t
rule_new_expiry(int64_t nb, int64_t na, int64_t now)
{
	int64_t life = na > nb ? na - nb : DAY;

	if (life < DAY)
		life = DAY;
	if (life > MAX_LIFE)
		life = MAX_LIFE;
	return (now + life);
}

int64_t
rule_backoff_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms, double rnd)
{
	int64_t d = base_ms > 0 ? base_ms : 1;

	for (unsigned i = 0; i < attempt && d < cap_ms; i++)
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	if (rnd < 0)
		rnd = 0;
	if (rnd >= 1)
		rnd = 0.999999;
	return (d / 2 + (int64_t)((double)(d - d / 2) * rnd));
}
