/* registerClientCertificate, renewClientCertificate, rotateClientKey and the
 * certificate list of an account (API.md "Certificates"). */
#include "services/ca/handlers.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/audit.h"
#include "common/kv.h"
#include "common/log.h"
#include "common/page.h"
#include "common/replay.h"
#include "services/ca/index.h"
#include "services/ca/issue.h"

#define RENEW_TRIES 3

/* The scripts take a replay key and the prepared reply (common/replay.h): a
 * request already done answers REPLAYED before any check, a commit records
 * its reply in the same step. */
#define CA_LUA_REPLAYED(k) \
    "if replay_seen(ARGV[" k "]) then return " REPLAY_LUA_SIGNAL " end\n"

/* The indexes of a record just written by put_cert (index.h, expiry.h):
 * the account's live set (live_sync ran before) and certs:due (score 0:
 * the expiry scanner schedules it on its next pass). */
#define CA_LUA_INDEX \
    CA_LUA_LIVE \
    "local function index_new(a)\n" \
    "  live_add(a[3], a[1], a[7], a[12])\n" \
    "  redis.call('ZADD', 'certs:due', 0, a[1])\n" \
    "end\n"

/* ARGV: the record (issue.h), then 15 cred_version, 16 replay key, 17 reply.
 * KEYS: acct:{id}, acct:{id}:certs. */
static const char lua_register[] =
    REPLAY_LUA CA_LUA_INDEX CA_LUA_REPLAYED("16")
    "local id = ARGV[3]\n"
    "local a = redis.call('HMGET', KEYS[1], 'state', 'cred_version', 'username')\n"
    "if not a[1] then return redis.error_reply('UNAUTH no such account') end\n"
    "if a[1] ~= 'pending_registration' then\n"
    "  return redis.error_reply('UNAUTH credentials already used') end\n"
    "if tonumber(a[2] or '0') ~= tonumber(ARGV[15]) then\n"
    "  return redis.error_reply('UNAUTH credentials changed') end\n"
    "local h = redis.call('GET', ARGV[5])\n"
    "if h and h ~= ARGV[2] then return redis.error_reply('CONFLICT dn held') end\n"
    "redis.call('SET', ARGV[5], ARGV[2])\n"
    "live_sync(id, ARGV[11])\n"
    "put_cert(ARGV)\n"
    "redis.call('ZADD', KEYS[2], ARGV[12], ARGV[1])\n"
    "index_new(ARGV)\n"
    "redis.call('HSET', KEYS[1], 'state', 'active', 'registered_at', ARGV[11])\n"
    "if a[3] and redis.call('GET', 'acct:user:' .. a[3]) == id then\n"
    "  redis.call('DEL', 'acct:user:' .. a[3]) end\n"
    "redis.call('HDEL', KEYS[1], 'username', 'pwhash')\n"
    "emit_event(id, 'certificate.issued', ARGV[13], cjson.encode({serial = ARGV[1],\n"
    "  subject = ARGV[4], not_after = ARGV[14]}))\n"
    "replay_save(ARGV[16], ARGV[17])\n"
    "return 1\n";

/* ARGV: the record, then 15 the serial renewed, 16 now, 17 the account's
 * last issued serial when it was read, 18 replay key, 19 reply. Returns 0
 * when that certificate is no longer valid or another was issued meanwhile
 * (the caller looks again). */
static const char lua_renew[] =
    REPLAY_LUA CA_LUA_INDEX CA_LUA_REPLAYED("18")
    "local id = ARGV[3]\n"
    "if redis.call('HGET', KEYS[1], 'state') ~= 'active' then\n"
    "  return redis.error_reply('UNAUTH account not active') end\n"
    "local p = redis.call('HMGET', 'cert:' .. ARGV[15], 'revoked_at', 'not_after')\n"
    "if not p[2] or (p[1] and p[1] ~= '') or tonumber(p[2]) <= tonumber(ARGV[16]) then\n"
    "  return 0 end\n"
    "local top = redis.call('ZRANGE', KEYS[2], -1, -1)\n"
    "if top[1] ~= ARGV[17] then return 0 end\n"
    "local h = redis.call('GET', ARGV[5])\n"
    "if h and h ~= ARGV[2] then return redis.error_reply('CONFLICT dn held') end\n"
    "redis.call('SET', ARGV[5], ARGV[2])\n"
    "live_sync(id, ARGV[16])\n"
    "put_cert(ARGV)\n"
    "redis.call('ZADD', KEYS[2], ARGV[12], ARGV[1])\n"
    "index_new(ARGV)\n"
    "emit_event(id, 'certificate.renewed', ARGV[13], cjson.encode({serial = ARGV[1],\n"
    "  previous = ARGV[15], not_after = ARGV[14]}))\n"
    "replay_save(ARGV[18], ARGV[19])\n"
    "return 1\n";

