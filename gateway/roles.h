/* Administrator roles: the ONE table of which role may call what, for every
 * front of the gateway (REST in gateway/auth.c; the S3 front and the IBM
 * .adm front call gw_role_check_op / gw_role_check with the operation they
 * translate onto, after they authenticated an administrator; there is no
 * second list of role rules anywhere).
 *
 * Roles (API.md "Administrators (v2)", after IBM COS): super_user
 * (everything), security_officer (accounts, devices, audit; reads
 * everything, manages no administrators, vault templates or vaults),
 * operator (read-only: GET routes only). Changing one's own password is
 * open to every role (the account service refuses another's with 403).
 * No role reaches vault data: those routes let every role through to the
 * vault service, which refuses every administrator there (one rule for
 * every front), as it did before roles existed.
 *
 * Every route of a front (REST, .adm) that accepts an administrator has
 * exactly one entry, and an operation has the same roles on every front
 * (tests/gateway/test_roles.c fails otherwise); a route without one is
 * refused to every role (403), never allowed. gw_authenticate checks it for
 * every route of the core's request handler, whatever the front. */
#ifndef MGR_GATEWAY_ROLES_H
#define MGR_GATEWAY_ROLES_H

#include "common/err.h"

enum {
	GW_ROLE_SUPER_USER = 1u << 0,
	GW_ROLE_SECURITY_OFFICER = 1u << 1,
	GW_ROLE_OPERATOR = 1u << 2,
};
#define GW_ROLES_ALL (GW_ROLE_SUPER_USER | GW_ROLE_SECURITY_OFFICER | GW_ROLE_OPERATOR)

struct gw_role_rule {
	const char *op;      /* the operation, as the audit names it: "account.create" */
	const char *method;  /* its REST route: "POST" */
	const char *pattern; /* "/api/v1/accounts" (gw_route.pattern) */
	unsigned roles;      /* GW_ROLE_* allowed */
};

/* The table, ending in {NULL}. */
extern const struct gw_role_rule gw_role_table[];

/* The bit of a role name; 0 for anything else. */
unsigned gw_role_bit(const char *role);

/* The rule of a REST route, or NULL. */
const struct gw_role_rule *gw_role_rule_of(const char *method, const char *pattern);

/* MGR_OK when an administrator of role may call the REST route (method,
 * pattern); else MGR_EPERM (also for no rule and for an unknown role). */
mgr_err gw_role_check(const char *role, const char *method, const char *pattern);

/* The same by operation name (rule->op), for fronts other than REST. */
mgr_err gw_role_check_op(const char *role, const char *op);

#endif
