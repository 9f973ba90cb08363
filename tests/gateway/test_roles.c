/* The role table (gateway/roles.c) against every REST route and against
 * API.md's words for the roles:
 * - every route (REST and .adm) that accepts an administrator has exactly
 *   one rule, an operation has the same roles on every front, and
 *   every rule names such a route (a new admin route without a rule fails
 *   here, as does a rule left behind by a removed route);
 * - each role on each route gets what API.md "Administrators (v2)" says:
 *   super_user everything; security_officer all but managing
 *   administrators, vault templates and vaults; operator GET (and HEAD)
 *   only, not the administrator list; every role its own password and
 *   who it is (GET /api/v1/admins/me); vault
 *   data is the vault service's refusal for every role (let through here);
 * - unknown, empty and differently spelt roles get nothing. */
#include <string.h>

#include "gateway/gw.h"
#include "gateway/adm/front.h"
#include "gateway/rest/rest.h"
#include "gateway/roles.h"
#include "tests/lib/check.h"

struct gw gw; /* main.c's, not linked into tests */

/* What API.md says, written independently of the table. */
static int
expected(const char *role, const char *method, const char *pattern)
{
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	int vault_data = strncmp(pattern, "/api/v1/vaults/{}/objects", 25) == 0 ||
	    (strcmp(pattern, "/api/v1/vaults") == 0 && strcmp(method, "POST") == 0) ||
	    (strcmp(pattern, "/api/v1/vaults/{}") == 0 &&
	        (strcmp(method, "PATCH") == 0 || strcmp(method, "PUT") == 0));
	int admins = strncmp(pattern, "/api/v1/admins", 14) == 0;
	const char *adm = strncmp(pattern, "/manager/api/", 13) == 0 ? pattern : NULL;

	/* .adm: every method is a POST; what it does decides. */
	if (adm != NULL) {
		if (strstr(adm, "createVaultFromTemplate") != NULL)
			return (1); /* vault data: the vault service refuses */
		if (strstr(adm, "Template") != NULL)
			return (strcmp(role, "super_user") == 0);
		return (strcmp(role, "super_user") == 0 ||
		    strcmp(role, "security_officer") == 0);
	}
	int own_password = strcmp(pattern, "/api/v1/admins/{}/password") == 0;
	int who_am_i = strcmp(pattern, "/api/v1/admins/me") == 0 && get;

	if (vault_data || own_password || who_am_i)
		return (1);
	if (strcmp(role, "super_user") == 0)
		return (1);
	if (strcmp(role, "security_officer") == 0) {
		if (admins)
			return (get);
		if (strncmp(pattern, "/api/v1/vault-templates", 23) == 0 ||
		    strncmp(pattern, "/api/v1/vaults", 14) == 0)
			return (get);
		return (1);
	}
	if (strcmp(role, "operator") == 0)
		return (get && !admins);
	return (0);
}

int
main(void)
{
	static const char *const roles[] = {"super_user", "security_officer", "operator",
	    "", "admin", "Super_User", "super_user ", "vault_provisioner"};
	size_t ntables = 0, nadmin = 0, nrules = 0;
	const struct gw_route *tables[16];

	CHECK(gw_adm_init() == MGR_OK, "the .adm routes");
	for (size_t i = 0; gw_front_rest.tables[i] != NULL; i++)
		tables[ntables++] = gw_front_rest.tables[i];
	for (size_t i = 0; gw_front_adm.tables[i] != NULL; i++)
		tables[ntables++] = gw_front_adm.tables[i];

	for (size_t t = 0; t < ntables; t++) {
		for (const struct gw_route *rt = tables[t]; rt->method != NULL; rt++) {
			int n = 0;

			if (!(rt->auth & GW_AUTH_ADMIN))
				continue;
			nadmin++;
			for (const struct gw_role_rule *ru = gw_role_table;
			     ru->op != NULL; ru++)
				if (strcmp(ru->method, rt->method) == 0 &&
				    strcmp(ru->pattern, rt->pattern) == 0)
					n++;
			CHECK(n == 1,
			    "%s %s: %d role rules (want exactly 1) in "
			    "gateway/roles.c",
			    rt->method, rt->pattern, n);
			for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
				int want = expected(roles[i], rt->method, rt->pattern);
				int got = gw_role_check(roles[i], rt->method,
				              rt->pattern) == MGR_OK;

				if (i >= 3)
					want = 0; /* not a role */
				CHECK(got == want, "role \"%s\" on %s %s: %s, want %s",
				    roles[i], rt->method, rt->pattern,
				    got ? "allowed" : "refused",
				    want ? "allowed" : "refused");
			}
		}
	}
	for (const struct gw_role_rule *ru = gw_role_table; ru->op != NULL; ru++) {
		int found = 0;

		nrules++;
		for (size_t t = 0; t < ntables; t++)
			for (const struct gw_route *rt = tables[t]; rt->method != NULL;
			     rt++)
				if ((rt->auth & GW_AUTH_ADMIN) &&
				    strcmp(ru->method, rt->method) == 0 &&
				    strcmp(ru->pattern, rt->pattern) == 0)
					found = 1;
		CHECK(found, "rule %s (%s %s) names no administrator route", ru->op,
		    ru->method, ru->pattern);
		/* The other fronts ask by operation: the same answer. */
		for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
			CHECK((gw_role_check_op(roles[i], ru->op) == MGR_OK) ==
			        (gw_role_check(roles[i], ru->method, ru->pattern) ==
			            MGR_OK),
			    "%s: by operation and by route differ for \"%s\"", ru->op,
			    roles[i]);
		for (const struct gw_role_rule *o = ru + 1; o->op != NULL; o++)
			CHECK(strcmp(o->op, ru->op) != 0 || o->roles == ru->roles,
			    "operation %s with other roles on another route", ru->op);
	}
	CHECK(gw_role_check("super_user", "GET", "/api/v1/no-such-route") == MGR_EPERM,
	    "a route without a rule is refused");
	CHECK(gw_role_check_op("super_user", "no.such") == MGR_EPERM,
	    "an operation without a rule is refused");
	CHECK(gw_role_check(NULL, "GET", "/api/v1/accounts") == MGR_EPERM, "NULL role");
	CHECK(nadmin >= 30 && nrules == nadmin, "%zu admin routes, %zu rules", nadmin,
	    nrules);
	if (fails == 0)
		printf("ok: %zu administrator routes, each role checked\n", nadmin);
	return (fails != 0);
}
