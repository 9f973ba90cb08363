/* gateway/authcache.c: bounded cache of ca.AuthCert answers. */
#include <stdio.h>
#include <string.h>

#include "gateway/authcache.h"
#include "tests/lib/check.h"


#define N_CERTS 40000

static void
put_one(int i)
{
	struct gw_auth_answer a;
	char serial[64], fp[65];

	memset(&a, 0, sizeof(a));
	snprintf(serial, sizeof(serial), "%032x", i * 2654435761u);
	snprintf(fp, sizeof(fp), "fp%d", i);
	snprintf(a.account_id, sizeof(a.account_id), "acc_%d", i);
	snprintf(a.role, sizeof(a.role), "vault_provisioner");
	a.not_after = 4000000000LL;
	gw_authcache_put(gw_authcache_generation(), serial, fp, &a);
}

/* 1: hit with the right answer; 0: miss; -1: a wrong answer. */
static int
get_one(int i, const char *fp_override)
{
	struct gw_auth_answer a;
	char serial[64], fp[65], want[64];

	snprintf(serial, sizeof(serial), "%032x", i * 2654435761u);
	snprintf(fp, sizeof(fp), "fp%d", i);
	snprintf(want, sizeof(want), "acc_%d", i);
	if (!gw_authcache_get(serial, fp_override ? fp_override : fp, &a))
		return (0);
	return (strcmp(a.account_id, want) == 0 ? 1 : -1);
}

int
main(void)
{
	int hits = 0, wrong = 0, recent = 0;

	CHECK(gw_authcache_start() == MGR_OK, "start");
	put_one(1);
	CHECK(get_one(1, NULL) == 1, "a stored answer is found");
	CHECK(get_one(1, "another") == 0, "another fingerprint for the serial misses");
	CHECK(get_one(2, NULL) == 0, "an unknown serial misses");

	/* Far more certificates than slots: the table stays bounded, never
	 * answers wrongly, and keeps most of what fits (it used to empty
	 * itself at half full, holding at most 8,192). */
	for (int i = 0; i < N_CERTS; i++)
		put_one(i);
	for (int i = 0; i < N_CERTS; i++) {
		int r = get_one(i, NULL);

		hits += r == 1;
		wrong += r < 0;
		if (i >= N_CERTS - 1000)
			recent += r == 1;
	}
	printf("%d of %d answers cached, %d of the last 1000\n", hits, N_CERTS, recent);
	CHECK(wrong == 0, "no wrong answer (%d)", wrong);
	CHECK(hits > 12000 && hits <= 16384, "most of the table in use (%d)", hits);
	CHECK(recent > 900, "recent answers cached (%d of 1000)", recent);
	gw_authcache_stop();
	CHECK(get_one(N_CERTS - 1, NULL) == 0, "nothing after stop");
	return (fails != 0);
}
