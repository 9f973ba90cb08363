/* What the certificate handlers of accounts (certs.c, renew.c, rotate.c)
 * share: the CertReply they record for replays and send. */
#ifndef MGR_CA_CERTS_H
#define MGR_CA_CERTS_H

#include "common/op.h"
#include "proto/ca.pb-c.h"

/* Prepares op's replay record with the CertReply of c. */
mgr_err ca_prepare_cert(struct op *op, Mgr__Ca__Certificate *c, int renewed);
mgr_err ca_reply_cert(struct rpc_call *call, Mgr__Ca__Certificate *c, int renewed,
    char **revoked, size_t nrevoked);
/* rpc_fail with why, or the error's text when why is "": for the out: of a
 * handler. Returns rv; nothing for MGR_OK. */
mgr_err ca_cert_fail(struct rpc_call *call, mgr_err rv, const char *why);

#endif
