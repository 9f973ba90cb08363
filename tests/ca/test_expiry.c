/* The expiry scanner against a private Redis, with the clock under the
 * test's control: thresholds at their exact boundaries, a certificate's
 * whole life, superseded_by, skipped certificates, paging over many equal
 * expiry times, and several scanners racing (exactly once). */
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/kv.h"
#include "common/util.h"
#include "services/ca/expiry.h"

#define DAY 86400LL
#define T0 1900000000LL /* 2030-03-17: the scans' "now" */

static int fails, passes;
static pid_t redis_pid = -1;

#define CHECK(cond, ...) \
	do { \
		if (cond) { \
			passes++; \
		} else { \
			fails++; \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
		} \
	} while (0)

/* The private Redis listens on a unix socket only, in a 0700 directory of
 * its own (mkdtemp), and wants a password: the kv client's unix:// and AUTH
 * paths, as a stack closed to strangers uses them. */
static char redis_dir[64];

static int
redis_start(void)
{
	char sock[128], conf[128], url[256], pw[33];
	FILE *f;

	snprintf(redis_dir, sizeof(redis_dir), "%s", "/tmp/mgr-test-expiry.XXXXXX");
	if (mkdtemp(redis_dir) == NULL) {
		redis_dir[0] = '\0';
		return (-1);
	}
	if (mgr_random_hex(16, pw, sizeof(pw)) != MGR_OK)
		return (-1);
	snprintf(sock, sizeof(sock), "%s/redis.sock", redis_dir);
	snprintf(conf, sizeof(conf), "%s/redis.conf", redis_dir);
	/* The password in a file, not on a command line that ps shows. */
	if ((f = fopen(conf, "w")) == NULL)
		return (-1);
	fprintf(f, "requirepass %s\n", pw);
	fclose(f);
	if ((redis_pid = fork()) == 0) {
		execlp("redis-server", "redis-server", conf, "--port", "0",
		    "--unixsocket", sock, "--unixsocketperm", "700", "--save", "",
		    "--appendonly", "no", "--logfile", "/dev/null", (char *)NULL);
		_exit(127);
	}
	if (redis_pid < 0)
		return (-1);
	snprintf(url, sizeof(url), "unix://%s?db=0&password=%s", sock, pw);
	if (kv_init(url) != MGR_OK)
		return (-1);
	for (int i = 0; i < 100; i++) {
		redisContext *c = NULL;

		if (kv_connect(500, &c) == MGR_OK) {
			redisFree(c);
			return (0);
		}
		usleep(100000);
	}
	return (-1);
}

static void
redis_stop(void)
{
	char p[128];

	if (redis_pid > 0) {
		kill(redis_pid, SIGTERM);
		waitpid(redis_pid, NULL, 0);
	}
	if (redis_dir[0] != '\0') {
		snprintf(p, sizeof(p), "%s/redis.sock", redis_dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/redis.conf", redis_dir);
		unlink(p);
		rmdir(redis_dir);
	}
}

static void cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
cmd(const char *fmt, ...)
{
	redisContext *c;
	redisReply *r;
	va_list ap;

	if (kv_ctx(&c) != MGR_OK) {
		fprintf(stderr, "no Redis\n");
		exit(1);
	}
	va_start(ap, fmt);
	r = redisvCommand(c, fmt, ap);
	va_end(ap);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		fprintf(stderr, "redis: %s\n", r != NULL ? r->str : "gone");
		exit(1);
	}
	freeReplyObject(r);
}

static long long
num(const char *fmt, const char *arg)
{
	redisReply *r;
	long long n = -1;

	if (kv_cmd(&r, fmt, arg) != MGR_OK)
		return (-1);
	if (r->type == REDIS_REPLY_INTEGER)
		n = r->integer;
	freeReplyObject(r);
	return (n);
}

static int
indexed(const char *serial)
{
	redisReply *r;
	int in = 1;

	if (kv_cmd(&r, "ZSCORE certs:expiry %s", serial) == MGR_OK) {
		in = r->type != REDIS_REPLY_NIL;
		freeReplyObject(r);
	}
	return (in);
}

/* Is member in zset key? */
static int
in_zset(const char *key, const char *member)
{
	redisReply *r;
	int in = 0;

	if (kv_cmd(&r, "ZSCORE %s %s", key, member) == MGR_OK) {
		in = r->type == REDIS_REPLY_STRING;
		freeReplyObject(r);
	}
	return (in);
}

static int seq;

/* A certificate record as registration writes it (common/keys.h). */
static void
seed(const char *serial, const char *acct, long long not_after, int revoked)
{
	seq++;
	cmd("HSET cert:%s serial %s holder %s%s account_id %s not_after %lld "
	    "revoked_at %s issued_at %lld",
	    serial, serial, acct[0] == 'd' ? "dev:" : "acct:", acct,
	    acct[0] == 'd' ? "" : acct, not_after, revoked ? "1" : "", T0 - 1000 + seq);
	if (acct[0] != 'd')
		cmd("ZADD acct:{%s}:certs %d %s", acct, seq, serial);
	if (!revoked)
		cmd("ZADD certs:expiry %lld %s", not_after, serial);
}