/* ARGV: the record, then 15 now, 16 "1" when a revoke list is given, 17
 * replay key, 18 reply (without the revoked serials: the script appends
 * them, CertReply field 3), 19... the serials to revoke. Returns the serials
 * revoked. Without a list, the certificates to revoke are the account's
 * unrevoked unexpired ones, read from acct:{id}:live (index.h): the work is
 * O(valid certificates), whatever the account's history. */
static const char lua_rotate[] =
    REPLAY_LUA CA_LUA_INDEX CA_LUA_REPLAYED("17")
    "local id = ARGV[3]\n"
    "if redis.call('HGET', KEYS[1], 'state') ~= 'active' then\n"
    "  return redis.error_reply('UNAUTH account not active') end\n"
    "if redis.call('EXISTS', 'spki:' .. ARGV[10]) == 1 then\n"
    "  return redis.error_reply('INVALID same key') end\n"
    "local targets = {}\n"
    "local implicit = ARGV[16] ~= '1'\n"
    "if not implicit then\n"
    "  for i = 19, #ARGV do\n"
    "    if not redis.call('ZSCORE', KEYS[2], ARGV[i]) then\n"
    "      return redis.error_reply('INVALID not ours') end\n"
    "    targets[#targets + 1] = ARGV[i]\n"
    "  end\n"
    "end\n"
    "local h = redis.call('GET', ARGV[5])\n"
    "if h and h ~= ARGV[2] then return redis.error_reply('CONFLICT dn held') end\n"
    "if implicit then targets = live_valid(id, ARGV[15]) else live_sync(id, ARGV[15]) end\n"
    "redis.call('SET', ARGV[5], ARGV[2])\n"
    "put_cert(ARGV)\n"
    "redis.call('ZADD', KEYS[2], ARGV[12], ARGV[1])\n"
    "index_new(ARGV)\n"
    "emit_event(id, 'certificate.issued', ARGV[13], cjson.encode({serial = ARGV[1],\n"
    "  subject = ARGV[4], not_after = ARGV[14]}))\n"
    "local revoked, more = {}, ''\n"
    "local lk = 'acct:{' .. id .. '}:live'\n"
    "for _, s in ipairs(targets) do\n"
    "  if revoke_cert(s, id, ARGV[15], ARGV[13], implicit, '4') then\n"
    "    revoked[#revoked + 1] = s\n"
    "    more = more .. replay_pb(3, s)\n"
    "    redis.call('ZREM', 'certs:due', s)\n"
    "  end\n"
    "  redis.call('ZREM', lk, s)\n"
    "end\n"
    "replay_save(ARGV[17], ARGV[18], more)\n"
    "return revoked\n";

static void
acct_keys(const char *id, char k1[128], char k2[128], const char *keys[2])
{
	snprintf(k1, 128, "acct:{%s}", id);
	snprintf(k2, 128, "acct:{%s}:certs", id);
	keys[0] = k1;
	keys[1] = k2;
}

/* Runs body (with the prelude) with KEYS acct:{id}, acct:{id}:certs and argv. */
static mgr_err
run_account_script(const char *body, const char *id, struct ca_argv *a,
    const struct replay *rp, redisReply **out)
{
	char script[CA_LUA_MAX], k1[128], k2[128];
	const char *keys[2], *argv[70];
	size_t lens[70];

	if (ca_lua_script(body, script, sizeof(script)) == NULL || a->n > 60)
		return (MGR_EINTERNAL);
	acct_keys(id, k1, k2, keys);
	argv[0] = keys[0];
	argv[1] = keys[1];
	memcpy(argv + 2, a->v, (size_t)a->n * sizeof(a->v[0]));
	replay_argvlen(rp, a->n + 2, argv, lens);
	return (kv_eval(out, script, 2, a->n + 2, argv, lens));
}

static int
id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n >= MGR_ID_MAX)
		return (0);
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
		    (id[i] >= '0' && id[i] <= '9') || id[i] == '_' || id[i] == '-'))
			return (0);
	return (1);
}

/* DN held by someone else than holder? Checked again inside the scripts; this
 * only spares a signature. */
