/* Start of account-svc: the knobs, and the first administrator.
 *
 * admin:admin is created on first start with MANAGER_ADMIN_PASSWORD or, when
 * that is unset, with a random password written once to
 * $MANAGER_DATA_DIR/admin-password (mode 0600; the password is never logged).
 * When MANAGER_ADMIN_PASSWORD is set and no longer matches the stored hash,
 * the stored password is reset to it (that is how an operator recovers a
 * lost admin password), and the reset also lifts the global lockout of
 * "admin" (per-address lockouts end by themselves) — unless "admin" changed
 * its password through PUT /api/v1/admins/admin/password since: a password
 * rotated because the old one leaked must not come back with the next
 * restart of a deployment that still carries the old variable. Then the
 * variable is ignored with a warning, and MANAGER_ADMIN_PASSWORD_RESET=1
 * forces the reset (recovery of a lost rotated password).
 * Several replicas may start at once: creation is "create if absent" and the
 * reset is a compare-and-set on the old hash, both in Lua, so one wins and the
 * others see its result. */
#include "services/account/account.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/audit.h"
#include "common/kv.h"
#include "common/log.h"
#include "common/util.h"
#include "services/account/password.h"

#define ADMIN_KEY "admin:" ACCT_ADMIN_BOOTSTRAP
#define ADMIN_LOCK_KEY "lockout:admin:" ACCT_ADMIN_BOOTSTRAP
#define ADMIN_PW_FILE "admin-password"

/* KEYS[1] admin:<u>; ARGV username, pwhash, created_at. 1 if created.
 * The first administrator is a super_user, listed in admin:all. */
