/* Devices (admin): certificates for clientAuth and serverAuth whose Subject
 * DNs share the registry with accounts. Keys: dev:<id> (hash id, name,
 * created_at, serial), dev:name:<name> (id), dev:all (zset). */
#include "services/ca/handlers.h"

#include <stdlib.h>
#include <string.h>

#include "common/kv.h"
#include "common/log.h"
#include "common/op.h"
#include "common/page.h"
#include "common/replay.h"
#include "services/ca/issue.h"

#define DEVICE_NAME_MAX 128
#define DEVICES_MAX 1000

/* ARGV: the record, then 15 id, 16 name, 17 created_at ms, 18 replay key,
 * 19 reply (common/replay.h). */
static const char lua_device[] =
    REPLAY_LUA REPLAY_LUA_GUARD(18)
    "if redis.call('EXISTS', 'dev:name:' .. ARGV[16]) == 1 then\n"
    "  return redis.error_reply('CONFLICT name') end\n"
    "if redis.call('EXISTS', ARGV[5]) == 1 then\n"
    "  return redis.error_reply('CONFLICT dn') end\n"
    "redis.call('SET', ARGV[5], ARGV[2])\n"
    "put_cert(ARGV)\n"
    "redis.call('HSET', 'dev:' .. ARGV[15], 'id', ARGV[15], 'name', ARGV[16],\n"
    "  'created_at', ARGV[11], 'serial', ARGV[1])\n"
    "redis.call('SET', 'dev:name:' .. ARGV[16], ARGV[15])\n"
    "redis.call('ZADD', 'dev:all', ARGV[17], ARGV[15])\n"
    "replay_save(ARGV[18], ARGV[19])\n"
    "return 1\n";

/* KEYS dev:all; ARGV after (cursor, "" = from the start), limit. Returns
 * {{id, name, created_at}...}, {cert record...} (same order), next cursor
 * ("" after the last page). */
#define CA_DEVICE_PAGE_MAX 1000 /* each device carries its certificate PEM */

static const char lua_list[] =
    MGR_PAGE_LUA
    "local ids, nxt = page_ids(KEYS[1], ARGV[1], tonumber(ARGV[2]))\n"
    "if not ids then return " MGR_PAGE_LUA_BAD " end\n"
    "local devs, certs = {}, {}\n"
    "for _, id in ipairs(ids) do\n"
    "  local d = redis.call('HMGET', 'dev:' .. id, 'id', 'name', 'created_at', 'serial')\n"
    "  local c = d[4] and redis.call('HMGET', 'cert:' .. d[4], 'serial', 'holder',\n"
    "    'account_id', 'subject', 'pem', 'spki', 'not_before', 'not_after',\n"
    "    'revoked_at', 'issued_at')\n"
    "  if d[1] and c and c[1] then\n"
    "    devs[#devs + 1] = {d[1], d[2], d[3]}\n"
    "    certs[#certs + 1] = c\n"
    "  end\n"
    "end\n"
    "return {devs, certs, nxt}\n";

static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > DEVICE_NAME_MAX)
		return (0);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return (0);
	return (1);
}

mgr_err
ca_h_create_device(struct rpc_call *call, void *arg)
{
	struct ca_state *ca = arg;
	Mgr__Ca__CreateDeviceRequest *req = NULL;
	Mgr__Ca__Device dev = MGR__CA__DEVICE__INIT;
	Mgr__Ca__Certificate cm;
	struct ca_csr *csr = NULL;
	struct ca_issued iss;
	struct ca_argv av;
	redisReply *r = NULL;
	char id[MGR_ID_MAX], holder[MGR_ID_MAX + 8], why[256], script[CA_LUA_MAX];
	size_t lens[64];
	struct op op;
	int64_t now = mgr_now_s(), exp;
	int hit = 0;
	mgr_err rv;

	memset(&iss, 0, sizeof(iss));
	why[0] = id[0] = '\0';
	if (call->caller->kind != MGR__CALLER__KIND__ADMIN)
		return (rpc_fail(call, MGR_EUNAUTH, "devices are registered by an administrator"));
	op_start(&op, call, NULL);
	if ((rv = op_args(&op, &mgr__ca__create_device_request__descriptor,
	         (ProtobufCMessage **)&req)) != MGR_OK)
		return (op_end(&op, rv));
	op.action = "device.create";
	if (!name_ok(req->name)) {
		rv = MGR_EINVAL;
		snprintf(why, sizeof(why), "name: 1 to %d characters, no control characters",
		    DEVICE_NAME_MAX);
		goto out;
	}
	/* A replay's DN is taken now (by itself): look for the record first. */
	if ((rv = op_lookup(&op, &hit)) != MGR_OK || hit)
		goto out;
	if ((rv = ca_expiration(ca, 0, 0, now, &exp, why, sizeof(why))) != MGR_OK ||
	    (rv = ca_csr_parse(req->csr_pem, &csr, why, sizeof(why))) != MGR_OK)
		goto out;
	if ((rv = kv_cmd(&r, "EXISTS %s", csr->dn_key)) != MGR_OK)
		goto out;
	if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
		rv = MGR_ECONFLICT;
		snprintf(why, sizeof(why), "the Subject DN is held by an account or device");
		goto out;
	}
	freeReplyObject(r);
	r = NULL;
	if ((rv = mgr_new_id("dev", id, sizeof(id))) != MGR_OK)
		goto out;
	snprintf(holder, sizeof(holder), "dev:%s", id);
	if ((rv = ca_issue(ca, csr->spki_obj, csr->name, exp,
	         CA_PROFILE_DEVICE, &iss)) != MGR_OK)
		goto out;
	ca_issued_msg(&iss, &cm);
	dev.id = id;
	dev.name = req->name;
	dev.created_at = iss.issued_ms / 1000;
	dev.certificate = &cm;
	if ((rv = op_replay(&op, &dev.base)) != MGR_OK)
		goto out;
	ca_argv_cert(&av, &iss, holder, "");
	ca_argv_add(&av, id);
	ca_argv_add(&av, req->name);
	ca_argv_add_i64(&av, iss.issued_ms);
	ca_argv_add(&av, op.rp.key);
	ca_argv_add(&av, (const char *)op.rp.reply);
	if (ca_lua_script(lua_device, script, sizeof(script)) == NULL) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	replay_argvlen(&op.rp, av.n, av.v, lens);
	if ((rv = kv_eval(&r, script, 0, av.n, av.v, lens)) != MGR_OK) {
		if (rv == MGR_ECONFLICT)
			snprintf(why, sizeof(why), "the device name or Subject DN is taken");
		goto out;
	}
	if (replay_signalled(r)) {
		id[0] = '\0';
		rv = op_replayed(&op);
		goto out;
	}
	snprintf(op.detail, sizeof(op.detail), "serial %s", iss.serial);
	rv = rpc_reply(call, &dev.base);