static mgr_err
dn_precheck(const char *dn_key, const char *holder)
{
	redisReply *r = NULL;
	mgr_err rv;

	if ((rv = kv_cmd(&r, "GET %s", dn_key)) != MGR_OK)
		return (rv);
	rv = r->type == REDIS_REPLY_STRING && strcmp(r->str, holder) != 0
	    ? MGR_ECONFLICT : MGR_OK;
	freeReplyObject(r);
	return (rv);
}

/* Sets rp up for call with the CertReply a commit records. */
static mgr_err
prepare_cert(struct rpc_call *call, struct replay *rp, Mgr__Ca__Certificate *c,
    int renewed)
{
	Mgr__Ca__CertReply rep = MGR__CA__CERT_REPLY__INIT;
	mgr_err rv;

	if (rp->reply == NULL && (rv = replay_init(rp, call)) != MGR_OK)
		return (rv);
	rep.certificate = c;
	rep.renewed = renewed;
	return (replay_prepare(rp, &rep.base));
}

static mgr_err
reply_cert(struct rpc_call *call, Mgr__Ca__Certificate *c, int renewed,
    char **revoked, size_t nrevoked)
{
	Mgr__Ca__CertReply rep = MGR__CA__CERT_REPLY__INIT;

	rep.certificate = c;
	rep.renewed = renewed;
	rep.revoked = revoked;
	rep.n_revoked = nrevoked;
	return (rpc_reply(call, &rep.base));
}

mgr_err
ca_h_register(struct rpc_call *call, void *arg)
{
	struct ca_state *ca = arg;
	Mgr__Ca__IssueRequest *req = NULL;
	struct ca_csr *csr = NULL;
	struct ca_issued iss;
	struct ca_argv av;
	Mgr__Ca__Certificate cm;
	redisReply *r = NULL;
	char holder[MGR_ID_MAX + 8], why[256], detail[128], cv[24];
	const char *target = "";
	struct replay rp = {.reply = NULL};
	int64_t now = mgr_now_s(), exp;
	mgr_err rv;

	memset(&iss, 0, sizeof(iss));
	why[0] = detail[0] = '\0';
	if (call->caller->kind != MGR__CALLER__KIND__TEMP)
		return (rpc_fail(call, MGR_EUNAUTH,
		    "registration takes the temporary credentials"));
	if ((rv = rpc_args(call, &mgr__ca__issue_request__descriptor,
	         (ProtobufCMessage **)&req)) != MGR_OK)
		return (rv);
	target = req->account_id;
	if (strcmp(req->account_id, call->caller->id) != 0) {
		rv = MGR_EPERM;
		snprintf(why, sizeof(why),
		    "the temporary credentials belong to another account");
		goto out;
	}
	if (!id_ok(req->account_id)) {
		rv = MGR_ENOTFOUND;
		snprintf(why, sizeof(why), "no such account");
		goto out;
	}
	if ((rv = ca_expiration(ca, req->has_expiration, req->expiration, now, &exp,
	         why, sizeof(why))) != MGR_OK ||
	    (rv = ca_csr_parse(req->csr_pem, &csr, why, sizeof(why))) != MGR_OK)
		goto out;
	snprintf(holder, sizeof(holder), "acct:%s", req->account_id);
	if ((rv = dn_precheck(csr->dn_key, holder)) != MGR_OK)
		goto out;
	if ((rv = ca_issue(ca, csr->spki_obj, csr->name, exp,
	         CA_PROFILE_CLIENT, &iss)) != MGR_OK)
		goto out;
	ca_issued_msg(&iss, &cm);
	if ((rv = prepare_cert(call, &rp, &cm, 0)) != MGR_OK)
		goto out;
	ca_argv_cert(&av, &iss, holder, req->account_id);
	snprintf(cv, sizeof(cv), "%llu", (unsigned long long)call->caller->cred_version);
	ca_argv_add(&av, cv);
	ca_argv_add(&av, rp.key);
	ca_argv_add(&av, (const char *)rp.reply);
	if ((rv = run_account_script(lua_register, req->account_id, &av, &rp, &r)) != MGR_OK)
		goto out;
	if (replay_signalled(r)) {
		/* Committed before (a replica died before answering): the
		 * certificate signed now is discarded, the first one answers. */
		snprintf(detail, sizeof(detail), "replayed");
		rv = replay_answer(&rp, call);
		goto out;
	}
	snprintf(detail, sizeof(detail), "serial %s", iss.serial);
	rv = reply_cert(call, &cm, 0, NULL, 0);
out:
	if (rv == MGR_ECONFLICT && why[0] == '\0')
		snprintf(why, sizeof(why), "the Subject DN is held by another account or device");
	if (rv == MGR_EUNAUTH && why[0] == '\0')
		snprintf(why, sizeof(why), "the temporary credentials are no longer valid");
	if (rv != MGR_OK)
		rpc_fail(call, rv, "%s", why[0] != '\0' ? why : mgr_strerror(rv));
	audit_log(call->request_id, call->caller, "certificate.register", target, rv,
	    rv == MGR_OK ? detail : why);
	replay_clear(&rp);
	if (r != NULL)
		freeReplyObject(r);
	ca_issued_clear(&iss);
	ca_csr_free(csr);
	mgr__ca__issue_request__free_unpacked(req, NULL);
	return (rv);
}

