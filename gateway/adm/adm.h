/* The IBM COS Manager `.adm` front (api/ibm-compat.md): IBM's method calls,
 * /manager/api/{json|xml}/1.0/{method}.adm with form-encoded parameters,
 * translated onto the RPCs the REST routes use. No rule lives here: every
 * check beyond "is the parameter there, and of its type" is the services'. */
#ifndef MGR_GATEWAY_ADM_ADM_H
#define MGR_GATEWAY_ADM_ADM_H

#include <stdint.h>

#include "gateway/adm/envelope.h"
#include "gateway/adm/form.h"
#include "gateway/adm/ids.h"
#include "gateway/gw.h"

#define ADM_PREFIX "/manager/api/"

/* One call's state (r->state). */
struct adm_call {
	enum adm_flavour fl;
	struct adm_form form;
	char field[ADM_KEY_MAX + 1]; /* the parameter an error is about */
};

/* Route tables of the methods (accounts.c, certs.c, vaults.c). Every
 * route's handle is wrapped by the front (front.c) through these. */
struct adm_method {
	const char *name; /* "rotateClientKey" */
	unsigned auth;    /* GW_AUTH_* */
	mgr_err (*handle)(struct gw_req *r, struct adm_call *c);
};
extern const struct adm_method adm_methods_accounts[];
extern const struct adm_method adm_methods_certs[];
extern const struct adm_method adm_methods_vaults[];

/* Answers with responseStatus ok around DATA (stolen; NULL: {}). */
mgr_err adm_reply_ok(struct gw_req *r, json_t *data);

/* Parameters. Each failure sets the error's field and r->errmsg and returns
 * MGR_EINVAL (absent when required, given twice, too long, bad). */
/* Refuses any parameter not named in known or ignored (NULL-terminated;
 * ignored: IBM's parameters that mean nothing here, accepted). */
mgr_err adm_only(struct gw_req *r, struct adm_call *c, const char *const *known,
    const char *const *ignored);
/* A string of 1..maxlen bytes; absent and not required: *out NULL. */
mgr_err adm_str(struct gw_req *r, struct adm_call *c, const char *key, int required,
    size_t maxlen, const char **out);
/* IBM's dates: milliseconds since the epoch, into Unix seconds. */
mgr_err adm_ms(struct gw_req *r, struct adm_call *c, const char *key, int required,
    int64_t *out_s, int *present);
/* An id parameter (a number given out before, or one of ours) into out. */
mgr_err adm_id(struct gw_req *r, struct adm_call *c, const char *key, enum adm_kind kind,
    int required, char *out, size_t outlen, int *present);
/* Our id into its number for an answer. */
mgr_err adm_number(struct gw_req *r, enum adm_kind kind, const char *id, int64_t *out);

#endif