/* The account's events as "type/serial/days/superseded_by" lines. */
static void
events_of(const char *acct, char *out, size_t outlen)
{
	redisReply *r;
	size_t n = 0;

	out[0] = '\0';
	if (kv_cmd(&r, "XRANGE ev:{%s} - +", acct) != MGR_OK)
		return;
	for (size_t i = 0; i < r->elements; i++) {
		redisReply *f = r->element[i]->element[1];
		const char *type = "", *data = "{}";
		json_t *d;

		for (size_t j = 0; j + 1 < f->elements; j += 2) {
			if (strcmp(f->element[j]->str, "type") == 0)
				type = f->element[j + 1]->str;
			if (strcmp(f->element[j]->str, "data") == 0)
				data = f->element[j + 1]->str;
		}
		d = json_loads(data, 0, NULL);
		n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0,
		    "%s/%s/%lld/%s ", type,
		    json_string_value(json_object_get(d, "serial")),
		    (long long)json_integer_value(json_object_get(d, "days")),
		    json_is_null(json_object_get(d, "superseded_by")) ? "null"
		        : json_string_value(json_object_get(d, "superseded_by")) != NULL
		        ? json_string_value(json_object_get(d, "superseded_by"))
		        : "-");
		json_decref(d);
	}
	freeReplyObject(r);
}

static void
scan(long long now, long long notice)
{
	struct ca_expiry_stats st;

	CHECK(ca_expiry_scan(now, notice, &st) == MGR_OK, "scan at %lld", now);
}

/* Each threshold at its boundary: "within" means not_after <= now + days. */
static void
test_boundaries(void)
{
	static const struct {
		const char *serial;
		long long not_after;
		const char *want;
	} cases[] = {
	    {"b1", T0 + 30 * DAY + 1, ""},
	    {"b2", T0 + 30 * DAY, "certificate.expiring/b2/30/null "},
	    {"b3", T0 + 15 * DAY + 1, "certificate.expiring/b3/30/null "},
	    {"b4", T0 + 15 * DAY,
	        "certificate.expiring/b4/30/null certificate.expiring/b4/15/null "},
	    {"b5", T0 + 1,
	        "certificate.expiring/b5/30/null certificate.expiring/b5/15/null "},
	    {"b6", T0,
	        "certificate.expiring/b6/30/null certificate.expiring/b6/15/null "
	        "certificate.expired/b6/0/- "},
	};
	char acct[32], got[2048];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(acct, sizeof(acct), "acc_b%zu", i);
		seed(cases[i].serial, acct, cases[i].not_after, 0);
	}
	scan(T0, 30);
	scan(T0, 30); /* again: nothing new */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(acct, sizeof(acct), "acc_b%zu", i);
		events_of(acct, got, sizeof(got));
		CHECK(strcmp(got, cases[i].want) == 0, "%s: got '%s', want '%s'",
		    cases[i].serial, got, cases[i].want);
	}
	CHECK(!indexed("b6") && indexed("b5"), "b6 (expired) left the index, b5 not");
}

/* One certificate's whole life, one scan a day. */
static void
test_life(void)
{
	char got[2048];

	seed("l1", "acc_life", T0 + 40 * DAY, 0);
	for (long long d = 0; d <= 45; d++)
		scan(T0 + d * DAY, 30);
	events_of("acc_life", got, sizeof(got));
	CHECK(strcmp(got,
	          "certificate.expiring/l1/30/null "
	          "certificate.expiring/l1/15/null "
	          "certificate.expired/l1/0/- ") == 0,
	    "life: got '%s'", got);
	CHECK(!indexed("l1"), "an expired certificate leaves the index");
}

/* superseded_by: the valid certificate of the account that outlives this
 * one the longest; not a revoked, expired or shorter one. */
static void
test_superseded(void)
{
	char got[2048];

	seed("s_rev", "acc_sup", T0 + 900 * DAY, 1);
	seed("s_new", "acc_sup", T0 + 365 * DAY, 0);
	seed("s_newer", "acc_sup", T0 + 400 * DAY, 0);
	seed("s_short", "acc_sup", T0 + 5 * DAY, 0);
	seed("s_old", "acc_sup", T0 + 10 * DAY, 0);
	scan(T0, 30);
	events_of("acc_sup", got, sizeof(got));
	CHECK(strstr(got, "certificate.expiring/s_old/30/s_newer ") != NULL &&
	        strstr(got, "certificate.expiring/s_old/15/s_newer ") != NULL,
	    "superseded_by names the longest-lived valid one: '%s'", got);
	CHECK(strstr(got, "certificate.expiring/s_short/15/s_newer ") != NULL,
	    "short one: '%s'", got);
	CHECK(strstr(got, "s_new/") == NULL && strstr(got, "s_rev/") == NULL,
	    "long-lived and revoked ones get nothing: '%s'", got);
}