/* KEYS acct:{id}:certs; ARGV now, account id. Returns {last issued serial
 * or "", the record of the newest valid certificate (or nothing)}. The
 * newest valid one is almost always the last issued, so the newest 16 are
 * looked at first; only when none of those is valid, the account's valid
 * certificates from acct:{id}:live (index.h), the newest issued of them:
 * O(valid certificates), never the account's whole history. */
static const char lua_newest_valid[] =
    CA_LUA_LIVE
    "local function scan(a, b)\n"
    "  local ss = redis.call('ZREVRANGE', KEYS[1], a, b)\n"
    "  for _, s in ipairs(ss) do\n"
    "    local r = redis.call('HMGET', 'cert:' .. s, 'serial', 'holder',\n"
    "      'account_id', 'subject', 'pem', 'spki', 'not_before', 'not_after',\n"
    "      'revoked_at', 'issued_at')\n"
    "    if r[1] and (not r[9] or r[9] == '') and tonumber(r[8]) > tonumber(ARGV[1]) then\n"
    "      return ss, r end\n"
    "  end\n"
    "  return ss, nil\n"
    "end\n"
    "local ss, r = scan(0, 15)\n"
    "local last = ss[1] or ''\n"
    "if not r and #ss == 16 then\n"
    "  local best, bs = nil, nil\n"
    "  for _, s in ipairs(live_valid(ARGV[2], ARGV[1])) do\n"
    "    local sc = tonumber(redis.call('ZSCORE', KEYS[1], s))\n"
    "    local c = redis.call('HMGET', 'cert:' .. s, 'revoked_at', 'not_after')\n"
    "    if sc and (not bs or sc > bs) and (not c[1] or c[1] == '') and\n"
    "        tonumber(c[2]) and tonumber(c[2]) > tonumber(ARGV[1]) then\n"
    "      best, bs = s, sc end\n"
    "  end\n"
    "  if best then r = redis.call('HMGET', 'cert:' .. best, 'serial', 'holder',\n"
    "    'account_id', 'subject', 'pem', 'spki', 'not_before', 'not_after',\n"
    "    'revoked_at', 'issued_at') end\n"
    "end\n"
    "if r then return {last, {r}} end\n"
    "return {last, {}}\n";

/* The newest valid certificate of an account (*n 0 if none) and the serial
 * issued last (for the renewal script's check that nothing changed). */
static mgr_err
newest_valid(const char *account_id, int64_t now, struct ca_record **rec,
    size_t *n, char *last, size_t lastlen)
{
	char key[MGR_ID_MAX + 16], nowbuf[24];
	const char *argv[3];
	redisReply *r = NULL;
	mgr_err rv;

	snprintf(key, sizeof(key), "acct:{%s}:certs", account_id);
	snprintf(nowbuf, sizeof(nowbuf), "%lld", (long long)now);
	argv[0] = key;
	argv[1] = nowbuf;
	argv[2] = account_id;
	if ((rv = kv_eval(&r, lua_newest_valid, 1, 3, argv, NULL)) != MGR_OK)
		return (rv);
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	snprintf(last, lastlen, "%s", r->element[0]->str);
	rv = ca_records_from_reply(r->element[1], rec, n);
out:
	freeReplyObject(r);
	return (rv);
}

static mgr_err
app_caller(struct rpc_call *call, const char *account_id, char *why, size_t whylen)
{
	if (call->caller->kind != MGR__CALLER__KIND__APP) {
		snprintf(why, whylen, "this operation takes a client certificate");
		return (MGR_EUNAUTH);
	}
	if (strcmp(account_id, call->caller->id) != 0) {
		snprintf(why, whylen, "a certificate may act only on its own account");
		return (MGR_EPERM);
	}
	return (MGR_OK);
}

