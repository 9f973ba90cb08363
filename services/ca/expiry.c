/* The expiry scanner: certificate.expiring / certificate.expired events, and
 * the pruning of certificate records. See expiry.h for the design. */
#include "services/ca/expiry.h"

#include <pthread.h>
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
#include "services/ca/index.h"

/* Returns {ZCARD certs:expiry, ZCARD certs:due, the notice days certs:due
 * was scored with or ""}. */
static const char lua_due_state[] =
    "return {redis.call('ZCARD', 'certs:expiry'), redis.call('ZCARD', 'certs:due'),\n"
    "  redis.call('GET', 'certs:due:notice') or ''}\n";

/* ARGV: start, count, "1" to rescore. Adds the certs:expiry members of
 * ranks [start, start + count) that certs:due lacks (all when rescoring)
 * with score 0. Returns {members read, added}. */
static const char lua_due_fill[] =
    "local ss = redis.call('ZRANGE', 'certs:expiry', tonumber(ARGV[1]),\n"
    "  tonumber(ARGV[1]) + tonumber(ARGV[2]) - 1)\n"
    "local added = 0\n"
    "for _, s in ipairs(ss) do\n"
    "  local cur = redis.call('ZSCORE', 'certs:due', s)\n"
    "  if not cur or (ARGV[3] == '1' and tonumber(cur) ~= 0) then\n"
    "    redis.call('ZADD', 'certs:due', 0, s)\n"
    "    added = added + 1\n"
    "  end\n"
    "end\n"
    "return {#ss, added}\n";

/* ARGV: start, count. Drops the certs:due members of ranks [start, start +
 * count) that are not in certs:expiry. Returns {members read, dropped}. */
static const char lua_due_trim[] =
    "local ss = redis.call('ZRANGE', 'certs:due', tonumber(ARGV[1]),\n"
    "  tonumber(ARGV[1]) + tonumber(ARGV[2]) - 1)\n"
    "local dropped = 0\n"
    "for _, s in ipairs(ss) do\n"
    "  if not redis.call('ZSCORE', 'certs:expiry', s) then\n"
    "    redis.call('ZREM', 'certs:due', s)\n"
    "    dropped = dropped + 1\n"
    "  end\n"
    "end\n"
    "return {#ss, dropped}\n";

/* ARGV: now, count. Returns {serial, its certs:expiry score or "", ...} for
 * the certs:due members scored up to now. */
static const char lua_due_peek[] =
    "local ss = redis.call('ZRANGEBYSCORE', 'certs:due', '-inf', ARGV[1],\n"
    "  'LIMIT', 0, tonumber(ARGV[2]))\n"
    "local out = {}\n"
    "for _, s in ipairs(ss) do\n"
    "  out[#out + 1] = s\n"
    "  out[#out + 1] = redis.call('ZSCORE', 'certs:expiry', s) or ''\n"
    "end\n"
    "return out\n";

/* After event_lua_emit and CA_LUA_LIVE. ARGV: now, event time (RFC 3339),
 * notice days, marker keep seconds, then one string of lines
 * "<serial> <not_after or -> <not_after RFC 3339 or ->\n".
 * Returns {seen, emitted, removed, moved}. */
