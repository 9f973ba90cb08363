/* Cache of ca.AuthCert answers, so that an app's request costs no RPC to
 * ca-svc on the hot path. Every change that can turn an answer from yes to
 * no (revocation, disable, enable, delete) increments auth:epoch in the same
 * Redis script as the change. Each app request first reads auth:epoch (one
 * GET on a pooled connection) and drops every cached answer when it moved:
 * so a revocation made through any gateway is refused by every gateway on
 * the very next request, with no pub/sub race. Expiry is checked by the
 * gateway itself on every request. A generation counter keeps an answer
 * fetched before an epoch change from being stored after it.
 *
 * Concurrent requests share epoch reads (group commit): a request waits for
 * the result of a GET that was sent after it arrived; whoever finds no GET
 * in flight sends the next one for everyone waiting. A GET in flight when a
 * request arrives may have been answered before a revocation that committed
 * before the request, so it never counts for that request. */
#include "gateway/authcache.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/keys.h"
#include "common/kv.h"
#include "common/log.h"
#include "common/util.h"

#define AC_SLOTS 16384 /* power of two */
#define AC_TTL_S 60    /* belt and braces on top of invalidation */

struct ac_entry {
	int used;
	char serial[64];
	char fingerprint[65];
	char account_id[64];
	char role[32];
	int64_t not_after;
	int64_t expires;
};

static pthread_mutex_t ac_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ac_entry *ac_table;
static unsigned long ac_gen;
static int ac_live;            /* started: caching allowed */
static unsigned long ac_evict; /* round robin over a full probe run */

static unsigned
ac_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h & (AC_SLOTS - 1));
}

static void
ac_clear_locked(void)
{
	memset(ac_table, 0, sizeof(*ac_table) * AC_SLOTS);
	ac_gen++;
}

unsigned long
gw_authcache_generation(void)
{
	unsigned long g;

	pthread_mutex_lock(&ac_lock);
	g = ac_gen;
	pthread_mutex_unlock(&ac_lock);
	return (g);
}

int
gw_authcache_get(const char *serial, const char *fingerprint, struct gw_auth_answer *out)
{
	int hit = 0;
	int64_t now = mgr_now_s();

	if (ac_table == NULL)
		return (0);
	pthread_mutex_lock(&ac_lock);
	if (ac_live) {
		unsigned i = ac_hash(serial);

		for (unsigned n = 0; n < 8; n++, i = (i + 1) & (AC_SLOTS - 1)) {
			struct ac_entry *e = &ac_table[i];

			if (!e->used)
				break;
			if (strcmp(e->serial, serial) != 0)
				continue;
			if (e->expires > now &&
			    strcmp(e->fingerprint, fingerprint) == 0) {
				snprintf(out->account_id, sizeof(out->account_id), "%s",
				    e->account_id);
				snprintf(out->role, sizeof(out->role), "%s", e->role);
				out->not_after = e->not_after;
				hit = 1;
			}
			break;
		}
	}
	pthread_mutex_unlock(&ac_lock);
	return (hit);
}

void
gw_authcache_put(unsigned long gen, const char *serial, const char *fingerprint,
    const struct gw_auth_answer *a)
{
	if (ac_table == NULL)
		return;
	pthread_mutex_lock(&ac_lock);
	if (ac_live && gen == ac_gen) {
		unsigned home = ac_hash(serial), i = home, n;

		for (n = 0; n < 8; n++, i = (i + 1) & (AC_SLOTS - 1))
			if (!ac_table[i].used || strcmp(ac_table[i].serial, serial) == 0)
				break;
		/* Bounded: a full probe run evicts one of its eight entries
		 * (round robin) instead of emptying the whole table, so a
		 * gateway serving more certificates than it has slots keeps
		 * most of them cached. The slot stays used, so no probe run
		 * of another serial is cut short. */
		if (n == 8)
			i = (home + (unsigned)(ac_evict++ & 7)) & (AC_SLOTS - 1);
		{
			struct ac_entry *e = &ac_table[i];

			e->used = 1;
			snprintf(e->serial, sizeof(e->serial), "%s", serial);
			snprintf(e->fingerprint, sizeof(e->fingerprint), "%s",
			    fingerprint);
			snprintf(e->account_id, sizeof(e->account_id), "%s",
			    a->account_id);
			snprintf(e->role, sizeof(e->role), "%s", a->role);
			e->not_after = a->not_after;
			e->expires = mgr_now_s() + AC_TTL_S;
		}
	}
	pthread_mutex_unlock(&ac_lock);
}

