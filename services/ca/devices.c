/* Devices (admin): certificates for clientAuth and serverAuth whose Subject
 * DNs share the registry with accounts. Keys: dev:<id> (hash id, name,
 * created_at, serial), dev:name:<name> (id), dev:all (zset).
 *
 * Revoke (API.md "Devices (v2)") goes through the one revocation step of
 * every certificate (revoke_cert, issue.h: the CRL, OCSP and the
 * authentication cache read the same record), reason cessationOfOperation;
 * revoking a revoked device answers it as it is. Delete is allowed once the
 * device's certificate is revoked or expired (409 while it is valid: a
 * device that may still be in use is revoked first, on purpose), and frees
 * the device's name and Subject DN; the certificate record stays, so that
 * the CRL and OCSP keep answering for its serial. */
#include "services/ca/handlers.h"

#include <stdlib.h>
#include <string.h>

#include "common/audit.h"
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
/* clang-format off */
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
/* clang-format on */

/* KEYS dev:all; ARGV after (cursor, "" = from the start), limit. Returns
 * {{id, name, created_at}...}, {cert record...} (same order), next cursor
 * ("" after the last page). */
#define CA_DEVICE_PAGE_MAX 1000 /* each device carries its certificate PEM */

/* clang-format off */
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
/* clang-format on */

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
		return (rpc_fail(call, MGR_EUNAUTH,
		    "devices are registered by an administrator"));
	op_start(&op, call, NULL);
	if ((rv = op_args(&op, &mgr__ca__create_device_request__descriptor,
	         (ProtobufCMessage **)&req)) != MGR_OK)
		return (op_end(&op, rv));
	op.action = "device.create";
	if (!name_ok(req->name)) {
		rv = MGR_EINVAL;
		snprintf(why, sizeof(why),
		    "name: 1 to %d characters, no control characters", DEVICE_NAME_MAX);
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
		snprintf(why, sizeof(why),
		    "the Subject DN is held by an account or device");
		goto out;
	}
	freeReplyObject(r);
	r = NULL;
	if ((rv = mgr_new_id("dev", id, sizeof(id))) != MGR_OK)
		goto out;
	snprintf(holder, sizeof(holder), "dev:%s", id);
	if ((rv = ca_issue(ca, csr->spki_obj, csr->name, exp, CA_PROFILE_DEVICE, &iss)) !=
	    MGR_OK)
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
			snprintf(why, sizeof(why),
			    "the device name or Subject DN is taken");
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
	snprintf(lim, sizeof(lim), "%u",
	    in->limit == 0 || in->limit > CA_DEVICE_PAGE_MAX ? CA_DEVICE_PAGE_MAX
	                                                     : (unsigned)in->limit);
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

/* ARGV 1 device id, 2 now (s), 3 now (RFC 3339). → {status, {id, name,
 * created_at}, cert record} with status "revoked" or "already";
 * "notfound". */
static const char lua_revoke[] =
    "local d = redis.call('HMGET', 'dev:' .. ARGV[1], 'id', 'name', 'created_at',"
    " 'serial')\n"
    "if not d[1] or not d[4] then return 'notfound' end\n"
    "local st = revoke_cert(d[4], '', ARGV[2], ARGV[3], false, '5') and 'revoked'"
    " or 'already'\n"
    "local c = redis.call('HMGET', 'cert:' .. d[4], 'serial', 'holder',\n"
    "  'account_id', 'subject', 'pem', 'spki', 'not_before', 'not_after',\n"
    "  'revoked_at', 'issued_at')\n"
    "if not c[1] then return 'notfound' end\n"
    "return {st, {d[1], d[2], d[3] or '0'}, {c}}\n";

/* ARGV 1 device id, 2 now (s), 3 replay key, 4 reply. "ok", "notfound",
 * "valid" (its certificate is neither revoked nor expired). */
/* clang-format off */
static const char lua_delete[] =
    REPLAY_LUA
    "if replay_seen(ARGV[3]) then return " REPLAY_LUA_SIGNAL " end\n"
    "local d = redis.call('HMGET', 'dev:' .. ARGV[1], 'id', 'name', 'serial')\n"
    "if not d[1] then return 'notfound' end\n"
    "local c = d[3] and redis.call('HMGET', 'cert:' .. d[3], 'revoked_at',"
    " 'not_after', 'dn', 'holder') or {}\n"
    "if c[2] and (not c[1] or c[1] == '') and"
    " tonumber(c[2]) > tonumber(ARGV[2]) then return 'valid' end\n"
    "if c[3] and redis.call('GET', c[3]) == 'dev:' .. ARGV[1] then\n"
    "  redis.call('DEL', c[3]) end\n"
    "if d[2] and redis.call('GET', 'dev:name:' .. d[2]) == ARGV[1] then\n"
    "  redis.call('DEL', 'dev:name:' .. d[2]) end\n"
    "redis.call('DEL', 'dev:' .. ARGV[1])\n"
    "redis.call('ZREM', 'dev:all', ARGV[1])\n"
    "replay_save(ARGV[3], ARGV[4])\n"
    "return 'ok'\n";
/* clang-format on */

static int
device_id_ok(const char *s)
{
	size_t n = strlen(s);

	return (n > 4 && n < MGR_ID_MAX && strncmp(s, "dev_", 4) == 0 &&
	    strspn(s + 4, "abcdefghijklmnopqrstuvwxyz0123456789") == n - 4);
}