static const char expiry_lua_body[] =
    "local now = tonumber(ARGV[1])\n"
    "local etime = ARGV[2]\n"
    "local notice = tonumber(ARGV[3])\n"
    "local keep = tonumber(ARGV[4])\n"
    "local th = {notice}\n"
    "if notice > 15 then th[2] = 15 end\n"
    "local seen, emitted, removed, moved = 0, 0, 0, 0\n"
    /* The newest-expiring valid certificate of the account that outlives
     * this one, or nil: the top of acct:{id}:live. */
    "local function newer(acct, serial, na)\n"
    "  live_sync(acct, now)\n"
    "  local lo = math.max(na, now)\n"
    "  local list = redis.call('ZREVRANGEBYSCORE', 'acct:{' .. acct .. '}:live',\n"
    "    '+inf', '(' .. lo, 'LIMIT', 0, 8)\n"
    "  for _, s in ipairs(list) do\n"
    "    if s ~= serial then\n"
    "      local c = redis.call('HMGET', 'cert:' .. s, 'not_after', 'revoked_at')\n"
    "      local n = tonumber(c[1])\n"
    "      if n and n > lo and (not c[2] or c[2] == '') then return s end\n"
    "    end\n"
    "  end\n"
    "  return nil\n"
    "end\n"
    "for serial, score, natext in string.gmatch(ARGV[5], '([^ \\n]+) ([^ \\n]+) ([^ \\n]+)\\n') do\n"
    "  seen = seen + 1\n"
    "  local cur = redis.call('ZSCORE', 'certs:expiry', serial)\n"
    "  local na = tonumber(score)\n"
    "  if not cur then\n"
    "    redis.call('ZREM', 'certs:due', serial)\n"
    "    moved = moved + 1\n"
    "  elseif na and tonumber(cur) == na then\n"
    "    local c = redis.call('HMGET', 'cert:' .. serial, 'holder', 'account_id', 'revoked_at')\n"
    "    local acct = c[2]\n"
    "    local mine = c[1] and string.sub(c[1], 1, 5) == 'acct:' and acct and acct ~= ''\n"
    "    local ok = mine and (not c[3] or c[3] == '')\n"
    "    if ok then\n"
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
    "      redis.call('ZREM', 'certs:due', serial)\n"
    "      if mine then\n"
    "        redis.call('ZADD', 'certs:expired', na, serial)\n"
    "        redis.call('ZREM', 'acct:{' .. acct .. '}:live', serial)\n"
    "      end\n"
    "      removed = removed + 1\n"
    "    else\n"
    "      local nxt = na\n"
    "      if ok then\n"
    "        for _, d in ipairs(th) do\n"
    "          local t = na - d * 86400\n"
    "          if t > now and t < nxt then nxt = t end\n"
    "        end\n"
    "      end\n"
    "      redis.call('ZADD', 'certs:due', nxt, serial)\n"
    "      moved = moved + 1\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return {seen, emitted, removed, moved}\n";

/* ARGV: index zset (certs:expired | certs:revoked), cutoff, count. Deletes
 * the records of account certificates with not_after <= cutoff that are no
 * longer in certs:expiry. Returns {members read, pruned, dropped}. */
static const char lua_prune[] =
    "local z, cutoff = ARGV[1], tonumber(ARGV[2])\n"
    "local ss = redis.call('ZRANGEBYSCORE', z, '-inf', cutoff, 'LIMIT', 0, tonumber(ARGV[3]))\n"
    "local pruned, dropped = 0, 0\n"
    "for _, s in ipairs(ss) do\n"
    "  local c = redis.call('HMGET', 'cert:' .. s, 'holder', 'account_id', 'not_after')\n"
    "  local acct = c[2]\n"
    "  if not c[1] then\n"
    "    redis.call('ZREM', z, s)\n"
    "    dropped = dropped + 1\n"
    "  elseif string.sub(c[1], 1, 5) ~= 'acct:' or not acct or acct == '' then\n"
    "    redis.call('ZREM', z, s)\n"
    "    dropped = dropped + 1\n"
    "  elseif tonumber(c[3]) and tonumber(c[3]) <= cutoff and\n"
    "      not redis.call('ZSCORE', 'certs:expiry', s) then\n"
    "    redis.call('DEL', 'cert:' .. s)\n"
    "    redis.call('ZREM', 'acct:{' .. acct .. '}:certs', s)\n"
    "    redis.call('ZREM', 'acct:{' .. acct .. '}:live', s)\n"
    "    redis.call('ZREM', 'certs:expired', s)\n"
    "    redis.call('ZREM', 'certs:revoked', s)\n"
    "    redis.call('ZREM', 'certs:due', s)\n"
    "    pruned = pruned + 1\n"
    "  end\n"
    "end\n"
    "return {#ss, pruned, dropped}\n";

/* After CA_LUA_LIVE. ARGV: now, count. Brings the :live sets of the next
 * count accounts of acct:all up to date (live_sync), which also puts the
 * unrevoked records that expired before certs:expired existed into it; the
 * rank reached is kept in certs:live:at, and certs:live:built is set once
 * the whole list is done. Returns {accounts, 1 when done}. */
static const char lua_migrate_body[] =
    "if redis.call('GET', 'certs:live:built') then return {0, 1} end\n"
    "local n = tonumber(ARGV[2])\n"
    "local at = tonumber(redis.call('GET', 'certs:live:at') or '0')\n"
    "local ids = redis.call('ZRANGE', 'acct:all', at, at + n - 1)\n"
    "for _, id in ipairs(ids) do\n"
    "  if string.match(id, '^[%w_%-]+$') then live_sync(id, ARGV[1]) end\n"
    "end\n"
    "if #ids < n then\n"
    "  redis.call('SET', 'certs:live:built', '1')\n"
    "  redis.call('DEL', 'certs:live:at')\n"
    "  return {#ids, 1}\n"
    "end\n"
    "redis.call('SET', 'certs:live:at', at + #ids)\n"
    "return {#ids, 0}\n";

