/* Paging of the listings that are one zset of ids scored by creation time
 * (ms): GET /accounts, /vaults. A page is in (score, member) order, the
 * order of ZRANGE; the cursor `after` is "<score>:<member>" of the last item
 * of the previous page, so a page starts after that item whether or not it
 * still exists, and items created meanwhile (later scores) come at the end:
 * paging neither skips nor repeats an item. */
#ifndef MGR_COMMON_PAGE_H
#define MGR_COMMON_PAGE_H

#define MGR_PAGE_DEFAULT 10000 /* items per page without ?limit= */
#define MGR_PAGE_MAX 10000     /* largest ?limit= */
#define MGR_PAGE_CURSOR_MAX 96 /* "<ms>:<id>" and its NUL */

/* Lua: page_ids(zset, after, limit) -> ids, next ("" at the end), or nil
 * for a malformed cursor. Reads limit + 1 members to know whether there is
 * more. Ids are [A-Za-z0-9_-], so Lua's string order is the zset's. */
#define MGR_PAGE_LUA \
	"local function page_ids(z, after, limit)\n" \
	"  local start = 0\n" \
	"  if after ~= '' then\n" \
	"    local ms, id = string.match(after, '^(%d+):([%w_%-]+)$')\n" \
	"    if not ms or #ms > 19 or #id > 64 then return nil end\n" \
	"    local sc = redis.call('ZSCORE', z, id)\n" \
	"    if sc and tonumber(sc) == tonumber(ms) then\n" \
	"      start = redis.call('ZRANK', z, id) + 1\n" \
	"    else\n" \
	"      start = redis.call('ZCOUNT', z, '-inf', '(' .. ms)\n" \
	"      for _, m in ipairs(redis.call('ZRANGEBYSCORE', z, ms, ms)) do\n" \
	"        if m <= id then start = start + 1 end\n" \
	"      end\n" \
	"    end\n" \
	"  end\n" \
	"  local r = redis.call('ZRANGE', z, start, start + limit, 'WITHSCORES')\n" \
	"  local ids, nxt = {}, ''\n" \
	"  for i = 1, math.min(#r, 2 * limit), 2 do ids[#ids + 1] = r[i] end\n" \
	"  if #r > 2 * limit then\n" \
	"    nxt = string.format('%.0f', tonumber(r[2 * limit])) .. ':' ..\n" \
	"      r[2 * limit - 1]\n" \
	"  end\n" \
	"  return ids, nxt\n" \
	"end\n"

#define MGR_PAGE_LUA_BAD \
	"redis.error_reply('INVALID \"after\" is not a cursor of this listing')"

#endif
