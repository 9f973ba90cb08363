/* renewClientCertificate: a new certificate for the same key and subject,
 * only if needed (rules.c: ca_renew_needed); else the current one. */
#include "services/ca/handlers.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "services/ca/certs.h"
#include "services/ca/rules.h"
#include "services/ca/store.h"

#define RENEW_TRIES 3

/* Signs the renewal of the certificate in pem until exp: its subject and key
 * as they are, without decoding the key; PEM_read_bio_X509 only if that
 * fails. */
static mgr_err
renew_sign(struct ca_state *ca, const char *pem, int64_t exp, struct ca_issued *iss)
{
	X509_NAME *subject = NULL;
	X509_PUBKEY *spki = NULL;
	BIO *b = NULL;
	X509 *old = NULL;
	mgr_err rv;

	if (ca_pem_subject_spki(pem, &subject, &spki) == MGR_OK)
		rv = ca_issue(ca, spki, subject, exp, CA_PROFILE_CLIENT, iss);
	else if ((b = BIO_new_mem_buf(pem, -1)) == NULL ||
	    (old = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
		rv = MGR_EINTERNAL;
	else
		rv = ca_issue(ca, X509_get_X509_PUBKEY(old), X509_get_subject_name(old),
		    exp, CA_PROFILE_CLIENT, iss);
	BIO_free(b);
	X509_free(old);
	X509_NAME_free(subject);
	X509_PUBKEY_free(spki);
	return (rv);
}

/* One attempt at the renewal. *answered when the call's reply is made (not
 * needed, committed or replayed); otherwise the certificates changed
 * between the read and the commit: try again. */
static mgr_err
renew_once(struct ca_state *ca, struct op *op, const Mgr__Ca__RenewRequest *req,
    char *why, size_t whylen, int *answered)
{
	struct rpc_call *call = op->call;
	struct ca_record *recs = NULL;
	struct ca_issued iss;
	Mgr__Ca__Certificate cm;
	size_t nrecs = 0;
	char last[64];
	int64_t now = mgr_now_s(), exp = 0;
	int committed = 0;
	mgr_err rv;

	memset(&iss, 0, sizeof(iss));
	*answered = 0;
	if ((rv = ca_expiration(ca, req->has_expiration, req->expiration, now, &exp, why,
	         whylen)) != MGR_OK ||
	    (rv = ca_store_newest_valid(req->account_id, now, &recs, &nrecs, last,
	         sizeof(last))) != MGR_OK)
		goto out;
	if (nrecs == 0) {
		rv = MGR_EUNAUTH;
		snprintf(why, whylen, "the account has no valid certificate");
		goto out;
	}
	if (!ca_renew_needed(&recs[0], req->has_expiration, exp, now,
	        ca->cfg->expiry_notice_days)) {
		ca_record_msg(&recs[0], now, &cm);
		snprintf(op->detail, sizeof(op->detail), "not needed, serial %s",
		    recs[0].serial);
		*answered = 1;
		rv = ca_reply_cert(call, &cm, 0, NULL, 0);
		goto out;
	}
	if ((rv = renew_sign(ca, recs[0].pem, exp, &iss)) != MGR_OK)
		goto out;
	ca_issued_msg(&iss, &cm);
	if ((rv = ca_prepare_cert(op, &cm, 1)) != MGR_OK ||
	    (rv = ca_store_renew(&iss, req->account_id, recs[0].serial, now, last,
	         &op->rp, &committed)) != MGR_OK)
		goto out;
	if (op->rp.hit) {
		*answered = 1;
		rv = op_replayed(op);
		goto out;
	}
	if (committed) {
		snprintf(op->detail, sizeof(op->detail), "serial %s renews %s",
		    iss.serial, recs[0].serial);
		*answered = 1;
		rv = ca_reply_cert(call, &cm, 1, NULL, 0);
	}
out:
	ca_issued_clear(&iss);
	ca_records_free(recs, nrecs);
	return (rv);
}

mgr_err
ca_h_renew(struct rpc_call *call, void *arg)
{
	struct ca_state *ca = arg;
	Mgr__Ca__RenewRequest *req = NULL;
	char why[256];
	struct op op;
	int hit = 0, answered = 0;
	mgr_err rv;

	why[0] = '\0';
	op_start(&op, call, NULL);
	if ((rv = op_args(&op, &mgr__ca__renew_request__descriptor,
	         (ProtobufCMessage **)&req)) != MGR_OK)
		return (op_end(&op, rv));
	op.action = "certificate.renew";
	snprintf(op.target, sizeof(op.target), "%s", req->account_id);
	if ((rv = ca_app_caller(call, req->account_id, why, sizeof(why))) != MGR_OK)
		goto out;
	/* A replay must not find the certificate it renewed and answer "not
	 * needed": look for the record first. */
	if ((rv = op_lookup(&op, &hit)) != MGR_OK || hit)
		goto out;
	for (int tries = 0; tries < RENEW_TRIES && !answered; tries++)
		if ((rv = renew_once(ca, &op, req, why, sizeof(why), &answered)) !=
		    MGR_OK)
			goto out;
	if (!answered) {
		rv = MGR_ECONFLICT;
		snprintf(why, sizeof(why), "the certificates changed meanwhile; retry");
	}
out:
	ERR_clear_error();
	ca_cert_fail(call, rv, why);
	return (op_end(&op, rv));
}
