#include "common/events.h"

#include <stdlib.h>
#include <string.h>

#include "common/keys.h"
#include "common/kv.h"
#include "common/util.h"

/* The stream entry holds type, time and data; the published message is the
 * whole event as API.md shows it, with the entry id as "id". The message is
 * put together around edata as given (not through cjson.decode/encode, which
 * would turn an empty object into [] and lose number formatting). */
/* clang-format off */
const char event_lua_emit[] =
    "local function emit_event(acct, etype, etime, edata)\n"
    "  local sid = redis.call('XADD', 'ev:{' .. acct .. '}', 'MAXLEN', '~', "
    KEY_EVENTS_MAXLEN ", '*', 'type', etype, 'time', etime, 'data', edata)\n"
    "  redis.call('PUBLISH', 'mgr:ev:{' .. acct .. '}', '{\"id\":' .. "
    "cjson.encode(sid) .. ',\"type\":' .. cjson.encode(etype) .. "
    "',\"account_id\":' .. cjson.encode(acct) .. ',\"time\":' .. "
    "cjson.encode(etime) .. ',\"data\":' .. edata .. '}')\n"
    "  return sid\n"
    "end\n";
/* clang-format on */

mgr_err
event_emit(const char *account_id, const char *type, json_t *data, char *id, size_t idlen)
{
	static const char body[] = "return emit_event(ARGV[1], ARGV[2], ARGV[3], ARGV[4])";
	char script[sizeof(event_lua_emit) + sizeof(body)];
	char ts[MGR_TIME_MAX];
	const char *argv[4];
	redisReply *r;
	char *dj;
	mgr_err rv;

	if ((dj = json_dumps(data, JSON_COMPACT)) == NULL)
		return (MGR_ENOMEM);
	memcpy(script, event_lua_emit, sizeof(event_lua_emit) - 1);
	memcpy(script + sizeof(event_lua_emit) - 1, body, sizeof(body));
	mgr_time_format(mgr_now_s(), ts);
	argv[0] = account_id;
	argv[1] = type;
	argv[2] = ts;
	argv[3] = dj;
	rv = kv_eval(&r, script, 0, 4, argv, NULL);
	free(dj);
	if (rv != MGR_OK)
		return (rv);
	if (id != NULL && idlen > 0)
		snprintf(id, idlen, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
	freeReplyObject(r);
	return (MGR_OK);
}