#define CA_MIGRATE_BATCH 50 /* accounts per script */

static char *expiry_script;
static pthread_once_t expiry_script_once = PTHREAD_ONCE_INIT;

static void
expiry_script_build(void)
{
	size_t a = strlen(event_lua_emit), l = strlen(CA_LUA_LIVE),
	       b = strlen(expiry_lua_body);

	if ((expiry_script = malloc(a + l + b + 1)) == NULL)
		return;
	memcpy(expiry_script, event_lua_emit, a);
	memcpy(expiry_script + a, CA_LUA_LIVE, l);
	memcpy(expiry_script + a + l, expiry_lua_body, b + 1);
}

/* An integer array reply of at least n elements? */
static int
int_array(const redisReply *r, size_t n)
{
	if (r->type != REDIS_REPLY_ARRAY || r->elements < n)
		return (0);
	for (size_t i = 0; i < n; i++)
		if (r->element[i]->type != REDIS_REPLY_INTEGER)
			return (0);
	return (1);
}

/* Runs a two-argument walk script (fill or trim) over ranks from 0. */
static mgr_err
due_walk(const char *script, int rescore, int64_t *changed)
{
	redisReply *r = NULL;
	char start[24], count[24];
	const char *argv[3];
	int64_t at = 0, n, d;
	mgr_err rv = MGR_OK;

	snprintf(count, sizeof(count), "%d", CA_EXPIRY_BATCH);
	for (int b = 0; b < CA_EXPIRY_MAX_BATCHES; b++) {
		snprintf(start, sizeof(start), "%lld", (long long)at);
		argv[0] = start;
		argv[1] = count;
		argv[2] = rescore ? "1" : "0";
		if ((rv = kv_eval(&r, script, 0, 3, argv, NULL)) != MGR_OK)
			break;
		if (!int_array(r, 2)) {
			rv = MGR_EINTERNAL;
			break;
		}
		n = r->element[0]->integer;
		d = r->element[1]->integer;
		freeReplyObject(r);
		r = NULL;
		*changed += d;
		/* The trim walk removes what it dropped from its own ranks. */
		at += script == lua_due_trim ? n - d : n;
		if (n < CA_EXPIRY_BATCH)
			break;
	}
	if (r != NULL)
		freeReplyObject(r);
	return (rv);
}

/* Makes certs:due the set certs:expiry is, scored for notice_days, when the
 * cheap check says it is not (see expiry.h). */
static mgr_err
due_reconcile(int64_t notice_days, struct ca_expiry_stats *st)
{
	redisReply *r = NULL;
	char days[24];
	int rescore;
	int64_t changed = 0;
	mgr_err rv;

	snprintf(days, sizeof(days), "%lld", (long long)notice_days);
	if ((rv = kv_eval(&r, lua_due_state, 0, 0, NULL, NULL)) != MGR_OK)
		return (rv);
	if (!int_array(r, 2) || r->elements != 3 ||
	    r->element[2]->type != REDIS_REPLY_STRING) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	rescore = strcmp(r->element[2]->str, days) != 0;
	if (!rescore && r->element[0]->integer == r->element[1]->integer)
		goto out;
	log_info(NULL,
	    "expiry index: reconciling certs:due (%lld) with "
	    "certs:expiry (%lld)%s",
	    (long long)r->element[1]->integer, (long long)r->element[0]->integer,
	    rescore ? ", rescoring for the notice window" : "");
	if ((rv = due_walk(lua_due_fill, rescore, &changed)) != MGR_OK ||
	    (rv = due_walk(lua_due_trim, 0, &changed)) != MGR_OK)
		goto out;
	freeReplyObject(r);
	r = NULL;
	if (rescore && (rv = kv_cmd(&r, "SET certs:due:notice %s", days)) != MGR_OK)
		goto out;
	st->reindexed += changed;
out:
	if (r != NULL)
		freeReplyObject(r);
	return (rv);
}