mgr_err
ca_h_renew(struct rpc_call *call, void *arg)
{
	struct ca_state *ca = arg;
	Mgr__Ca__RenewRequest *req = NULL;
	struct ca_record *recs = NULL;
	size_t nrecs = 0;
	struct ca_issued iss;
	struct ca_argv av;
	Mgr__Ca__Certificate cm;
	redisReply *r = NULL;
	BIO *b = NULL;
	X509 *old = NULL;
	X509_NAME *old_subject = NULL;
	X509_PUBKEY *old_spki = NULL;
	char holder[MGR_ID_MAX + 8], why[256], detail[160], last[64];
	const char *target = "";
	struct replay rp = {.reply = NULL};
	int64_t now, exp = 0;
	int renewed = 0, hit = 0;
	mgr_err rv;

	memset(&iss, 0, sizeof(iss));
	why[0] = detail[0] = '\0';
	if ((rv = rpc_args(call, &mgr__ca__renew_request__descriptor,
	         (ProtobufCMessage **)&req)) != MGR_OK)
		return (rv);
	target = req->account_id;
	if ((rv = app_caller(call, req->account_id, why, sizeof(why))) != MGR_OK)
		goto out;
	/* A replay must not find the certificate it renewed and answer "not
	 * needed": look for the record first. */
	if ((rv = replay_init(&rp, call)) != MGR_OK ||
	    (rv = replay_lookup(&rp, call, &hit)) != MGR_OK)
		goto out;
	if (hit) {
		snprintf(detail, sizeof(detail), "replayed");
		goto out;
	}
	snprintf(holder, sizeof(holder), "acct:%s", req->account_id);
	for (int tries = 0; tries < RENEW_TRIES; tries++) {
		now = mgr_now_s();
		if ((rv = ca_expiration(ca, req->has_expiration, req->expiration, now,
		         &exp, why, sizeof(why))) != MGR_OK)
			goto out;
		ca_records_free(recs, nrecs);
		recs = NULL;
		nrecs = 0;
		if ((rv = newest_valid(req->account_id, now, &recs, &nrecs, last,
		         sizeof(last))) != MGR_OK)
			goto out;
		if (nrecs == 0) {
			rv = MGR_EUNAUTH;
			snprintf(why, sizeof(why), "the account has no valid certificate");
			goto out;
		}
		if (req->has_expiration ? recs[0].not_after >= exp
		    : recs[0].not_after > now + ca->cfg->expiry_notice_days * 86400) {
			ca_record_msg(&recs[0], now, &cm);
			snprintf(detail, sizeof(detail), "not needed, serial %s",
			    recs[0].serial);
			rv = reply_cert(call, &cm, 0, NULL, 0);
			goto out;
		}
		BIO_free(b);
		b = NULL;
		X509_free(old);
		old = NULL;
		X509_NAME_free(old_subject);
		old_subject = NULL;
		X509_PUBKEY_free(old_spki);
		old_spki = NULL;
		ca_issued_clear(&iss);
		/* The old certificate's subject and key as they are, without
		 * decoding the key; PEM_read_bio_X509 only if that fails. */
		if (ca_pem_subject_spki(recs[0].pem, &old_subject, &old_spki) == MGR_OK) {
			rv = ca_issue(ca, old_spki, old_subject, exp,
			    CA_PROFILE_CLIENT, &iss);
		} else if ((b = BIO_new_mem_buf(recs[0].pem, -1)) == NULL ||
		    (old = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL) {
			rv = MGR_EINTERNAL;
		} else {
			rv = ca_issue(ca, X509_get_X509_PUBKEY(old),
			    X509_get_subject_name(old), exp, CA_PROFILE_CLIENT, &iss);
		}
		if (rv != MGR_OK)
			goto out;
		ca_issued_msg(&iss, &cm);
		if ((rv = prepare_cert(call, &rp, &cm, 1)) != MGR_OK)
			goto out;
		ca_argv_cert(&av, &iss, holder, req->account_id);
		ca_argv_add(&av, recs[0].serial);
		ca_argv_add_i64(&av, now);
		ca_argv_add(&av, last);
		ca_argv_add(&av, rp.key);
		ca_argv_add(&av, (const char *)rp.reply);
		if (r != NULL)
			freeReplyObject(r);
		r = NULL;
		if ((rv = run_account_script(lua_renew, req->account_id, &av, &rp, &r)) != MGR_OK)
			goto out;
		if (replay_signalled(r)) {
			snprintf(detail, sizeof(detail), "replayed");
			rv = replay_answer(&rp, call);
			goto out;
		}
		if (r->type == REDIS_REPLY_INTEGER && r->integer == 1) {
			renewed = 1;
			break;
		}
	}
	if (!renewed) {
		rv = MGR_ECONFLICT;
		snprintf(why, sizeof(why), "the certificates changed meanwhile; retry");
		goto out;
	}
	ca_issued_msg(&iss, &cm);
	snprintf(detail, sizeof(detail), "serial %s renews %s", iss.serial,
	    recs[0].serial);
	rv = reply_cert(call, &cm, 1, NULL, 0);
out:
	ERR_clear_error();
	if (rv != MGR_OK)
		rpc_fail(call, rv, "%s", why[0] != '\0' ? why : mgr_strerror(rv));
	audit_log(call->request_id, call->caller, "certificate.renew", target, rv,
	    rv == MGR_OK ? detail : why);
	replay_clear(&rp);
	if (r != NULL)
		freeReplyObject(r);
	BIO_free(b);
	X509_free(old);
	X509_NAME_free(old_subject);
	X509_PUBKEY_free(old_spki);
	ca_issued_clear(&iss);
	ca_records_free(recs, nrecs);
	mgr__ca__renew_request__free_unpacked(req, NULL);
	return (rv);
}

static int
serial_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return (0);
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return (0);
	return (1);
}