/* clang-format off */
static const char lua_create_if_absent[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'username', ARGV[1], 'pwhash', ARGV[2],"
    " 'created_at', ARGV[3], 'role', '" ACCT_ADMIN_SUPER_USER "')\n"
    "redis.call('ZADD', 'admin:all', tonumber(ARGV[3]) * 1000, ARGV[1])\n"
    "return 1\n";
/* clang-format on */

/* A first administrator made before roles existed: a super_user, listed. */
/* clang-format off */
static const char lua_upgrade[] =
    "local h = redis.call('HMGET', KEYS[1], 'pwhash', 'role', 'created_at')\n"
    "if not h[1] then return 0 end\n"
    "if not h[2] or h[2] == '' then\n"
    "  redis.call('HSET', KEYS[1], 'role', '" ACCT_ADMIN_SUPER_USER "') end\n"
    "redis.call('ZADD', 'admin:all', 'NX', tonumber(h[3] or '0') * 1000, ARGV[1])\n"
    "return 1\n";
/* clang-format on */

/* KEYS[1] admin:<u>, KEYS[2] its lockout key; ARGV old hash, new hash,
 * "1" to reset also a password the administrator chose through the API
 * (MANAGER_ADMIN_PASSWORD_RESET=1). -1 when it was so chosen and is kept. */
static const char lua_reset_if_unchanged[] =
    "if redis.call('HGET', KEYS[1], 'pwhash') ~= ARGV[1] then return 0 end\n"
    "if ARGV[3] ~= '1' and redis.call('HGET', KEYS[1], 'pw_set_by') == 'api' then\n"
    "  return -1 end\n"
    "redis.call('HSET', KEYS[1], 'pwhash', ARGV[2])\n"
    "redis.call('HDEL', KEYS[1], 'pw_set_by')\n"
    "redis.call('DEL', KEYS[2])\n"
    "return 1\n";

static const Mgr__Caller *
admin_self(void)
{
	static Mgr__Caller me = MGR__CALLER__INIT;

	me.kind = MGR__CALLER__KIND__SERVICE;
	me.id = (char *)"account-svc";
	return (&me);
}

/* Runs a script with keys k1 (and k2) and three args; *created = integer. */
static mgr_err
admin_eval(const char *script, const char *k1, const char *k2, const char *a1,
    const char *a2, const char *a3, long long *result)
{
	const char *argv[5];
	int nkeys = k2 != NULL ? 2 : 1, argc = 0;
	redisReply *r;
	mgr_err rv;

	argv[argc++] = k1;
	if (k2 != NULL)
		argv[argc++] = k2;
	argv[argc++] = a1;
	argv[argc++] = a2;
	if (a3 != NULL)
		argv[argc++] = a3;
	if ((rv = kv_eval(&r, script, nkeys, argc, argv, NULL)) != MGR_OK)
		return (rv);
	*result = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
	freeReplyObject(r);
	return (MGR_OK);
}

/* The stored hash of admin:admin into out ("" when there is none). */
static mgr_err
admin_stored(char *out, size_t outlen)
{
	redisReply *r;
	mgr_err rv;

	if ((rv = kv_cmd(&r, "HGET %s pwhash", ADMIN_KEY)) != MGR_OK)
		return (rv);
	if (r->type == REDIS_REPLY_STRING && (size_t)r->len < outlen)
		snprintf(out, outlen, "%s", r->str);
	else
		out[0] = '\0';
	freeReplyObject(r);
	return (MGR_OK);
}

/* MANAGER_ADMIN_PASSWORD set: create admin, or reset it to the env value. */
static mgr_err
admin_from_env(const char *pw)
{
	char stored[ACCT_PWHASH_MAX], fresh[ACCT_PWHASH_MAX], now[32];
	long long done = 0;
	mgr_err rv;

	for (int attempt = 0; attempt < 5; attempt++) {
		if ((rv = admin_stored(stored, sizeof(stored))) != MGR_OK)
			return (rv);
		if (stored[0] != '\0' && acct_pw_verify(pw, stored) == MGR_OK)
			return (MGR_OK);
		if ((rv = acct_pw_hash(pw, fresh, sizeof(fresh))) != MGR_OK)
			return (rv);
		if (stored[0] == '\0') {
			snprintf(now, sizeof(now), "%lld", (long long)mgr_now_s());
			rv = admin_eval(lua_create_if_absent, ADMIN_KEY, NULL,
			    ACCT_ADMIN_BOOTSTRAP, fresh, now, &done);
			if (rv == MGR_OK && done) {
				log_info(NULL,
				    "administrator \"admin\" created with the "
				    "password from MANAGER_ADMIN_PASSWORD");
				audit_log(NULL, admin_self(), "admin.create",
				    ACCT_ADMIN_BOOTSTRAP, MGR_OK,
				    "from MANAGER_ADMIN_PASSWORD");
			}
		} else {
			const char *force = getenv("MANAGER_ADMIN_PASSWORD_RESET");

			rv = admin_eval(lua_reset_if_unchanged, ADMIN_KEY, ADMIN_LOCK_KEY,
			    stored, fresh,
			    force != NULL && strcmp(force, "1") == 0 ? "1" : "0", &done);
			if (rv == MGR_OK && done < 0) {
				log_warn(NULL,
				    "MANAGER_ADMIN_PASSWORD ignored: \"admin\" "
				    "changed its password through the API since (unset it, or "
				    "set MANAGER_ADMIN_PASSWORD_RESET=1 to reset it anyway)");
				return (MGR_OK);
			}
			if (rv == MGR_OK && done) {
				log_info(NULL,
				    "administrator \"admin\": password reset to "
				    "MANAGER_ADMIN_PASSWORD");
				audit_log(NULL, admin_self(), "admin.set_password",
				    ACCT_ADMIN_BOOTSTRAP, MGR_OK,
				    "reset to MANAGER_ADMIN_PASSWORD");
			}
		}
		if (rv != MGR_OK || done)
			return (rv);
		/* Another replica changed it meanwhile: look again. */
	}
	return (MGR_EUNAVAIL);
}

/* Writes pw to a new file of mode 0600 (created, never opened if present). */
static mgr_err
admin_write_file(const char *path, const char *pw)
{
	size_t n = strlen(pw), off = 0;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return (MGR_EINTERNAL);
	while (off < n) {
		ssize_t w = write(fd, pw + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			unlink(path);
			return (MGR_EINTERNAL);
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		unlink(path);
		return (MGR_EINTERNAL);
	}
	return (MGR_OK);
}

/* MANAGER_ADMIN_PASSWORD unset: create admin with a random password once.
 * The password goes to a private temp file first, so that it is on disk
 * before Redis holds its hash; the winner of the creation renames it into
 * place, a loser removes it. */
static mgr_err
admin_generated(const struct mgr_config *cfg)
{
	char pw[33], fresh[ACCT_PWHASH_MAX], now[32], path[MGR_PATH_MAX],
	    tmp[MGR_PATH_MAX + 64], tag[17];
	redisReply *r;
	long long done = 0;
	mgr_err rv;

	if ((rv = kv_cmd(&r, "EXISTS %s", ADMIN_KEY)) != MGR_OK)
		return (rv);
	done = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	if (done)
		return (MGR_OK);
	if ((rv = mgr_config_path(cfg, ADMIN_PW_FILE, path, sizeof(path))) != MGR_OK ||
	    (rv = mgr_random_hex(16, pw, sizeof(pw))) != MGR_OK ||
	    (rv = mgr_random_hex(8, tag, sizeof(tag))) != MGR_OK)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s.%s.tmp", path, tag);
	if ((rv = acct_pw_hash(pw, fresh, sizeof(fresh))) != MGR_OK)
		goto out;
	if ((rv = admin_write_file(tmp, pw)) != MGR_OK) {
		log_error(NULL, "cannot write %s", tmp);
		goto out;
	}
	snprintf(now, sizeof(now), "%lld", (long long)mgr_now_s());
	rv = admin_eval(lua_create_if_absent, ADMIN_KEY, NULL, ACCT_ADMIN_BOOTSTRAP,
	    fresh, now, &done);
	if (rv != MGR_OK || !done) {
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		log_error(NULL,
		    "cannot rename %s to %s; the admin password is in "
		    "the former",
		    tmp, path);
		rv = MGR_EINTERNAL;
		goto out;
	}
	log_info(NULL, "administrator \"admin\" created; its password is in %s", path);
	audit_log(NULL, admin_self(), "admin.create", ACCT_ADMIN_BOOTSTRAP, MGR_OK,
	    "generated password written to the data directory");
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	return (rv);
}

static mgr_err
env_knob(const char *name, int64_t def, int64_t lo, int64_t hi, int64_t *out)
{
	const char *v = getenv(name);
	int64_t n;

	if (v == NULL || *v == '\0') {
		*out = def;
		return (MGR_OK);
	}
	if (mgr_parse_i64(v, &n) != MGR_OK || n < lo || n > hi) {
		log_error(NULL, "%s must be a number from %lld to %lld", name,
		    (long long)lo, (long long)hi);
		return (MGR_EINVAL);
	}
	*out = n;
	return (MGR_OK);
}

mgr_err
acct_start(const struct mgr_config *cfg, void **state)
{
	struct acct_state *st;
	mgr_err rv;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return (MGR_ENOMEM);
	st->cfg = *cfg;
	if ((rv = env_knob("MANAGER_LOGIN_MAX_FAILURES", 5, 1, 1000,
	         &st->max_failures)) != MGR_OK ||
	    (rv = env_knob("MANAGER_LOCKOUT_S", 300, 1, 86400 * 30, &st->lockout_s)) !=
	        MGR_OK ||
	    (rv = env_knob("MANAGER_LOGIN_GLOBAL_MAX_FAILURES", 100, 1, 1000000,
	         &st->global_max_failures)) != MGR_OK ||
	    (rv = env_knob("MANAGER_LOGIN_GLOBAL_WINDOW_S", 3600, 1, 86400 * 30,
	         &st->global_window_s)) != MGR_OK ||
	    (rv = env_knob("MANAGER_PW_HASH_SLOTS", ACCT_PW_SLOTS_DEFAULT, 1, 256,
	         &st->pw_hash_slots)) != MGR_OK)
		goto out;
	acct_pw_set_slots((int)st->pw_hash_slots);
	/* Redis may come up a little after us (a pod starting): wait a while. */
	for (int i = 0; i < 30; i++) {
		rv = cfg->admin_password[0] != '\0' ? admin_from_env(cfg->admin_password)
		                                    : admin_generated(cfg);
		if (rv != MGR_EUNAVAIL)
			break;
		log_warn(NULL, "Redis unavailable; retrying the admin bootstrap");
		sleep(1);
	}
	if (rv == MGR_OK) {
		const char *argv[2] = {ADMIN_KEY, ACCT_ADMIN_BOOTSTRAP};
		redisReply *r;

		if ((rv = kv_eval(&r, lua_upgrade, 1, 2, argv, NULL)) == MGR_OK)
			freeReplyObject(r);
	}
	if (rv != MGR_OK) {
		log_error(NULL, "admin bootstrap failed: %s", mgr_strerror(rv));
		goto out;
	}
	*state = st;
	st = NULL;
out:
	free(st);
	return (rv);
}

void
acct_stop(void *state)
{
	free(state);
}