/* A small pool of Redis connections for the epoch reads: the gateway runs a
 * thread per HTTP connection, so thread-local contexts would mean one Redis
 * connection per client connection. */
#define AC_POOL_MAX 32
static redisContext *ac_pool[AC_POOL_MAX];
static int ac_pool_n;
static long long ac_epoch = -1;

static mgr_err
ac_read_epoch(long long *out)
{
	/* A pooled connection may be stale (Redis restarted): one more try
	 * with a fresh connection before saying Redis is unavailable. */
	for (int attempt = 0; attempt < 2; attempt++) {
		redisContext *c = NULL;
		redisReply *r;
		mgr_err rv = MGR_EUNAVAIL;

		pthread_mutex_lock(&ac_lock);
		if (attempt == 0 && ac_pool_n > 0)
			c = ac_pool[--ac_pool_n];
		pthread_mutex_unlock(&ac_lock);
		if (c == NULL && kv_connect(2000, &c) != MGR_OK)
			return (MGR_EUNAVAIL);
		if (kv_conn_cmd(c, &r, "GET " KEY_AUTH_EPOCH) == MGR_OK) {
			int64_t v = 0;

			if (r->type == REDIS_REPLY_NIL ||
			    (r->type == REDIS_REPLY_STRING &&
			        mgr_parse_i64(r->str, &v) == MGR_OK)) {
				*out = v;
				rv = MGR_OK;
			}
			freeReplyObject(r);
		}
		if (rv == MGR_OK) {
			pthread_mutex_lock(&ac_lock);
			if (ac_pool_n < AC_POOL_MAX) {
				ac_pool[ac_pool_n++] = c;
				c = NULL;
			}
			pthread_mutex_unlock(&ac_lock);
		}
		if (c != NULL)
			kv_conn_close(c);
		if (rv == MGR_OK)
			return (MGR_OK);
	}
	return (MGR_EUNAVAIL);
}

/* Shared epoch reads: GETs are numbered as they are sent. Lock-free, with
 * waiters sleeping on a futex on ep_done, so a waiter costs one sleep and one
 * wake-up (a condition variable would make every woken waiter queue on its
 * mutex again). */
static _Atomic unsigned int ep_sent; /* number of the last GET sent */
static _Atomic unsigned int ep_done; /* number of the last GET answered */
static _Atomic int ep_busy;          /* a GET is in flight */
static _Atomic int ep_result;        /* how GET ep_done (or a later one) went */

static void
ep_sleep(unsigned int seen)
{
	/* Returns at once when ep_done is no longer seen. */
	syscall(SYS_futex, &ep_done, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
}

static void
ep_wake_all(void)
{
	syscall(SYS_futex, &ep_done, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

mgr_err
gw_authcache_sync(void)
{
	/* Any GET numbered from `need` on was sent after this request
	 * arrived; one numbered before may have been answered before a
	 * revocation that committed before this request, so it never
	 * counts. */
	unsigned int need = atomic_load(&ep_sent) + 1, done, mine;
	long long e = 0;
	mgr_err rv;
	int idle;

	for (;;) {
		done = atomic_load(&ep_done);
		if ((int)(done - need) >= 0)
			return ((mgr_err)atomic_load(&ep_result));
		idle = 0;
		if (atomic_compare_exchange_strong(&ep_busy, &idle, 1))
			break;
		ep_sleep(done);
	}
	/* No GET in flight: send the next one, for this request and for
	 * every one that arrives while it is out. */
	mine = atomic_fetch_add(&ep_sent, 1) + 1;
	if ((rv = ac_read_epoch(&e)) == MGR_OK) {
		/* The cache reflects the epoch before anyone is told. */
		pthread_mutex_lock(&ac_lock);
		if (e != ac_epoch) {
			ac_clear_locked();
			ac_epoch = e;
		}
		pthread_mutex_unlock(&ac_lock);
	}
	atomic_store(&ep_result, (int)rv);
	atomic_store(&ep_done, mine);
	atomic_store(&ep_busy, 0);
	ep_wake_all();
	return (rv);
}

mgr_err
gw_authcache_start(void)
{
	if ((ac_table = calloc(AC_SLOTS, sizeof(*ac_table))) == NULL)
		return (MGR_ENOMEM);
	ac_live = 1;
	return (MGR_OK);
}

void
gw_authcache_stop(void)
{
	pthread_mutex_lock(&ac_lock);
	while (ac_pool_n > 0)
		kv_conn_close(ac_pool[--ac_pool_n]);
	ac_live = 0;
	free(ac_table);
	ac_table = NULL;
	pthread_mutex_unlock(&ac_lock);
}