/* The pre-checks of a rotation against what is stored (the script checks
 * them again atomically; these give the precise reason and spare a
 * signature): the key must be new, the serials to revoke the account's. */
static mgr_err
rotate_precheck(const Mgr__Ca__IssueRequest *req, const struct ca_csr *csr,
    char *why, size_t whylen)
{
	char key[MGR_ID_MAX + 16];
	redisReply *r = NULL;
	mgr_err rv;

	if ((rv = kv_cmd(&r, "GET spki:%s", csr->spki)) != MGR_OK)
		return (rv);
	if (r->type == REDIS_REPLY_STRING) {
		snprintf(why, whylen, "the CSR's public key is the key of certificate "
		    "%.64s; rotation needs a new key", r->str);
		rv = MGR_EINVAL;
		goto out;
	}
	snprintf(key, sizeof(key), "acct:{%s}:certs", req->account_id);
	for (size_t j = 0; req->has_revoke && j < req->n_revoke; j++) {
		freeReplyObject(r);
		r = NULL;
		if ((rv = kv_cmd(&r, "ZSCORE %s %s", key, req->revoke[j])) != MGR_OK)
			return (rv);
		if (r->type == REDIS_REPLY_NIL) {
			snprintf(why, whylen, "serial %s is not a certificate of this "
			    "account", req->revoke[j]);
			rv = MGR_EINVAL;
			goto out;
		}
	}
	rv = MGR_OK;
out:
	if (r != NULL)
		freeReplyObject(r);
	return (rv);
}

