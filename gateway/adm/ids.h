/* IBM's methods name accounts, vaults and templates by number ("Long");
 * ours are opaque strings (acc_…, vlt_…, tpl_…) of 128 random bits, which no
 * encoding fits into a number. So each id gets a number the first time the
 * `.adm` front names it (in an answer or a parameter), from one counter per
 * kind in Redis, kept both ways for ever: the same on every gateway replica
 * and after any restart, never reused (api/ibm-compat.md, "IDs").
 *
 * Redis (common/keys.h):
 *   admid:{<kind>}:next    string  the last number given
 *   admid:{<kind>}:num     hash    id -> number
 *   admid:{<kind>}:id      hash    number -> id
 */
#ifndef MGR_GATEWAY_ADM_IDS_H
#define MGR_GATEWAY_ADM_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/util.h"

enum adm_kind { ADM_ACCOUNT = 0, ADM_VAULT, ADM_TEMPLATE };

/* The number of ID (one of ours, of that kind), given now if it has none. */
mgr_err adm_id_number(enum adm_kind kind, const char *id, int64_t *out);

/* A parameter naming an object into our id: a number given out before, or
 * one of our own ids of that kind as it is. MGR_EINVAL when TEXT is neither
 * a number nor an id of the kind; MGR_ENOTFOUND for a number never given. */
mgr_err adm_id_resolve(enum adm_kind kind, const char *text, char *out, size_t outlen);

#endif
