/* The frame of one RPC handler, the same in every service:
 *
 *	struct op op;
 *	Mgr__X__Request *in;
 *
 *	if ((rv = op_begin(&op, call, "thing.create",
 *	         &mgr__x__request__descriptor, (ProtobufCMessage **)&in)) != MGR_OK)
 *		goto out;
 *	(or op_start, a check on the caller, then op_args)
 *	... checks: rv = rpc_fail(call, MGR_EINVAL, "..."); goto out;
 *	if ((rv = op_replay(&op, &reply.base)) != MGR_OK)   (mutations only)
 *		goto out;
 *	... commit with op.rp (REPLAY_LUA_GUARD / replay_save in the script);
 *	    after a REPLAYED answer: rv = op_replayed(&op);
 *	snprintf(op.target, ...); rv = rpc_reply(call, ...);
 *	out:
 *	return (op_end(&op, rv));
 *
 * op_begin unpacks the arguments; op_end audits the action (when it has one)
 * with the outcome, frees the replay record and the arguments. */
#ifndef MGR_COMMON_OP_H
#define MGR_COMMON_OP_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

#include "common/err.h"
#include "common/replay.h"
#include "common/rpc.h"

struct op {
	struct rpc_call *call;
	const char *action;   /* audit action; NULL: a read, not audited */
	ProtobufCMessage *in; /* the arguments, freed by op_end */
	/* Optional: wipes secrets of in (passwords) before it is freed. */
	void (*scrub)(ProtobufCMessage *in);
	struct replay rp; /* op_replay's record; key "" without one */
	int replayed;     /* the reply is the record of a former run */
	char target[128]; /* audit target ("" unless set) */
	char detail[160]; /* audit detail (set on success, or always) */
};

/* Starts the frame: op zeroed, action kept. From here on every way out
 * goes through op_end (which audits a refusal too). */
void op_start(struct op *op, struct rpc_call *call, const char *action);
/* The request's payload unpacked with desc into *in (owned by op). */
mgr_err op_args(struct op *op, const ProtobufCMessageDescriptor *desc,
    ProtobufCMessage **in);
/* op_start, then op_args (desc NULL: no arguments). */
mgr_err op_begin(struct op *op, struct rpc_call *call, const char *action,
    const ProtobufCMessageDescriptor *desc, ProtobufCMessage **in);

/* Prepares the replay record with the reply that a commit saves (and the
 * handler sends): a mutating call. */
mgr_err op_replay(struct op *op, const ProtobufCMessage *reply);

/* Looks the record up before any work (common/replay.h: replay_lookup):
 * *hit 1 when the request was done before; its reply is then the call's. */
mgr_err op_lookup(struct op *op, int *hit);

/* The commit answered REPLAYED: the record becomes the reply. */
mgr_err op_replayed(struct op *op);

/* Ends the frame: one audit record when op->action is set (a handler that
 * audits only some outcomes sets it where they are decided): target,
 * outcome rv, and as detail "replayed" for a replay, else op->detail when
 * set, else call->message for a failure. Then frees. Returns rv. */
mgr_err op_end(struct op *op, mgr_err rv);

/* The messages of a listing's reply: n initialised messages of one type and
 * the array of pointers to them that a protobuf-c repeated field takes
 * (cast ptrs to the field's type: `out.items = (Mgr__X **)l.ptrs`). */
struct op_list {
	void *items;
	ProtobufCMessage **ptrs;
	size_t n;
	size_t size; /* sizeof one message */
};

/* n == 0 gives an empty list (both NULL). Free with op_list_free. */
mgr_err op_list_alloc(struct op_list *l, const ProtobufCMessageDescriptor *desc,
    size_t n);
/* The i-th message (i < n). */
void *op_list_at(const struct op_list *l, size_t i);
void op_list_free(struct op_list *l);

#endif
