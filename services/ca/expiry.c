/* The expiry scanner: certificate.expiring / certificate.expired events.
 * See expiry.h for the design. */
#include "services/ca/expiry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/events.h"
#include "common/kv.h"
#include "common/log.h"
#include "common/svc.h"
#include "common/util.h"
#include "services/ca/handlers.h"

/* ARGV: now, event time (RFC 3339), notice days, marker keep seconds, then
 * one string of lines "<serial> <score> <not_after RFC 3339>\n".
 * Returns {seen, emitted, removed}. */
static const char expiry_lua_body[] =
    "local now = tonumber(ARGV[1])\n"
    "local etime = ARGV[2]\n"
    "local notice = tonumber(ARGV[3])\n"
    "local keep = tonumber(ARGV[4])\n"
    "local th = {notice}\n"
    "if notice > 15 then th[2] = 15 end\n"
    "local seen, emitted, removed = 0, 0, 0\n"
    /* The newest-expiring valid certificate of the account that outlives
     * this one, or nil. Looks at the 200 most recently issued. */
    "local function newer(acct, serial, na)\n"
    "  local best, bestna = nil, na\n"
    "  local list = redis.call('ZREVRANGE', 'acct:{' .. acct .. '}:certs', 0, 199)\n"
    "  for _, s in ipairs(list) do\n"
    "    if s ~= serial then\n"
    "      local c = redis.call('HMGET', 'cert:' .. s, 'not_after', 'revoked_at')\n"
    "      local n = tonumber(c[1])\n"
    "      if n and n > now and n > bestna and (not c[2] or c[2] == '') then\n"
    "        best, bestna = s, n\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  return best\n"
    "end\n"
    "for serial, score, natext in string.gmatch(ARGV[5], '([^ \\n]+) ([^ \\n]+) ([^ \\n]+)\\n') do\n"
    "  seen = seen + 1\n"
    "  local cur = redis.call('ZSCORE', 'certs:expiry', serial)\n"
    "  local na = tonumber(score)\n"
    "  if cur and na and tonumber(cur) == na then\n"
    "    local c = redis.call('HMGET', 'cert:' .. serial, 'holder', 'account_id', 'revoked_at')\n"
    "    local acct = c[2]\n"
    "    if c[1] and string.sub(c[1], 1, 5) == 'acct:' and acct and acct ~= '' and\n"
    "        (not c[3] or c[3] == '') then\n"
    "      local ttl = math.max(na - now, 0) + keep\n"
    "      local sup, supdone = nil, false\n"
    "      for _, d in ipairs(th) do\n"
    "        if na <= now + d * 86400 and\n"
    "            redis.call('SET', 'evmark:' .. serial .. ':' .. d, etime, 'NX', 'EX', ttl) then\n"
    "          if not supdone then sup = newer(acct, serial, na); supdone = true end\n"
    "          emit_event(acct, 'certificate.expiring', etime, cjson.encode({\n"
    "            serial = serial, not_after = natext, days = d,\n"
    "            superseded_by = sup or cjson.null}))\n"
    "          emitted = emitted + 1\n"
    "        end\n"
    "      end\n"
    "      if na <= now and\n"
    "          redis.call('SET', 'evmark:' .. serial .. ':expired', etime, 'NX', 'EX', keep) then\n"
    "        emit_event(acct, 'certificate.expired', etime, cjson.encode({\n"
    "          serial = serial, not_after = natext}))\n"
    "        emitted = emitted + 1\n"
    "      end\n"
    "    end\n"
    "    if na <= now then\n"
    "      redis.call('ZREM', 'certs:expiry', serial)\n"
    "      removed = removed + 1\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return {seen, emitted, removed}\n";