/* Reads the due certificates (at most a batch) and runs the script over
 * them. *n is how many were read, *progress how many left (-inf, now]. */
/* Events this process's scans wrote (expiry.h). */
int64_t ca_expiry_events_sent;

static mgr_err
expiry_batch(int64_t now, const char *etime, int64_t notice_days,
    struct ca_expiry_stats *st, size_t *n, int64_t *progress)
{
	struct mgr_buf lines;
	redisReply *range = NULL, *r = NULL;
	char nowb[32], days[32], keep[32], count[24];
	const char *argv[5];
	mgr_err rv;

	*n = 0;
	*progress = 0;
	mgr_buf_init(&lines, (size_t)CA_EXPIRY_BATCH * 256);
	snprintf(nowb, sizeof(nowb), "%lld", (long long)now);
	snprintf(count, sizeof(count), "%d", CA_EXPIRY_BATCH);
	argv[0] = nowb;
	argv[1] = count;
	if ((rv = kv_eval(&range, lua_due_peek, 0, 2, argv, NULL)) != MGR_OK)
		goto out;
	if (range->type != REDIS_REPLY_ARRAY || range->elements == 0)
		goto out;
	*n = range->elements / 2;
	for (size_t i = 0; i + 1 < range->elements; i += 2) {
		const redisReply *m = range->element[i], *s = range->element[i + 1];
		char na[MGR_TIME_MAX];
		int64_t t;

		if (m->type != REDIS_REPLY_STRING || s->type != REDIS_REPLY_STRING ||
		    m->len == 0 || m->len > 128 || strpbrk(m->str, " \n") != NULL)
			continue; /* not ours to judge; never matches in the script */
		if (s->len == 0) {
			rv = mgr_buf_printf(&lines, "%s - -\n", m->str);
		} else {
			if (mgr_parse_i64(s->str, &t) != MGR_OK)
				continue;
			mgr_time_format(t, na);
			rv = mgr_buf_printf(&lines, "%s %s %s\n", m->str, s->str, na);
		}
		if (rv != MGR_OK)
			goto out;
	}
	pthread_once(&expiry_script_once, expiry_script_build);
	if (expiry_script == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	snprintf(days, sizeof(days), "%lld", (long long)notice_days);
	snprintf(keep, sizeof(keep), "%lld", (long long)CA_EXPIRY_MARK_KEEP_S);
	argv[0] = nowb;
	argv[1] = etime;
	argv[2] = days;
	argv[3] = keep;
	argv[4] = lines.data != NULL ? lines.data : "";
	if ((rv = kv_eval(&r, expiry_script, 0, 5, argv, NULL)) != MGR_OK)
		goto out;
	if (!int_array(r, 4)) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	st->seen += r->element[0]->integer;
	st->emitted += r->element[1]->integer;
	__atomic_add_fetch(&ca_expiry_events_sent, r->element[1]->integer,
	    __ATOMIC_RELAXED);
	st->removed += r->element[2]->integer;
	*progress = r->element[2]->integer + r->element[3]->integer;
out:
	if (range != NULL)
		freeReplyObject(range);
	if (r != NULL)
		freeReplyObject(r);
	mgr_buf_free(&lines);
	return (rv);
}

mgr_err
ca_expiry_scan(int64_t now, int64_t notice_days, struct ca_expiry_stats *out)
{
	struct ca_expiry_stats st = {0, 0, 0, 0, 0};
	char etime[MGR_TIME_MAX];
	int64_t progress;
	mgr_err rv;
	size_t n;

	mgr_time_format(now, etime);
	if ((rv = due_reconcile(notice_days, &st)) != MGR_OK)
		return (rv);
	/* Every item handled leaves (-inf, now], so each batch starts from the
	 * beginning; a batch that moves nothing stops the pass. */
	for (int b = 0; b < CA_EXPIRY_MAX_BATCHES; b++) {
		if ((rv = expiry_batch(now, etime, notice_days, &st, &n, &progress)) !=
		    MGR_OK)
			return (rv);
		if (n < CA_EXPIRY_BATCH || progress == 0)
			break;
	}
	if (out != NULL)
		*out = st;
	return (MGR_OK);
}

/* The one-time walk over every account (lua_migrate_body), shared by the
 * replicas through its cursor; a no-op once certs:live:built is set. */
static mgr_err
live_migrate(int64_t now)
{
	char script[sizeof(CA_LUA_LIVE) + sizeof(lua_migrate_body)];
	redisReply *r = NULL;
	char nowb[24], count[24];
	const char *argv[2];
	mgr_err rv = MGR_OK;

	snprintf(script, sizeof(script), "%s%s", CA_LUA_LIVE, lua_migrate_body);
	snprintf(nowb, sizeof(nowb), "%lld", (long long)now);
	snprintf(count, sizeof(count), "%d", CA_MIGRATE_BATCH);
	argv[0] = nowb;
	argv[1] = count;
	for (int b = 0; b < CA_EXPIRY_MAX_BATCHES; b++) {
		if ((rv = kv_eval(&r, script, 0, 2, argv, NULL)) != MGR_OK)
			break;
		if (!int_array(r, 2)) {
			rv = MGR_EINTERNAL;
			break;
		}
		if (r->element[1]->integer == 1) {
			if (r->element[0]->integer > 0 || b > 0)
				log_info(NULL,
				    "certificate indexes: every account's "
				    "history indexed");
			break;
		}
		freeReplyObject(r);
		r = NULL;
	}
	if (r != NULL)
		freeReplyObject(r);
	return (rv);
}

mgr_err
ca_expiry_prune(int64_t now, int64_t retention_s, struct ca_expiry_stats *st)
{
	static const char *const index[] = {"certs:expired", "certs:revoked"};
	redisReply *r = NULL;
	char cutoff[24], count[24];
	const char *argv[3];
	int64_t pruned = 0;
	mgr_err rv = MGR_OK;

	if ((rv = live_migrate(now)) != MGR_OK)
		return (rv);
	snprintf(cutoff, sizeof(cutoff), "%lld", (long long)(now - retention_s));
	snprintf(count, sizeof(count), "%d", CA_PRUNE_BATCH);
	for (size_t i = 0; i < sizeof(index) / sizeof(index[0]); i++) {
		for (int b = 0; b < CA_EXPIRY_MAX_BATCHES; b++) {
			argv[0] = index[i];
			argv[1] = cutoff;
			argv[2] = count;
			if ((rv = kv_eval(&r, lua_prune, 0, 3, argv, NULL)) != MGR_OK)
				goto out;
			if (!int_array(r, 3)) {
				rv = MGR_EINTERNAL;
				goto out;
			}
			pruned += r->element[1]->integer;
			if (r->element[0]->integer < CA_PRUNE_BATCH ||
			    r->element[1]->integer + r->element[2]->integer == 0) {
				freeReplyObject(r);
				r = NULL;
				break;
			}
			freeReplyObject(r);
			r = NULL;
		}
	}
out:
	if (r != NULL)
		freeReplyObject(r);
	if (st != NULL)
		st->pruned += pruned;
	return (rv);
}

void
ca_expiry_loop(void *state, volatile int *stop)
{
	struct ca_state *ca = state;
	const struct mgr_config *cfg = ca->cfg;
	struct ca_expiry_stats st;
	mgr_err rv, last = MGR_OK;
	int64_t now;

	log_info(NULL,
	    "expiry scanner: every %llds, notice %lld days, records "
	    "kept %llds after expiry",
	    (long long)cfg->expiry_scan_interval_s, (long long)cfg->expiry_notice_days,
	    (long long)cfg->cert_retention_s);
	while (!*stop) {
		now = mgr_now_s();
		rv = ca_expiry_scan(now, cfg->expiry_notice_days, &st);
		if (rv == MGR_OK)
			rv = ca_expiry_prune(now, cfg->cert_retention_s, &st);
		if (rv != MGR_OK && rv != last)
			log_warn(NULL, "expiry scan failed: %s (retrying every %llds)",
			    mgr_strerror(rv), (long long)cfg->expiry_scan_interval_s);
		else if (rv == MGR_OK && last != MGR_OK)
			log_info(NULL, "expiry scan works again");
		if (rv == MGR_OK &&
		    (st.emitted > 0 || st.removed > 0 || st.reindexed > 0 ||
		        st.pruned > 0))
			log_info(NULL,
			    "expiry scan: %lld looked at, %lld events, "
			    "%lld expired left the index, %lld reindexed, %lld "
			    "records pruned",
			    (long long)st.seen, (long long)st.emitted,
			    (long long)st.removed, (long long)st.reindexed,
			    (long long)st.pruned);
		last = rv;
		svc_sleep(stop, (int)cfg->expiry_scan_interval_s * 1000);
	}
}
