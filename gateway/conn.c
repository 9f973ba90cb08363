#include "gateway/conn.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "common/log.h"

static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conn_wake = PTHREAD_COND_INITIALIZER;
static struct gw_conn *conn_head;
static pthread_t conn_watchdog;
static int conn_watchdog_running, conn_stopping;
static int64_t conn_timeout_ms;
/* Connections now, and the most since memory was last handed back. */
static int64_t conn_count, conn_peak;

/* When this many connections have gone since the peak, the watchdog hands
 * the allocator's free memory back (malloc_trim): each connection's TLS
 * session and buffers come from its thread's arena, and without a trim the
 * gateway kept about 190 MB after 10,000 idle connections closed. */
#define CONN_TRIM_DROP 256

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

struct gw_conn *
gw_conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return (ci != NULL ? ci->socket_context : NULL);
}

void
gw_conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct gw_conn *gc;

	(void)cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		if ((gc = calloc(1, sizeof(*gc))) == NULL) {
			*socket_context = NULL;
			return;
		}
		gc->mhd = c;
		pthread_mutex_lock(&conn_lock);
		gc->waiting_since_ms = mono_ms();
		gc->next = conn_head;
		if (conn_head != NULL)
			conn_head->prev = gc;
		conn_head = gc;
		if (++conn_count > conn_peak)
			conn_peak = conn_count;
		pthread_mutex_unlock(&conn_lock);
		*socket_context = gc;
		return;
	}
	/* CLOSED comes before libmicrohttpd closes the socket: once this is
	 * out of the list, the watchdog never touches its descriptor. */
	if ((gc = *socket_context) != NULL) {
		pthread_mutex_lock(&conn_lock);
		if (gc->prev != NULL)
			gc->prev->next = gc->next;
		else
			conn_head = gc->next;
		if (gc->next != NULL)
			gc->next->prev = gc->prev;
		conn_count--;
		pthread_mutex_unlock(&conn_lock);
	}
	free(gc);
	*socket_context = NULL;
}

void
gw_conn_busy(struct MHD_Connection *c, int busy)
{
	struct gw_conn *gc = gw_conn_of(c);

	if (gc == NULL)
		return;
	pthread_mutex_lock(&conn_lock);
	gc->busy = busy;
	if (!busy)
		gc->waiting_since_ms = mono_ms();
	pthread_mutex_unlock(&conn_lock);
}

static void *
watchdog_main(void *arg)
{
	struct timespec until;

	(void)arg;
	pthread_mutex_lock(&conn_lock);
	while (!conn_stopping) {
		int64_t now = mono_ms();

		for (struct gw_conn *gc = conn_head; gc != NULL; gc = gc->next) {
			const union MHD_ConnectionInfo *ci;

			if (gc->busy || now - gc->waiting_since_ms <= conn_timeout_ms)
				continue;
			ci = MHD_get_connection_info(gc->mhd,
			    MHD_CONNECTION_INFO_CONNECTION_FD);
			if (ci == NULL)
				continue;
			/* The connection's thread sees end of stream and closes. */
			shutdown(ci->connect_fd, SHUT_RDWR);
			gc->waiting_since_ms = now; /* once per timeout */
			log_debug(NULL,
			    "closed a connection without a request header "
			    "for %lld ms",
			    (long long)conn_timeout_ms);
		}
		if (conn_peak - conn_count >= CONN_TRIM_DROP) {
			conn_peak = conn_count;
			pthread_mutex_unlock(&conn_lock);
			malloc_trim(0);
			pthread_mutex_lock(&conn_lock);
			if (conn_stopping)
				break;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&conn_wake, &conn_lock, &until);
	}
	pthread_mutex_unlock(&conn_lock);
	return (NULL);
}

mgr_err
gw_conn_watchdog_start(int timeout_s)
{
	conn_timeout_ms = (int64_t)timeout_s * 1000;
	conn_stopping = 0;
	if (pthread_create(&conn_watchdog, NULL, watchdog_main, NULL) != 0)
		return (MGR_EINTERNAL);
	conn_watchdog_running = 1;
	return (MGR_OK);
}

void
gw_conn_watchdog_stop(void)
{
	if (!conn_watchdog_running)
		return;
	pthread_mutex_lock(&conn_lock);
	conn_stopping = 1;
	pthread_cond_signal(&conn_wake);
	pthread_mutex_unlock(&conn_lock);
	pthread_join(conn_watchdog, NULL);
	conn_watchdog_running = 0;
}
