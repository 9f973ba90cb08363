/* account-svc internals shared by its files. */
#ifndef MGR_ACCOUNT_ACCOUNT_H
#define MGR_ACCOUNT_ACCOUNT_H

#include <stdint.h>

#include "common/config.h"
#include "common/rpc.h"

#define ACCT_ROLE_PROVISIONER "vault_provisioner"
#define ACCT_NAME_MAX 128 /* bytes */
#define ACCT_USER_MIN 3
#define ACCT_USER_MAX 64
#define ACCT_ADMIN_BOOTSTRAP "admin"
/* Administrator roles (API.md "Administrators (v2)", after IBM COS). */
#define ACCT_ADMIN_SUPER_USER "super_user"
#define ACCT_ADMIN_SECURITY_OFFICER "security_officer"
#define ACCT_ADMIN_OPERATOR "operator"
#define ACCT_ADMINS_MAX 1000 /* administrators at most (a team, not users) */

struct acct_state {
	struct mgr_config cfg;
	int64_t max_failures; /* MANAGER_LOGIN_MAX_FAILURES (default 5) */
	int64_t lockout_s;    /* MANAGER_LOCKOUT_S (default 300), also the window */
	/* The slower limit per user name over all source addresses (auth.c). */
	int64_t global_max_failures; /* MANAGER_LOGIN_GLOBAL_MAX_FAILURES (100) */
	int64_t global_window_s;     /* MANAGER_LOGIN_GLOBAL_WINDOW_S (3600) */
	int64_t pw_hash_slots;       /* MANAGER_PW_HASH_SLOTS (password.h) */
};

/* admin.c: reads the knobs and makes sure admin:admin exists (see there). */
mgr_err acct_start(const struct mgr_config *cfg, void **state);
void acct_stop(void *state);

/* auth.c */
mgr_err acct_h_auth_basic(struct rpc_call *call, void *arg);

/* accounts.c */
mgr_err acct_h_create(struct rpc_call *call, void *arg);
mgr_err acct_h_list(struct rpc_call *call, void *arg);
mgr_err acct_h_get(struct rpc_call *call, void *arg);
mgr_err acct_h_set_password(struct rpc_call *call, void *arg);
mgr_err acct_h_rename(struct rpc_call *call, void *arg);
mgr_err acct_h_disable(struct rpc_call *call, void *arg);
mgr_err acct_h_enable(struct rpc_call *call, void *arg);
mgr_err acct_h_delete(struct rpc_call *call, void *arg);
/* The state of an account, for other services (the gateway). */
mgr_err acct_h_state(struct rpc_call *call, void *arg);

/* admins.c */
mgr_err acct_h_admin_create(struct rpc_call *call, void *arg);
mgr_err acct_h_admin_list(struct rpc_call *call, void *arg);
mgr_err acct_h_admin_delete(struct rpc_call *call, void *arg);
mgr_err acct_h_admin_set_password(struct rpc_call *call, void *arg);
/* 1 when role is one of the three administrator roles. */
int acct_admin_role_ok(const char *role);

/* audit_list.c */
mgr_err acct_h_list_audit(struct rpc_call *call, void *arg);

#endif