out:
	if (rv != MGR_OK && !hit && (rv = replay_rescue(&op.rp, call, rv)) == MGR_OK)
		op.replayed = 1;
	if (rv != MGR_OK)
		rpc_fail(call, rv, "%s", why[0] != '\0' ? why : mgr_strerror(rv));
	snprintf(op.target, sizeof(op.target), "%s", id);
	if (r != NULL)
		freeReplyObject(r);
	ca_issued_clear(&iss);
	ca_csr_free(csr);
	return (op_end(&op, rv));
}

mgr_err
ca_h_list_devices(struct rpc_call *call, void *arg)
{
	Mgr__Ca__ListDevicesReply rep = MGR__CA__LIST_DEVICES_REPLY__INIT;
	Mgr__Ca__ListDevicesRequest *in = NULL;
	const char *argv[3];
	char lim[16];
	struct op_list devs = {.items = NULL}, cms = {.items = NULL};
	struct ca_record *recs = NULL;
	size_t n = 0;
	redisReply *r = NULL;
	int64_t now = mgr_now_s();
	mgr_err rv;

	(void)arg;
	if (call->caller->kind != MGR__CALLER__KIND__ADMIN)
		return (rpc_fail(call, MGR_EUNAUTH, "administrators only"));
	if ((rv = rpc_args(call, &mgr__ca__list_devices_request__descriptor,
	         (ProtobufCMessage **)&in)) != MGR_OK)
		return (rv);
	snprintf(lim, sizeof(lim), "%u", in->limit == 0 ||
	    in->limit > CA_DEVICE_PAGE_MAX ? CA_DEVICE_PAGE_MAX : (unsigned)in->limit);
	argv[0] = "dev:all";
	argv[1] = in->after;
	argv[2] = lim;
	if ((rv = kv_eval(&r, lua_list, 1, 3, argv, NULL)) == MGR_EINVAL) {
		mgr__ca__list_devices_request__free_unpacked(in, NULL);
		return (rpc_fail(call, rv, "\"after\" is not a cursor of this listing"));
	}
	if (rv != MGR_OK)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_ARRAY ||
	    r->element[2]->type != REDIS_REPLY_STRING) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	if ((rv = ca_records_from_reply(r->element[1], &recs, &n)) != MGR_OK)
		goto out;
	if (n != r->element[0]->elements) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	if ((rv = op_list_alloc(&devs, &mgr__ca__device__descriptor, n)) != MGR_OK ||
	    (rv = op_list_alloc(&cms, &mgr__ca__certificate__descriptor, n)) != MGR_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const redisReply *d = r->element[0]->element[i];
		Mgr__Ca__Device *dev = op_list_at(&devs, i);
		int64_t created = 0;

		if (d->type != REDIS_REPLY_ARRAY || d->elements != 3 ||
		    d->element[0]->type != REDIS_REPLY_STRING ||
		    d->element[1]->type != REDIS_REPLY_STRING) {
			rv = MGR_EINTERNAL;
			goto out;
		}
		if (d->element[2]->type == REDIS_REPLY_STRING)
			(void)mgr_parse_i64(d->element[2]->str, &created);
		dev->id = d->element[0]->str;
		dev->name = d->element[1]->str;
		dev->created_at = created;
		dev->certificate = op_list_at(&cms, i);
		ca_record_msg(&recs[i], now, dev->certificate);
	}
	rep.devices = (Mgr__Ca__Device **)devs.ptrs;
	rep.n_devices = devs.n;
	rep.next_after = r->element[2]->str;
	rv = rpc_reply(call, &rep.base);
out:
	if (rv != MGR_OK)
		rpc_fail(call, rv, "%s", mgr_strerror(rv));
	if (r != NULL)
		freeReplyObject(r);
	op_list_free(&devs);
	op_list_free(&cms);
	ca_records_free(recs, n);
	mgr__ca__list_devices_request__free_unpacked(in, NULL);
	return (rv);
}
