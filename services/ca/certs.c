/* registerClientCertificate and the certificate list of an account (API.md
 * "Certificates"); renewal is in renew.c, rotation in rotate.c. Handlers
 * only: the records and their scripts are store.c's, the rules rules.c's. */
#include "services/ca/handlers.h"

#include <stdlib.h>
#include <string.h>

#include "common/op.h"
#include "services/ca/certs.h"
#include "services/ca/rules.h"
#include "services/ca/store.h"

mgr_err
ca_prepare_cert(struct op *op, Mgr__Ca__Certificate *c, int renewed)
{
	Mgr__Ca__CertReply rep = MGR__CA__CERT_REPLY__INIT;

	rep.certificate = c;
	rep.renewed = renewed;
	return (op_replay(op, &rep.base));
}

mgr_err
ca_reply_cert(struct rpc_call *call, Mgr__Ca__Certificate *c, int renewed, char **revoked,
    size_t nrevoked)
{
	Mgr__Ca__CertReply rep = MGR__CA__CERT_REPLY__INIT;

	rep.certificate = c;
	rep.renewed = renewed;
	rep.revoked = revoked;
	rep.n_revoked = nrevoked;
	return (rpc_reply(call, &rep.base));
}

mgr_err
ca_cert_fail(struct rpc_call *call, mgr_err rv, const char *why)
{
	if (rv != MGR_OK)
		rpc_fail(call, rv, "%s", why[0] != '\0' ? why : mgr_strerror(rv));
	return (rv);
}

mgr_err
ca_h_register(struct rpc_call *call, void *arg)
{
	struct ca_state *ca = arg;
	Mgr__Ca__IssueRequest *req = NULL;
	struct ca_csr *csr = NULL;
	struct ca_issued iss;
	Mgr__Ca__Certificate cm;
	char holder[MGR_ID_MAX + 8], why[256];
	struct op op;
	int64_t now = mgr_now_s(), exp;
	mgr_err rv;

	memset(&iss, 0, sizeof(iss));
	why[0] = '\0';
	if (call->caller->kind != MGR__CALLER__KIND__TEMP)
		return (rpc_fail(call, MGR_EUNAUTH,
		    "registration takes the temporary credentials"));
	op_start(&op, call, NULL);
	if ((rv = op_args(&op, &mgr__ca__issue_request__descriptor,
	         (ProtobufCMessage **)&req)) != MGR_OK)
		return (op_end(&op, rv));
	op.action = "certificate.register";
	snprintf(op.target, sizeof(op.target), "%s", req->account_id);
	if (strcmp(req->account_id, call->caller->id) != 0) {
		rv = MGR_EPERM;
		snprintf(why, sizeof(why),
		    "the temporary credentials belong to another account");
		goto out;
	}
	if (!ca_account_id_ok(req->account_id)) {
		rv = MGR_ENOTFOUND;
		snprintf(why, sizeof(why), "no such account");
		goto out;
	}
	if ((rv = ca_expiration(ca, req->has_expiration, req->expiration, now, &exp, why,
	         sizeof(why))) != MGR_OK ||
	    (rv = ca_csr_parse(req->csr_pem, &csr, why, sizeof(why))) != MGR_OK)
		goto out;
	snprintf(holder, sizeof(holder), "acct:%s", req->account_id);
	if ((rv = ca_store_dn_free(csr->dn_key, holder)) != MGR_OK)
		goto out;
	if ((rv = ca_issue(ca, csr->spki_obj, csr->name, exp, CA_PROFILE_CLIENT, &iss)) !=
	    MGR_OK)
		goto out;
	ca_issued_msg(&iss, &cm);
	if ((rv = ca_prepare_cert(&op, &cm, 0)) != MGR_OK ||
	    (rv = ca_store_register(&iss, req->account_id, call->caller->cred_version,
	         &op.rp)) != MGR_OK)
		goto out;
	if (op.rp.hit) {
		/* Committed before (a replica died before answering): the
		 * certificate signed now is discarded, the first one answers. */
		rv = op_replayed(&op);
		goto out;
	}
	snprintf(op.detail, sizeof(op.detail), "serial %s", iss.serial);
	rv = ca_reply_cert(call, &cm, 0, NULL, 0);
out:
	if (rv == MGR_ECONFLICT && why[0] == '\0')
		snprintf(why, sizeof(why),
		    "the Subject DN is held by another account or device");
	if (rv == MGR_EUNAUTH && why[0] == '\0')
		snprintf(why, sizeof(why),
		    "the temporary credentials are no longer valid");
	ca_cert_fail(call, rv, why);
	ca_issued_clear(&iss);
	ca_csr_free(csr);
	return (op_end(&op, rv));
}

mgr_err
ca_h_list_certs(struct rpc_call *call, void *arg)
{
	Mgr__Ca__ListCertsRequest *req = NULL;
	Mgr__Ca__ListCertsReply rep = MGR__CA__LIST_CERTS_REPLY__INIT;
	struct ca_record *recs = NULL;
	struct op_list l = {.items = NULL};
	struct op op;
	size_t n = 0;
	char why[160], *next = NULL;
	int64_t now = mgr_now_s();
	uint32_t limit;
	mgr_err rv;

	(void)arg;
	why[0] = '\0';
	if ((rv = op_begin(&op, call, NULL, &mgr__ca__list_certs_request__descriptor,
	         (ProtobufCMessage **)&req)) != MGR_OK)
		return (op_end(&op, rv));
	if (call->caller->kind == MGR__CALLER__KIND__APP) {
		if ((rv = ca_app_caller(call, req->account_id, why, sizeof(why))) !=
		    MGR_OK)
			goto out;
	} else if (call->caller->kind != MGR__CALLER__KIND__ADMIN) {
		rv = MGR_EUNAUTH;
		goto out;
	}
	if (!ca_account_id_ok(req->account_id)) {
		rv = MGR_ENOTFOUND;
		goto out;
	}
	if ((rv = ca_store_account_exists(req->account_id)) != MGR_OK) {
		if (rv == MGR_ENOTFOUND)
			snprintf(why, sizeof(why), "no such account");
		goto out;
	}
	limit = req->limit == 0 || req->limit > CA_LIST_MAX ? CA_LIST_MAX : req->limit;
	if (strlen(req->after) > 128) {
		rv = MGR_EINVAL;
		snprintf(why, sizeof(why), "\"after\" is not a cursor of this listing");
		goto out;
	}
	if ((rv = ca_store_records_page(req->account_id, req->after, limit, &recs, &n,
	         &next)) != MGR_OK) {
		if (rv == MGR_EINVAL)
			snprintf(why, sizeof(why),
			    "\"after\" is not a cursor of "
			    "this listing");
		goto out;
	}
	if ((rv = op_list_alloc(&l, &mgr__ca__certificate__descriptor, n)) != MGR_OK)
		goto out;
	for (size_t i = 0; i < n; i++)
		ca_record_msg(&recs[i], now, op_list_at(&l, i));
	rep.certificates = (Mgr__Ca__Certificate **)l.ptrs;
	rep.n_certificates = l.n;
	rep.next_after = next;
	rv = rpc_reply(call, &rep.base);
out:
	ca_cert_fail(call, rv, why);
	op_list_free(&l);
	free(next);
	ca_records_free(recs, n);
	return (op_end(&op, rv));
}