mgr_err
ca_h_rotate(struct rpc_call *call, void *arg)
{
	struct ca_state *ca = arg;
	Mgr__Ca__IssueRequest *req = NULL;
	struct ca_csr *csr = NULL;
	struct ca_issued iss;
	struct ca_argv av;
	Mgr__Ca__Certificate cm;
	redisReply *r = NULL;
	char holder[MGR_ID_MAX + 8], why[256], detail[128];
	char **revoked = NULL;
	size_t nrevoked = 0;
	const char *target = "";
	struct replay rp = {.reply = NULL};
	int64_t now = mgr_now_s(), exp;
	int hit = 0;
	mgr_err rv;

	memset(&iss, 0, sizeof(iss));
	why[0] = detail[0] = '\0';
	if ((rv = rpc_args(call, &mgr__ca__issue_request__descriptor,
	         (ProtobufCMessage **)&req)) != MGR_OK)
		return (rv);
	target = req->account_id;
	if ((rv = app_caller(call, req->account_id, why, sizeof(why))) != MGR_OK)
		goto out;
	/* A replay's key is certified now (the pre-checks refuse it): look for
	 * the record first. */
	if ((rv = replay_init(&rp, call)) != MGR_OK ||
	    (rv = replay_lookup(&rp, call, &hit)) != MGR_OK)
		goto out;
	if (hit) {
		snprintf(detail, sizeof(detail), "replayed");
		goto out;
	}
	rv = MGR_EINVAL;
	if (req->has_revoke && req->n_revoke > CA_REVOKE_MAX) {
		snprintf(why, sizeof(why), "revoke lists at most %d serials", CA_REVOKE_MAX);
		goto out;
	}
	for (size_t i = 0; req->has_revoke && i < req->n_revoke; i++) {
		/* What openssl prints (upper case) names the same serial. */
		for (char *c = req->revoke[i]; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'F')
				*c = (char)(*c + 32);
		if (!serial_ok(req->revoke[i])) {
			snprintf(why, sizeof(why), "revoke: a serial is lowercase hex");
			goto out;
		}
	}
	if ((rv = ca_expiration(ca, req->has_expiration, req->expiration, now, &exp,
	         why, sizeof(why))) != MGR_OK ||
	    (rv = ca_csr_parse(req->csr_pem, &csr, why, sizeof(why))) != MGR_OK ||
	    (rv = rotate_precheck(req, csr, why, sizeof(why))) != MGR_OK)
		goto out;
	snprintf(holder, sizeof(holder), "acct:%s", req->account_id);
	if ((rv = dn_precheck(csr->dn_key, holder)) != MGR_OK)
		goto out;
	if ((rv = ca_issue(ca, csr->spki_obj, csr->name, exp,
	         CA_PROFILE_CLIENT, &iss)) != MGR_OK)
		goto out;
	ca_issued_msg(&iss, &cm);
	if ((rv = prepare_cert(call, &rp, &cm, 0)) != MGR_OK)
		goto out;
	ca_argv_cert(&av, &iss, holder, req->account_id);
	ca_argv_add_i64(&av, now);
	ca_argv_add(&av, req->has_revoke ? "1" : "0");
	ca_argv_add(&av, rp.key);
	ca_argv_add(&av, (const char *)rp.reply);
	for (size_t i = 0; req->has_revoke && i < req->n_revoke; i++)
		ca_argv_add(&av, req->revoke[i]);
	if ((rv = run_account_script(lua_rotate, req->account_id, &av, &rp, &r)) != MGR_OK) {
		if (rv == MGR_EINVAL)
			snprintf(why, sizeof(why), "the CSR's key or the revoke list "
			    "no longer fits the account's certificates");
		goto out;
	}
	if (replay_signalled(r)) {
		snprintf(detail, sizeof(detail), "replayed");
		rv = replay_answer(&rp, call);
		goto out;
	}
	if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
		if ((revoked = calloc(r->elements, sizeof(*revoked))) == NULL) {
			rv = MGR_ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < r->elements; i++)
			if (r->element[i]->type == REDIS_REPLY_STRING)
				revoked[nrevoked++] = r->element[i]->str;
	}
	/* The CRL is not rebuilt here: its next read does (crl.c, crl:gen
	 * moved), so that a rotation does not pay for signing a CRL of every
	 * revoked unexpired certificate of every account. */
	for (size_t i = 0; i < nrevoked; i++)
		audit_log(call->request_id, call->caller, "certificate.revoke", target,
		    MGR_OK, revoked[i]);
	snprintf(detail, sizeof(detail), "serial %s, %zu revoked", iss.serial, nrevoked);
	rv = reply_cert(call, &cm, 0, revoked, nrevoked);
out:
	if (rv != MGR_OK && !hit && (rv = replay_rescue(&rp, call, rv)) == MGR_OK)
		snprintf(detail, sizeof(detail), "replayed");
	if (rv == MGR_ECONFLICT && why[0] == '\0')
		snprintf(why, sizeof(why), "the Subject DN is held by another account or device");
	if (rv != MGR_OK)
		rpc_fail(call, rv, "%s", why[0] != '\0' ? why : mgr_strerror(rv));
	audit_log(call->request_id, call->caller, "certificate.rotate", target, rv,
	    rv == MGR_OK ? detail : why);
	replay_clear(&rp);
	free(revoked);
	if (r != NULL)
		freeReplyObject(r);
	ca_issued_clear(&iss);
	ca_csr_free(csr);
	mgr__ca__issue_request__free_unpacked(req, NULL);
	return (rv);
}

/* KEYS acct:{id}:certs; ARGV after, limit. Returns {next cursor or "",
 * records (10-field HMGET arrays)}: one page of common/page.h, oldest
 * first. */
static const char lua_list_page[] =
    MGR_PAGE_LUA
    "local ids, nxt = page_ids(KEYS[1], ARGV[1], tonumber(ARGV[2]))\n"
    "if not ids then return " MGR_PAGE_LUA_BAD " end\n"
    "local out = {}\n"
    "for _, s in ipairs(ids) do\n"
    "  local r = redis.call('HMGET', 'cert:' .. s, 'serial', 'holder',\n"
    "    'account_id', 'subject', 'pem', 'spki', 'not_before', 'not_after',\n"
    "    'revoked_at', 'issued_at')\n"
    "  if r[1] then out[#out + 1] = r end\n"
    "end\n"
    "return {nxt, out}\n";

