#include "services/account/handlers.h"

#include "services/account/account.h"

const struct rpc_method account_methods[] = {
    {"account.AuthBasic", acct_h_auth_basic},
    {"account.Create", acct_h_create},
    {"account.List", acct_h_list},
    {"account.Get", acct_h_get},
    {"account.SetPassword", acct_h_set_password},
    {"account.Rename", acct_h_rename},
    {"account.Disable", acct_h_disable},
    {"account.Enable", acct_h_enable},
    {"account.Delete", acct_h_delete},
    {"account.ListAudit", acct_h_list_audit},
    {"account.State", acct_h_state},
    {"account.AdminCreate", acct_h_admin_create},
    {"account.AdminList", acct_h_admin_list},
    {"account.AdminDelete", acct_h_admin_delete},
    {"account.AdminSetPassword", acct_h_admin_set_password},
    {NULL, NULL},
};

mgr_err
account_start(const struct mgr_config *cfg, void **state)
{
	return (acct_start(cfg, state));
}

void
account_stop(void *state)
{
	acct_stop(state);
}
