#include "common/op.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/audit.h"

void
op_start(struct op *op, struct rpc_call *call, const char *action)
{
	memset(op, 0, sizeof(*op));
	op->call = call;
	op->action = action;
}

mgr_err
op_args(struct op *op, const ProtobufCMessageDescriptor *desc, ProtobufCMessage **in)
{
	mgr_err rv;

	*in = NULL;
	if ((rv = rpc_args(op->call, desc, &op->in)) != MGR_OK)
		return (rv);
	*in = op->in;
	return (MGR_OK);
}

mgr_err
op_begin(struct op *op, struct rpc_call *call, const char *action,
    const ProtobufCMessageDescriptor *desc, ProtobufCMessage **in)
{
	op_start(op, call, action);
	return (desc != NULL ? op_args(op, desc, in) : MGR_OK);
}

mgr_err
op_replay(struct op *op, const ProtobufCMessage *reply)
{
	mgr_err rv;

	if (op->rp.reply == NULL && (rv = replay_init(&op->rp, op->call)) != MGR_OK)
		return (rv);
	return (replay_prepare(&op->rp, reply));
}

mgr_err
op_lookup(struct op *op, int *hit)
{
	mgr_err rv;

	*hit = 0;
	if (op->rp.reply == NULL && (rv = replay_init(&op->rp, op->call)) != MGR_OK)
		return (rv);
	if ((rv = replay_lookup(&op->rp, op->call, hit)) != MGR_OK)
		return (rv);
	op->replayed = *hit;
	return (MGR_OK);
}

mgr_err
op_replayed(struct op *op)
{
	op->replayed = 1;
	return (replay_answer(&op->rp, op->call));
}

mgr_err
op_end(struct op *op, mgr_err rv)
{
	struct rpc_call *call = op->call;

	if (op->action != NULL)
		audit_log(call->request_id, call->caller, op->action, op->target, rv,
		    op->replayed && rv == MGR_OK ? "replayed"
		        : op->detail[0] != '\0'  ? op->detail
		        : rv != MGR_OK           ? call->message
		                                 : "");
	if (op->rp.reply != NULL)
		replay_clear(&op->rp);
	if (op->in != NULL) {
		if (op->scrub != NULL)
			op->scrub(op->in);
		protobuf_c_message_free_unpacked(op->in, NULL);
		op->in = NULL;
	}
	return (rv);
}

mgr_err
op_list_alloc(struct op_list *l, const ProtobufCMessageDescriptor *desc, size_t n)
{
	memset(l, 0, sizeof(*l));
	l->size = desc->sizeof_message;
	if (n == 0)
		return (MGR_OK);
	if (n > SIZE_MAX / l->size || (l->items = calloc(n, l->size)) == NULL ||
	    (l->ptrs = calloc(n, sizeof(*l->ptrs))) == NULL) {
		op_list_free(l);
		return (MGR_ENOMEM);
	}
	for (size_t i = 0; i < n; i++) {
		l->ptrs[i] = (ProtobufCMessage *)((char *)l->items + i * l->size);
		protobuf_c_message_init(desc, l->ptrs[i]);
	}
	l->n = n;
	return (MGR_OK);
}

void *
op_list_at(const struct op_list *l, size_t i)
{
	return (l->ptrs[i]);
}

void
op_list_free(struct op_list *l)
{
	free(l->ptrs);
	free(l->items);
	l->ptrs = NULL;
	l->items = NULL;
	l->n = 0;
}
