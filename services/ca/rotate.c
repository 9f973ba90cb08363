/* rotateClientKey: a certificate for a new key, revoking the account's valid
 * certificates (or the serials listed) in the same step. */
#include "services/ca/handlers.h"

#include <stdio.h>
#include <string.h>

#include "common/audit.h"
#include "services/ca/certs.h"
#include "services/ca/rules.h"
#include "services/ca/store.h"

/* The revoke list: at most CA_REVOKE_MAX serials, lowercased in place
 * (what openssl prints, upper case, names the same serial). */
static mgr_err
rotate_revoke_list(Mgr__Ca__IssueRequest *req, char *why, size_t whylen)
{
	if (!req->has_revoke)
		return (MGR_OK);
	if (req->n_revoke > CA_REVOKE_MAX) {
		snprintf(why, whylen, "revoke lists at most %d serials", CA_REVOKE_MAX);
		return (MGR_EINVAL);
	}
	for (size_t i = 0; i < req->n_revoke; i++) {
		for (char *c = req->revoke[i]; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'F')
				*c = (char)(*c + 32);
		if (!ca_serial_ok(req->revoke[i])) {
			snprintf(why, whylen, "revoke: a serial is lowercase hex");
			return (MGR_EINVAL);
		}
	}
	return (MGR_OK);
}

/* Signs a certificate for the CSR's key and commits it with the
 * revocations; the reply, or the replay's. */
static mgr_err
rotate_commit(struct ca_state *ca, struct op *op, const Mgr__Ca__IssueRequest *req,
    const struct ca_csr *csr, int64_t now, int64_t exp, char *why, size_t whylen)
{
	struct rpc_call *call = op->call;
	struct ca_serials revoked = {.s = NULL};
	struct ca_issued iss;
	Mgr__Ca__Certificate cm;
	mgr_err rv;

	memset(&iss, 0, sizeof(iss));
	if ((rv = ca_issue(ca, csr->spki_obj, csr->name, exp, CA_PROFILE_CLIENT, &iss)) !=
	    MGR_OK)
		goto out;
	ca_issued_msg(&iss, &cm);
	if ((rv = ca_prepare_cert(op, &cm, 0)) != MGR_OK)
		goto out;
	if ((rv = ca_store_rotate(&iss, req->account_id, now, req->has_revoke,
	         req->revoke, req->n_revoke, &op->rp, &revoked)) != MGR_OK) {
		if (rv == MGR_EINVAL)
			snprintf(why, whylen,
			    "the CSR's key or the revoke list "
			    "no longer fits the account's certificates");
		goto out;
	}
	if (op->rp.hit) {
		rv = op_replayed(op);
		goto out;
	}
	/* The CRL is not rebuilt here: its next read does (crl.c, crl:gen
	 * moved), so that a rotation does not pay for signing a CRL of every
	 * revoked unexpired certificate of every account. */
	for (size_t i = 0; i < revoked.n; i++)
		audit_log(call->request_id, call->caller, "certificate.revoke",
		    req->account_id, MGR_OK, revoked.s[i]);
	snprintf(op->detail, sizeof(op->detail), "serial %s, %zu revoked", iss.serial,
	    revoked.n);
	rv = ca_reply_cert(call, &cm, 0, revoked.ptrs, revoked.n);
out:
	ca_serials_free(&revoked);
	ca_issued_clear(&iss);
	return (rv);
}

mgr_err
ca_h_rotate(struct rpc_call *call, void *arg)
{
	struct ca_state *ca = arg;
	Mgr__Ca__IssueRequest *req = NULL;
	struct ca_csr *csr = NULL;
	char holder[MGR_ID_MAX + 8], why[256];
	struct op op;
	int64_t now = mgr_now_s(), exp;
	int hit = 0;
	mgr_err rv;

	why[0] = '\0';
	op_start(&op, call, NULL);
	if ((rv = op_args(&op, &mgr__ca__issue_request__descriptor,
	         (ProtobufCMessage **)&req)) != MGR_OK)
		return (op_end(&op, rv));
	op.action = "certificate.rotate";
	snprintf(op.target, sizeof(op.target), "%s", req->account_id);
	if ((rv = ca_app_caller(call, req->account_id, why, sizeof(why))) != MGR_OK)
		goto out;
	/* A replay's key is certified now (the pre-checks refuse it): look for
	 * the record first. */
	if ((rv = op_lookup(&op, &hit)) != MGR_OK || hit)
		goto out;
	snprintf(holder, sizeof(holder), "acct:%s", req->account_id);
	if ((rv = rotate_revoke_list(req, why, sizeof(why))) != MGR_OK ||
	    (rv = ca_expiration(ca, req->has_expiration, req->expiration, now, &exp, why,
	         sizeof(why))) != MGR_OK ||
	    (rv = ca_csr_parse(req->csr_pem, &csr, why, sizeof(why))) != MGR_OK ||
	    (rv = ca_store_rotate_precheck(req->account_id, csr->spki, req->revoke,
	         req->has_revoke ? req->n_revoke : 0, why, sizeof(why))) != MGR_OK ||
	    (rv = ca_store_dn_free(csr->dn_key, holder)) != MGR_OK)
		goto out;
	rv = rotate_commit(ca, &op, req, csr, now, exp, why, sizeof(why));
out:
	if (rv != MGR_OK && !hit && (rv = replay_rescue(&op.rp, call, rv)) == MGR_OK)
		op.replayed = 1;
	if (rv == MGR_ECONFLICT && why[0] == '\0')
		snprintf(why, sizeof(why),
		    "the Subject DN is held by another account or device");
	ca_cert_fail(call, rv, why);
	ca_csr_free(csr);
	return (op_end(&op, rv));
}
