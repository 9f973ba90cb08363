/* Idempotent replays of mutating RPCs (issue #8).
 *
 * When a replica dies after it committed a request but before its reply got
 * out, the client resends the same request (same bytes, so the same request
 * id) to another replica. Run again, the commit would be refused (consumed
 * credentials, a name now taken, an object already deleted) or done twice.
 * So the script that commits also records the reply, under a key derived
 * from the request (rpc:done:<hex>, see common/keys.h) with a TTL, and a
 * script that finds the record of its request commits nothing and answers
 * REPLAYED; the handler then sends the recorded reply.
 *
 * The key hashes the method, the caller (kind and id, as the gateway
 * authenticated it), the request id and the request payload: another caller
 * (or another request) using the same request id never reads the record.
 * Only successful replies are recorded, so a record is the OK reply's
 * payload. A call without a request id has no key and no record.
 *
 * Lua side (prepend REPLAY_LUA to the script, which defines local
 * functions):
 *   replay_seen(key)            true when key ~= "" and the record exists;
 *                               the script then returns REPLAY_LUA_SIGNAL
 *   replay_save(key, reply, more)  records the reply (plus the bytes
 *                               more, may be nil); a no-op for key ""
 *   replay_pb(field, s)         a length-delimited protobuf field (field <
 *                               16), to append what only the script knows
 *                               (a repeated field, or a message field that
 *                               the C side left out of the prepared reply)
 */
#ifndef MGR_COMMON_REPLAY_H
#define MGR_COMMON_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>
#include <protobuf-c/protobuf-c.h>

#include "common/err.h"
#include "common/rpc.h"

/* Longer than any resend can come: a call lives at most
 * MANAGER_RPC_TIMEOUT_MS (600 s at most) from when it was made, nng resends
 * only within it, and a service drops a request past its deadline (rpc_server.c);
 * the record is saved after the call was made, so 600 s would do; the other
 * 300 s are for clocks of two hosts that disagree. Every mutating reply is
 * kept this long (~1.5 KB per certificate), so not longer. */
#define REPLAY_TTL_S 900
#define REPLAY_KEY_MAX 80 /* "rpc:done:" + 64 hex */

#define REPLAY_STR_(x) #x
#define REPLAY_STR(x) REPLAY_STR_(x)

#define REPLAY_LUA \
	"local function replay_seen(k)\n" \
	"  return k ~= '' and redis.call('EXISTS', k) == 1\n" \
	"end\n" \
	"local function replay_varint(n)\n" \
	"  local s = ''\n" \
	"  while n >= 128 do\n" \
	"    s = s .. string.char(n % 128 + 128)\n" \
	"    n = math.floor(n / 128)\n" \
	"  end\n" \
	"  return s .. string.char(n)\n" \
	"end\n" \
	"local function replay_pb(f, s)\n" \
	"  return string.char(f * 8 + 2) .. replay_varint(#s) .. s\n" \
	"end\n" \
	"local function replay_save(k, reply, more)\n" \
	"  if k == '' then return end\n" \
	"  redis.call('SET', k, reply .. (more or ''), 'EX', " REPLAY_STR( \
	    REPLAY_TTL_S) ")\n" \
	                  "end\n"

/* What a script returns when it found the record of its request: a status
 * reply, which no script returns otherwise. */
#define REPLAY_LUA_SIGNAL "{ok = 'REPLAYED'}"

/* The first line of every script that commits a replayable change: the
 * request was done before when its record (key in ARGV[n]) exists. */
#define REPLAY_LUA_GUARD(n) \
	"if replay_seen(ARGV[" #n "]) then return " REPLAY_LUA_SIGNAL " end\n"

struct replay {
	char key[REPLAY_KEY_MAX]; /* "" when the call has no request id */
	uint8_t *reply;           /* the prepared reply (binary: pass its */
	size_t reply_len;         /* length, see replay_argvlen) */
	int hit;                  /* set by a store function on REPLAYED */
};

/* Sets rp up for call (an empty reply). Release with replay_clear. */
mgr_err replay_init(struct replay *rp, const struct rpc_call *call);
void replay_clear(struct replay *rp);

/* Packs msg as the reply the commit records (and the handler sends). */
mgr_err replay_prepare(struct replay *rp, const ProtobufCMessage *msg);

/* If the record of rp's request exists, makes it call's reply and sets
 * *hit to 1; else *hit is 0. A read before the work: a replay then skips
 * the checks that would refuse it (the scripts check again atomically). */
mgr_err replay_lookup(struct replay *rp, struct rpc_call *call, int *hit);

/* For a handler about to refuse (rv: invalid, conflict, not found) after a
 * lookup missed: the first run of the same request, on a replica whose
 * connection nng gave up, may have committed in between and made the
 * refusal. If its record exists now it becomes call's reply and the result
 * is MGR_OK; else rv. */
mgr_err replay_rescue(struct replay *rp, struct rpc_call *call, mgr_err rv);

/* After a script answered REPLAYED: the record becomes call's reply. */
mgr_err replay_answer(struct replay *rp, struct rpc_call *call);

/* Did the script answer REPLAYED? */
int replay_signalled(const redisReply *r);

/* The argument lengths for kv_eval: strlen of each argv[i], but reply_len
 * for rp's reply (rp may be NULL). */
void replay_argvlen(const struct replay *rp, int argc, const char **argv, size_t *lens);

#endif