/* Revoked (even if still indexed), device and record-less serials. */
static void
test_skipped(void)
{
	char got[2048];
	redisReply *r;
	long long left = -1;

	seed("k_rev", "acc_skip", T0 + 5 * DAY, 1);
	cmd("ZADD certs:expiry %lld k_rev", T0 + 5 * DAY);
	seed("k_dev", "dev_1", T0 + 5 * DAY, 0);
	seed("k_devx", "dev_2", T0 - 10, 0);
	cmd("ZADD certs:expiry %lld k_none", T0 - 5);
	scan(T0, 30);
	events_of("acc_skip", got, sizeof(got));
	CHECK(got[0] == '\0', "revoked: '%s'", got);
	events_of("dev_1", got, sizeof(got));
	CHECK(got[0] == '\0', "device: '%s'", got);
	if (kv_cmd(&r, "ZCOUNT certs:expiry -inf %lld", T0) == MGR_OK) {
		left = r->integer;
		freeReplyObject(r);
	}
	CHECK(left == 0,
	    "expired device and record-less serials left the index "
	    "(%lld left)",
	    left);
}

/* A notice window under 15 days has that one threshold only. */
static void
test_short_notice(void)
{
	char got[2048];

	seed("n1", "acc_short", T0 + 5 * DAY, 0);
	scan(T0, 10);
	events_of("acc_short", got, sizeof(got));
	CHECK(strcmp(got, "certificate.expiring/n1/10/null ") == 0, "notice 10: '%s'",
	    got);
}

/* A pass with nothing due looks at nothing; the next look comes at the next
 * threshold. */
static void
test_quiet(void)
{
	struct ca_expiry_stats st;
	char serial[32];

	cmd("FLUSHDB"); /* counts below are of the whole pass */
	for (int i = 0; i < 50; i++) {
		snprintf(serial, sizeof(serial), "q%03d", i);
		seed(serial, "acc_quiet", T0 + 20 * DAY, 0);
	}
	CHECK(ca_expiry_scan(T0, 30, &st) == MGR_OK && st.emitted == 50,
	    "first pass: 50 notices (%lld)", (long long)st.emitted);
	CHECK(ca_expiry_scan(T0 + 60, 30, &st) == MGR_OK && st.seen == 0 &&
	        st.emitted == 0 && st.reindexed == 0,
	    "a pass with nothing new looks at nothing (%lld seen)", (long long)st.seen);
	CHECK(ca_expiry_scan(T0 + 5 * DAY - 1, 30, &st) == MGR_OK && st.seen == 0,
	    "nothing before the 15-day threshold (%lld seen)", (long long)st.seen);
	CHECK(ca_expiry_scan(T0 + 5 * DAY, 30, &st) == MGR_OK && st.seen == 50 &&
	        st.emitted == 50,
	    "50 at the 15-day threshold (%lld seen, %lld events)", (long long)st.seen,
	    (long long)st.emitted);
	CHECK(ca_expiry_scan(T0 + 5 * DAY + 1, 30, &st) == MGR_OK && st.seen == 0,
	    "then nothing (%lld seen)", (long long)st.seen);
	CHECK(num("XLEN %s", "ev:{acc_quiet}") == 100, "100 events");
}

/* Records go retention seconds after not_after, once certificate.expired is
 * written; device records and those still in certs:expiry stay. */