/* One page of an account's records; *next is the cursor ("" at the end,
 * caller frees). */
static mgr_err
records_page(const char *account_id, const char *after, uint32_t limit,
    struct ca_record **out, size_t *n, char **next)
{
	char key[MGR_ID_MAX + 16], lim[16];
	const char *argv[3];
	redisReply *r = NULL;
	char *nx = NULL;
	mgr_err rv;

	snprintf(key, sizeof(key), "acct:{%s}:certs", account_id);
	snprintf(lim, sizeof(lim), "%u", limit);
	argv[0] = key;
	argv[1] = after;
	argv[2] = lim;
	if ((rv = kv_eval(&r, lua_list_page, 1, 3, argv, NULL)) != MGR_OK)
		return (rv);
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING) {
		rv = MGR_EINTERNAL;
		goto out;
	}
	if ((nx = strdup(r->element[0]->str)) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	if ((rv = ca_records_from_reply(r->element[1], out, n)) != MGR_OK)
		goto out;
	*next = nx;
	nx = NULL;
out:
	free(nx);
	freeReplyObject(r);
	return (rv);
}

mgr_err
ca_h_list_certs(struct rpc_call *call, void *arg)
{
	Mgr__Ca__ListCertsRequest *req = NULL;
	Mgr__Ca__ListCertsReply rep = MGR__CA__LIST_CERTS_REPLY__INIT;
	Mgr__Ca__Certificate *cms = NULL, **ptrs = NULL;
	struct ca_record *recs = NULL;
	size_t n = 0;
	redisReply *r = NULL;
	char why[160], key[MGR_ID_MAX + 16], *next = NULL;
	int64_t now = mgr_now_s();
	uint32_t limit;
	mgr_err rv;

	(void)arg;
	why[0] = '\0';
	if ((rv = rpc_args(call, &mgr__ca__list_certs_request__descriptor,
	         (ProtobufCMessage **)&req)) != MGR_OK)
		return (rv);
	if (call->caller->kind == MGR__CALLER__KIND__APP) {
		if ((rv = app_caller(call, req->account_id, why, sizeof(why))) != MGR_OK)
			goto out;
	} else if (call->caller->kind != MGR__CALLER__KIND__ADMIN) {
		rv = MGR_EUNAUTH;
		goto out;
	}
	if (!id_ok(req->account_id)) {
		rv = MGR_ENOTFOUND;
		goto out;
	}
	snprintf(key, sizeof(key), "acct:{%s}", req->account_id);
	if ((rv = kv_cmd(&r, "EXISTS %s", key)) != MGR_OK)
		goto out;
	if (r->type != REDIS_REPLY_INTEGER || r->integer != 1) {
		rv = MGR_ENOTFOUND;
		snprintf(why, sizeof(why), "no such account");
		goto out;
	}
	limit = req->limit == 0 || req->limit > CA_LIST_MAX ? CA_LIST_MAX : req->limit;
	if (strlen(req->after) > 128) {
		rv = MGR_EINVAL;
		snprintf(why, sizeof(why), "\"after\" is not a cursor of this listing");
		goto out;
	}
	if ((rv = records_page(req->account_id, req->after, limit, &recs, &n,
	         &next)) != MGR_OK) {
		if (rv == MGR_EINVAL)
			snprintf(why, sizeof(why), "\"after\" is not a cursor of "
			    "this listing");
		goto out;
	}
	if (n > 0 && ((cms = calloc(n, sizeof(*cms))) == NULL ||
	    (ptrs = calloc(n, sizeof(*ptrs))) == NULL)) {
		rv = MGR_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		ca_record_msg(&recs[i], now, &cms[i]);
		ptrs[i] = &cms[i];
	}
	rep.certificates = ptrs;
	rep.n_certificates = n;
	rep.next_after = next;
	rv = rpc_reply(call, &rep.base);
out:
	if (rv != MGR_OK)
		rpc_fail(call, rv, "%s", why[0] != '\0' ? why : mgr_strerror(rv));
	if (r != NULL)
		freeReplyObject(r);
	free(cms);
	free(ptrs);
	free(next);
	ca_records_free(recs, n);
	mgr__ca__list_certs_request__free_unpacked(req, NULL);
	return (rv);
}
