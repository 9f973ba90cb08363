#include "services/vault/handlers.h"

const struct rpc_method vault_methods[] = {
	{"vault.CreateTemplate", vault_h_tpl_create},
	{"vault.ListTemplates", vault_h_tpl_list},
	{"vault.Create", vault_h_create},
	{"vault.List", vault_h_list},
	{"vault.Get", vault_h_get},
	{"vault.Delete", vault_h_delete},
	{"vault.Update", vault_h_update},
	{"vault.HeadObject", vault_h_head},
	{"vault.PutBegin", vault_h_put_begin},
	{"vault.PutChunk", vault_h_put_chunk},
	{"vault.PutCommit", vault_h_put_commit},
	{"vault.PutAbort", vault_h_put_abort},
	{"vault.GetChunk", vault_h_get_chunk},
	{"vault.DeleteObject", vault_h_obj_delete},
	{"vault.ListObjects", vault_h_obj_list},
	{NULL, NULL},
};