static void
test_prune(void)
{
	struct ca_expiry_stats st = {0, 0, 0, 0, 0};

	cmd("FLUSHDB");
	seed("p_exp", "acc_prune", T0 - 100, 0);
	seed("p_rev", "acc_prune", T0 - 100, 1);
	cmd("ZADD certs:revoked %lld p_rev", T0 - 100);
	seed("p_valid", "acc_prune", T0 + 100 * DAY, 0);
	seed("p_dev", "dev_9", T0 - 100, 0);
	scan(T0, 30);
	CHECK(in_zset("certs:expired", "p_exp") && !indexed("p_exp") &&
	        !in_zset("certs:due", "p_exp") && !in_zset("certs:expired", "p_dev"),
	    "an expired certificate moves to certs:expired");
	seed("p_late", "acc_prune", T0 - 100, 0); /* not scanned yet */
	cmd("ZADD certs:expired %lld p_late", T0 - 100);
	CHECK(ca_expiry_prune(T0 + 899, 1000, &st) == MGR_OK && st.pruned == 0,
	    "nothing within the retention (%lld)", (long long)st.pruned);
	CHECK(ca_expiry_prune(T0 + 900, 1000, &st) == MGR_OK && st.pruned == 2,
	    "two past the retention (%lld)", (long long)st.pruned);
	CHECK(num("EXISTS %s", "cert:p_exp") == 0 && num("EXISTS %s", "cert:p_rev") == 0,
	    "expired and revoked records deleted");
	CHECK(num("ZCARD %s", "acct:{acc_prune}:certs") == 2,
	    "the account's list keeps the valid and the unscanned one");
	CHECK(num("ZCARD %s", "certs:revoked") == 0, "certs:revoked emptied");
	CHECK(num("EXISTS %s", "cert:p_late") == 1 &&
	        num("EXISTS %s", "cert:p_dev") == 1 &&
	        num("EXISTS %s", "cert:p_valid") == 1,
	    "not yet expired-noticed, device and valid records stay");
	scan(T0 + 1000, 30);
	CHECK(ca_expiry_prune(T0 + 1000, 1000, &st) == MGR_OK && st.pruned == 3 &&
	        num("EXISTS %s", "cert:p_late") == 0,
	    "after its certificate.expired, the late one goes too");
	/* History from before the indexes: an account nobody uses any more
	 * whose expired record left certs:expiry long ago. Its records are
	 * indexed by the one walk over acct:all (again after the marker goes). */
	seed("p_old", "acc_idle", T0 - 100, 0);
	cmd("ZREM certs:expiry p_old");
	cmd("ZREM certs:due p_old");
	seed("p_idle_valid", "acc_idle", T0 + 100 * DAY, 0);
	cmd("ZADD acct:all 1 acc_idle");
	cmd("DEL certs:live:built");
	CHECK(ca_expiry_prune(T0 + 1000, 1000, &st) == MGR_OK && st.pruned == 4 &&
	        num("EXISTS %s", "cert:p_old") == 0 &&
	        num("EXISTS %s", "cert:p_idle_valid") == 1,
	    "an idle account's old record goes (%lld)", (long long)st.pruned);
	CHECK(in_zset("acct:{acc_idle}:live", "p_idle_valid"),
	    "and its valid one is in its live set");
}

struct racer {
	long long now;
	mgr_err rv;
};

static void *
race(void *arg)
{
	struct racer *r = arg;

	for (int i = 0; i < 3; i++)
		if ((r->rv = ca_expiry_scan(r->now, 30, NULL)) != MGR_OK)
			break;
	kv_thread_done();
	return (NULL);
}

/* Many certificates with one expiry time (paging over equal scores, more
 * than a batch), four scanners at once: every event exactly once. */
static void
test_race(void)
{
	enum { N = 1300, SCANNERS = 4 };
	pthread_t t[SCANNERS];
	struct racer rc[SCANNERS];
	char serial[32];
	long long evs, marks = 0;
	redisReply *r;

	for (int i = 0; i < N; i++) {
		snprintf(serial, sizeof(serial), "r%05d", i);
		seed(serial, i % 2 ? "acc_race1" : "acc_race2", T0 + 10 * DAY, 0);
	}
	for (int i = 0; i < 700; i++) {
		snprintf(serial, sizeof(serial), "x%05d", i);
		seed(serial, "acc_racex", T0 - 100, 0);
	}
	for (int i = 0; i < SCANNERS; i++) {
		rc[i].now = T0;
		pthread_create(&t[i], NULL, race, &rc[i]);
	}
	for (int i = 0; i < SCANNERS; i++) {
		pthread_join(t[i], NULL);
		CHECK(rc[i].rv == MGR_OK, "scanner %d: %s", i, mgr_strerror(rc[i].rv));
	}
	evs = num("XLEN %s", "ev:{acc_race1}") + num("XLEN %s", "ev:{acc_race2}");
	CHECK(evs == 2 * N, "%d certificates, %lld events (want %d)", N, evs, 2 * N);
	evs = num("XLEN %s", "ev:{acc_racex}");
	CHECK(evs == 3 * 700, "expired: %lld events (want %d)", evs, 3 * 700);
	if (kv_cmd(&r, "EVAL %s 0", "return #redis.call('KEYS', 'evmark:r*')") ==
	    MGR_OK) {
		marks = r->integer;
		freeReplyObject(r);
	}
	CHECK(marks == 2 * N, "%lld markers (want %d)", marks, 2 * N);
}

int
main(void)
{
	if (redis_start() != 0) {
		fprintf(stderr, "cannot start redis-server\n");
		redis_stop();
		return (1);
	}
	test_boundaries();
	test_life();
	test_superseded();
	test_skipped();
	test_short_notice();
	test_quiet();
	test_prune();
	test_race();
	redis_stop();
	printf("test_expiry: %d passed, %d failed\n", passes, fails);
	return (fails != 0);
}
