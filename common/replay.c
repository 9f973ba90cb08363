#include "common/replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/kv.h"
#include "common/util.h"

/* Each part with its length first, so that no two different tuples hash
 * alike. */
static int
replay_hash_part(EVP_MD_CTX *md, const void *p, size_t n)
{
	unsigned char len[8];

	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)((uint64_t)n >> (8 * i));
	return (EVP_DigestUpdate(md, len, sizeof(len)) == 1 &&
	    (n == 0 || EVP_DigestUpdate(md, p, n) == 1));
}

mgr_err
replay_init(struct replay *rp, const struct rpc_call *call)
{
	const Mgr__Request *req = call->req;
	const char *cid = call->caller->id != NULL ? call->caller->id : "";
	char kind[16];
	unsigned char d[32];
	unsigned int dlen = 0;
	EVP_MD_CTX *md = NULL;
	mgr_err rv = MGR_EINTERNAL;
	size_t off;

	memset(rp, 0, sizeof(*rp));
	if ((rp->reply = malloc(1)) == NULL)
		return (MGR_ENOMEM);
	if (req == NULL || call->request_id == NULL || call->request_id[0] == '\0')
		return (MGR_OK);
	snprintf(kind, sizeof(kind), "%d", (int)call->caller->kind);
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    !replay_hash_part(md, req->method, strlen(req->method)) ||
	    !replay_hash_part(md, kind, strlen(kind)) ||
	    !replay_hash_part(md, cid, strlen(cid)) ||
	    !replay_hash_part(md, call->request_id, strlen(call->request_id)) ||
	    !replay_hash_part(md, req->payload.data, req->payload.len) ||
	    EVP_DigestFinal_ex(md, d, &dlen) != 1 || dlen != sizeof(d))
		goto out;
	off = (size_t)snprintf(rp->key, sizeof(rp->key), "rpc:done:");
	_Static_assert(sizeof(rp->key) >= sizeof("rpc:done:") + 2 * sizeof(d),
	    "rpc:done:<sha256 hex> fits");
	mgr_hex_encode(d, sizeof(d), rp->key + off);
	rv = MGR_OK;
out:
	EVP_MD_CTX_free(md);
	if (rv != MGR_OK)
		replay_clear(rp);
	return (rv);
}

void
replay_clear(struct replay *rp)
{
	free(rp->reply);
	rp->reply = NULL;
	rp->reply_len = 0;
	rp->key[0] = '\0';
	rp->hit = 0;
}

mgr_err
replay_prepare(struct replay *rp, const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *b;

	if (n > RPC_MSG_MAX / 4)
		return (MGR_ETOOBIG);
	if ((b = malloc(n ? n : 1)) == NULL)
		return (MGR_ENOMEM);
	protobuf_c_message_pack(msg, b);
	free(rp->reply);
	rp->reply = b;
	rp->reply_len = n;
	return (MGR_OK);
}

void
replay_argvlen(const struct replay *rp, int argc, const char **argv, size_t *lens)
{
	for (int i = 0; i < argc; i++)
		lens[i] = rp != NULL && argv[i] == (const char *)rp->reply
		    ? rp->reply_len
		    : strlen(argv[i]);
}

/* GET the record into call's reply; MGR_ENOTFOUND when there is none. */
static mgr_err
replay_fetch(struct replay *rp, struct rpc_call *call)
{
	redisReply *r = NULL;
	uint8_t *b;
	mgr_err rv;

	if (rp->key[0] == '\0')
		return (MGR_ENOTFOUND);
	if ((rv = kv_cmd(&r, "GET %s", rp->key)) != MGR_OK)
		return (rv);
	if (r->type != REDIS_REPLY_STRING) {
		rv = r->type == REDIS_REPLY_NIL ? MGR_ENOTFOUND : MGR_EINTERNAL;
		goto out;
	}
	if ((b = malloc(r->len ? r->len : 1)) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	memcpy(b, r->str, r->len);
	free(call->out);
	call->out = b;
	call->out_len = r->len;
	rp->hit = 1;
	rv = MGR_OK;
out:
	freeReplyObject(r);
	return (rv);
}

mgr_err
replay_lookup(struct replay *rp, struct rpc_call *call, int *hit)
{
	mgr_err rv = replay_fetch(rp, call);

	if (rv == MGR_ENOTFOUND) {
		*hit = 0;
		return (MGR_OK);
	}
	if (rv == MGR_OK)
		*hit = 1;
	return (rv);
}

mgr_err
replay_answer(struct replay *rp, struct rpc_call *call)
{
	mgr_err rv = replay_fetch(rp, call);

	/* Seen by the script a moment ago: gone only if it expired between. */
	if (rv == MGR_ENOTFOUND)
		return (rpc_fail(call, MGR_EUNAVAIL,
		    "a replayed request's record "
		    "expired; retry"));
	return (rv);
}

int
replay_signalled(const redisReply *r)
{
	return (r != NULL && r->type == REDIS_REPLY_STATUS &&
	    strcmp(r->str, "REPLAYED") == 0);
}

mgr_err
replay_rescue(struct replay *rp, struct rpc_call *call, mgr_err rv)
{
	int hit = 0;

	if (rv != MGR_EINVAL && rv != MGR_ECONFLICT && rv != MGR_ENOTFOUND)
		return (rv);
	if (rp->key[0] == '\0' || replay_lookup(rp, call, &hit) != MGR_OK || !hit)
		return (rv);
	return (MGR_OK);
}
