/* When the renewal daemon acts, and how long it waits after an error. Pure:
 * tests/cli/test_rule.c. Times are Unix seconds. */
#ifndef MGR_CLI_RULE_H
#define MGR_CLI_RULE_H

#include <stdint.h>

/* The moment a certificate valid from nb to na is renewed by time: when less
 * than a third of its lifetime is left (na - (na - nb) / 3). */
int64_t rule_renew_at(int64_t nb, int64_t na);
int rule_due(int64_t nb, int64_t na, int64_t now);
/* The expiration_date a renewal by time asks for: the same lifetime again
 * from now, at least one day (the server's shortest life is an hour), at
 * most 5 years less a day (the server's limit). */
int64_t rule_new_expiry(int64_t nb, int64_t na, int64_t now);
/* Delay before retry number `attempt` (0 first): base * 2^attempt capped at
 * cap, then "equal jitter": half of it fixed, the other half scaled by
 * rnd in [0, 1). Milliseconds. */
int64_t rule_backoff_ms(unsigned attempt, int64_t base_ms, int64_t cap_ms, double rnd);

#endif