/* Runs the script over one ZRANGEBYSCORE reply (member, score pairs). */
static mgr_err
expiry_batch(const redisReply *range, int64_t now, const char *etime,
    int64_t notice_days, struct ca_expiry_stats *st)
{
	static char *script;
	struct mgr_buf lines;
	redisReply *r = NULL;
	char nowb[32], days[32], keep[32];
	const char *argv[5];
	mgr_err rv;

	if (script == NULL) {
		/* Built once; the scanner is one thread per process. */
		size_t a = strlen(event_lua_emit), b = strlen(expiry_lua_body);

		if ((script = malloc(a + b + 1)) == NULL)
			return (MGR_ENOMEM);
		memcpy(script, event_lua_emit, a);
		memcpy(script + a, expiry_lua_body, b + 1);
	}
	mgr_buf_init(&lines, (size_t)CA_EXPIRY_BATCH * 256);
	for (size_t i = 0; i + 1 < range->elements; i += 2) {
		const redisReply *m = range->element[i], *s = range->element[i + 1];
		char na[MGR_TIME_MAX];
		int64_t t;

		if (m->type != REDIS_REPLY_STRING || s->type != REDIS_REPLY_STRING ||
		    m->len == 0 || m->len > 128 || strpbrk(m->str, " \n") != NULL ||
		    mgr_parse_i64(s->str, &t) != MGR_OK)
			continue; /* not ours to judge; never matches in the script */
		mgr_time_format(t, na);
		if ((rv = mgr_buf_printf(&lines, "%s %s %s\n", m->str, s->str, na)) !=
		    MGR_OK)
			goto out;
	}
	snprintf(nowb, sizeof(nowb), "%lld", (long long)now);
	snprintf(days, sizeof(days), "%lld", (long long)notice_days);
	snprintf(keep, sizeof(keep), "%lld", (long long)CA_EXPIRY_MARK_KEEP_S);
	argv[0] = nowb;
	argv[1] = etime;
	argv[2] = days;
	argv[3] = keep;
	argv[4] = lines.data != NULL ? lines.data : "";
	if ((rv = kv_eval(&r, script, 0, 5, argv, NULL)) != MGR_OK)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	st->seen += r->element[0]->integer;
	st->emitted += r->element[1]->integer;
	st->removed += r->element[2]->integer;
out:
	if (r != NULL)
		freeReplyObject(r);
	mgr_buf_free(&lines);
	return (rv);
}

mgr_err
ca_expiry_scan(int64_t now, int64_t notice_days, struct ca_expiry_stats *out)
{
	struct ca_expiry_stats st = {0, 0, 0};
	char etime[MGR_TIME_MAX], nowb[32], horizon[32];
	redisReply *range = NULL;
	int64_t offset = 0;
	mgr_err rv = MGR_OK;
	size_t n;

	mgr_time_format(now, etime);
	snprintf(nowb, sizeof(nowb), "%lld", (long long)now);
	/* The expired part: every item handled leaves the index, so each batch
	 * starts from the beginning; a batch that removes nothing stops it. */
	for (int b = 0; b < CA_EXPIRY_MAX_BATCHES; b++) {
		int64_t before = st.removed;

		if ((rv = kv_cmd(&range,
		         "ZRANGEBYSCORE certs:expiry -inf %s WITHSCORES LIMIT 0 %d",
		         nowb, CA_EXPIRY_BATCH)) != MGR_OK)
			goto out;
		n = range->type == REDIS_REPLY_ARRAY ? range->elements / 2 : 0;
		if (n > 0 && (rv = expiry_batch(range, now, etime, notice_days,
		                  &st)) != MGR_OK)
			goto out;
		freeReplyObject(range);
		range = NULL;
		if (n < CA_EXPIRY_BATCH || st.removed == before)
			break;
	}
	/* The notice window, paged by offset. */
	snprintf(horizon, sizeof(horizon), "%lld",
	    (long long)(now + notice_days * 86400));
	for (int b = 0; b < CA_EXPIRY_MAX_BATCHES; b++) {
		if ((rv = kv_cmd(&range,
		         "ZRANGEBYSCORE certs:expiry (%s %s WITHSCORES LIMIT %lld %d",
		         nowb, horizon, (long long)offset, CA_EXPIRY_BATCH)) != MGR_OK)
			goto out;
		n = range->type == REDIS_REPLY_ARRAY ? range->elements / 2 : 0;
		if (n > 0 && (rv = expiry_batch(range, now, etime, notice_days,
		                  &st)) != MGR_OK)
			goto out;
		freeReplyObject(range);
		range = NULL;
		if (n < CA_EXPIRY_BATCH)
			break;
		offset += (int64_t)n;
	}
	if (out != NULL)
		*out = st;
out:
	if (range != NULL)
		freeReplyObject(range);
	return (rv);
}

void
ca_expiry_loop(void *state, volatile int *stop)
{
	struct ca_state *ca = state;
	const struct mgr_config *cfg = ca->cfg;
	struct ca_expiry_stats st;
	mgr_err rv, last = MGR_OK;

	log_info(NULL, "expiry scanner: every %llds, notice %lld days",
	    (long long)cfg->expiry_scan_interval_s, (long long)cfg->expiry_notice_days);
	while (!*stop) {
		rv = ca_expiry_scan(mgr_now_s(), cfg->expiry_notice_days, &st);
		if (rv != MGR_OK && rv != last)
			log_warn(NULL, "expiry scan failed: %s (retrying every %llds)",
			    mgr_strerror(rv), (long long)cfg->expiry_scan_interval_s);
		else if (rv == MGR_OK && last != MGR_OK)
			log_info(NULL, "expiry scan works again");
		if (rv == MGR_OK && (st.emitted > 0 || st.removed > 0))
			log_info(NULL, "expiry scan: %lld looked at, %lld events, "
			    "%lld expired left the index", (long long)st.seen,
			    (long long)st.emitted, (long long)st.removed);
		last = rv;
		svc_sleep(stop, (int)cfg->expiry_scan_interval_s * 1000);
	}
}
