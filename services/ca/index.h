/* The CA's derived indexes (common/keys.h): Lua shared by the request
 * scripts (certs.c) and the background loop (expiry.c).
 *
 * acct:{<id>}:live (zset, score not_after, member serial) holds the account's
 * unrevoked certificates, so that rotation finds the ones to revoke, and the
 * expiry scanner a newer valid one, without walking the account's history.
 * acct:{<id>}:live:upto (string) is the acct:{<id>}:certs score up to which
 * live reflects the records: live_sync walks only the records scored after
 * it (normally none, since every script of this service that adds a record
 * adds it to live and moves upto), and the whole history once for an
 * account that has no upto yet (records written before the index existed,
 * or by hand). Expired members are dropped when read (live_valid), by the
 * expiry scanner and by pruning. */
#ifndef MGR_CA_INDEX_H
#define MGR_CA_INDEX_H

/* live_sync(acct, now); live_add(acct, serial, not_after, certs score);
 * live_valid(acct, now) -> the unrevoked serials with not_after > now.
 * live_sync also puts an unrevoked expired record that the expiry index
 * no longer holds into certs:expired (the pruning index: records of
 * certificates that expired before that index existed). */
#define CA_LUA_LIVE \
	"local function live_sync(acct, now)\n" \
	"  local ck = 'acct:{' .. acct .. '}:certs'\n" \
	"  local lk = 'acct:{' .. acct .. '}:live'\n" \
	"  local top = redis.call('ZRANGE', ck, -1, -1, 'WITHSCORES')\n" \
	"  if #top == 0 then return end\n" \
	"  local wm = redis.call('GET', lk .. ':upto')\n" \
	"  if wm and tonumber(wm) >= tonumber(top[2]) then return end\n" \
	"  local ss\n" \
	"  if wm then ss = redis.call('ZRANGEBYSCORE', ck, '(' .. wm, '+inf')\n" \
	"  else ss = redis.call('ZRANGE', ck, 0, -1) end\n" \
	"  for _, s in ipairs(ss) do\n" \
	"    local c = redis.call('HMGET', 'cert:' .. s, 'not_after', 'revoked_at')\n" \
	"    local na = tonumber(c[1])\n" \
	"    if na and (not c[2] or c[2] == '') then\n" \
	"      if na > tonumber(now) then redis.call('ZADD', lk, na, s)\n" \
	"      elseif not redis.call('ZSCORE', 'certs:expiry', s) then\n" \
	"        redis.call('ZADD', 'certs:expired', na, s) end\n" \
	"    end\n" \
	"  end\n" \
	"  redis.call('SET', lk .. ':upto', top[2])\n" \
	"end\n" \
	"local function live_add(acct, s, na, score)\n" \
	"  local lk = 'acct:{' .. acct .. '}:live'\n" \
	"  redis.call('ZADD', lk, na, s)\n" \
	"  local wm = redis.call('GET', lk .. ':upto')\n" \
	"  if not wm or tonumber(score) > tonumber(wm) then\n" \
	"    redis.call('SET', lk .. ':upto', score) end\n" \
	"end\n" \
	"local function live_valid(acct, now)\n" \
	"  local lk = 'acct:{' .. acct .. '}:live'\n" \
	"  live_sync(acct, now)\n" \
	"  redis.call('ZREMRANGEBYSCORE', lk, '-inf', now)\n" \
	"  return redis.call('ZRANGEBYSCORE', lk, '(' .. now, '+inf')\n" \
	"end\n"

#endif