mgr_err
ca_h_revoke_device(struct rpc_call *call, void *arg)
{
	Mgr__Ca__DeviceRequest *req = NULL;
	Mgr__Ca__Device dev = MGR__CA__DEVICE__INIT;
	Mgr__Ca__Certificate cm;
	struct ca_record *recs = NULL;
	size_t n = 0;
	redisReply *r = NULL;
	char script[CA_LUA_MAX], now_s[24], now_iso[MGR_TIME_MAX], detail[128];
	const char *argv[3], *target = "";
	int64_t now = mgr_now_s(), created = 0;
	mgr_err rv;

	(void)arg;
	detail[0] = '\0';
	if (call->caller->kind != MGR__CALLER__KIND__ADMIN)
		return (rpc_fail(call, MGR_EUNAUTH,
		    "devices are revoked by an administrator"));
	if ((rv = rpc_args(call, &mgr__ca__device_request__descriptor,
	         (ProtobufCMessage **)&req)) != MGR_OK)
		return (rv);
	target = req->id;
	if (!device_id_ok(req->id)) {
		rv = rpc_fail(call, MGR_ENOTFOUND, "no such device");
		goto out;
	}
	if (ca_lua_script(lua_revoke, script, sizeof(script)) == NULL) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	snprintf(now_s, sizeof(now_s), "%lld", (long long)now);
	mgr_time_format(now, now_iso);
	argv[0] = req->id;
	argv[1] = now_s;
	argv[2] = now_iso;
	if ((rv = kv_eval(&r, script, 0, 3, argv, NULL)) != MGR_OK)
		goto out;
	if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) {
		rv = rpc_fail(call, MGR_ENOTFOUND, "no such device");
		goto out;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_ARRAY || r->element[1]->elements != 3 ||
	    (rv = ca_records_from_reply(r->element[2], &recs, &n)) != MGR_OK || n != 1) {
		rv = rv != MGR_OK ? rv : MGR_EINTERNAL;
		goto out;
	}
	for (size_t i = 0; i < 3; i++)
		if (r->element[1]->element[i]->type != REDIS_REPLY_STRING) {
			rv = MGR_EINTERNAL;
			goto out;
		}
	(void)mgr_parse_i64(r->element[1]->element[2]->str, &created);
	dev.id = r->element[1]->element[0]->str;
	dev.name = r->element[1]->element[1]->str;
	dev.created_at = created;
	ca_record_msg(&recs[0], now, &cm);
	dev.certificate = &cm;
	snprintf(detail, sizeof(detail), "serial %s%s", recs[0].serial,
	    strcmp(r->element[0]->str, "already") == 0 ? ", already revoked" : "");
	rv = rpc_reply(call, &dev.base);
out:
	if (rv != MGR_OK && call->message[0] == '\0')
		rpc_fail(call, rv, "%s", mgr_strerror(rv));
	audit_log(call->request_id, call->caller, "device.revoke", target, rv,
	    rv == MGR_OK ? detail : call->message);
	ca_records_free(recs, n);
	if (r != NULL)
		freeReplyObject(r);
	mgr__ca__device_request__free_unpacked(req, NULL);
	return (rv);
}

mgr_err
ca_h_delete_device(struct rpc_call *call, void *arg)
{
	Mgr__Ca__DeviceRequest *req = NULL;
	Mgr__Empty empty = MGR__EMPTY__INIT;
	struct replay rp = {.reply = NULL};
	redisReply *r = NULL;
	char now_s[24];
	const char *argv[4], *target = "";
	size_t lens[4];
	int replayed = 0;
	mgr_err rv;

	(void)arg;
	if (call->caller->kind != MGR__CALLER__KIND__ADMIN)
		return (rpc_fail(call, MGR_EUNAUTH,
		    "devices are deleted by an administrator"));
	if ((rv = rpc_args(call, &mgr__ca__device_request__descriptor,
	         (ProtobufCMessage **)&req)) != MGR_OK)
		return (rv);
	target = req->id;
	if (!device_id_ok(req->id)) {
		rv = rpc_fail(call, MGR_ENOTFOUND, "no such device");
		goto out;
	}
	if ((rv = replay_init(&rp, call)) != MGR_OK ||
	    (rv = replay_prepare(&rp, &empty.base)) != MGR_OK)
		goto out;
	snprintf(now_s, sizeof(now_s), "%lld", (long long)mgr_now_s());
	argv[0] = req->id;
	argv[1] = now_s;
	argv[2] = rp.key;
	argv[3] = (const char *)rp.reply;
	replay_argvlen(&rp, 4, argv, lens);
	if ((rv = kv_eval(&r, lua_delete, 0, 4, argv, lens)) != MGR_OK)
		goto out;
	if (replay_signalled(r)) {
		replayed = 1;
		rv = replay_answer(&rp, call);
		goto out;
	}
	if (r->type != REDIS_REPLY_STRING) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	if (strcmp(r->str, "notfound") == 0)
		rv = rpc_fail(call, MGR_ENOTFOUND, "no such device");
	else if (strcmp(r->str, "valid") == 0)
		rv = rpc_fail(call, MGR_ECONFLICT,
		    "the device's certificate is valid: "
		    "revoke it first");
	else
		rv = rpc_reply(call, &empty.base);
out:
	if (rv != MGR_OK && call->message[0] == '\0')
		rpc_fail(call, rv, "%s", mgr_strerror(rv));
	audit_log(call->request_id, call->caller, "device.delete", target, rv,
	    rv == MGR_OK ? (replayed ? "replayed" : "name and Subject DN freed")
	                 : call->message);
	replay_clear(&rp);
	if (r != NULL)
		freeReplyObject(r);
	mgr__ca__device_request__free_unpacked(req, NULL);
	return (rv);
}
