/* Account events (API.md "Events"): the feed, paged from the account's Redis
 * stream ev:{<id>}, and the same as Server-Sent Events for the app.
 *
 * The gateway reads the event stream and its pub/sub channel here (keys
 * the services write for it, common/keys.h), each request on a connection
 * of its own (kv_connect), because a connection thread's kv_ctx() context
 * would outlive the thread. The account's state it asks account-svc
 * (account.State): the account's keys are that service's.
 *
 * Cursors are stream entry ids ("<ms>-<seq>"; "<ms>" alone means "<ms>-0").
 * next_after is the id of the last event of the page, or null when the page
 * is empty, so that both "until next_after is null" and "until the page is
 * empty" loops end.
 *
 * The stream: subscribe first (mgr:ev:{<id>} and mgr:auth), then replay the
 * stream after Last-Event-ID (or ?after=) with XRANGE, then forward live
 * messages, skipping ids already sent; if the subscription breaks, subscribe
 * again and replay from the last id sent, so nothing is lost or repeated.
 * Without a cursor the stream starts with what happens from now on (after
 * the newest event at the request). A stream that ends because the caller
 * lost the right to it (disabled account, revoked or expired certificate)
 * first sends the events up to that moment, the one of that change too. */
#include "gateway/gw.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/keys.h"
#include "common/kv.h"
#include "common/log.h"
#include "common/util.h"
#include "gateway/conn.h"
#include "proto/account.pb-c.h"
#include "proto/ca.pb-c.h"

#define EV_LIMIT_DEFAULT 100
#define EV_LIMIT_MAX 1000
#define EV_ACCOUNT_ID_MAX 64
#define EV_REDIS_TIMEOUT_MS 5000
#define SSE_REPLAY_BATCH 100
#define SSE_OUT_MAX (4u << 20) /* one replay batch of events, at most */
#define SSE_BLOCK 16384
#define SSE_POLL_MS 1000
#define SSE_FLUSH_BATCHES 10 /* replay batches sent before an end */

struct ev_id {
	unsigned long long ms;
	unsigned long long seq;
};

static int
ev_account_id_ok(const char *s)
{
	size_t n = strlen(s);

	return (n > 0 && n <= EV_ACCOUNT_ID_MAX &&
	    strspn(s,
	        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	        "0123456789_-") == n);
}

static int
ev_num(const char *s, size_t n, unsigned long long *out)
{
	uint64_t v;

	if (n > 20 || mgr_parse_digits(s, n, UINT64_MAX, &v) != MGR_OK)
		return (-1);
	*out = v;
	return (0);
}

/* "<ms>-<seq>" or "<ms>". */
static int
ev_id_parse(const char *s, struct ev_id *out)
{
	const char *dash = strchr(s, '-');
	struct ev_id id = {0, 0};

	if (dash == NULL)
		return (ev_num(s, strlen(s), &id.ms) == 0 ? (*out = id, 0) : -1);
	if (ev_num(s, (size_t)(dash - s), &id.ms) != 0 ||
	    ev_num(dash + 1, strlen(dash + 1), &id.seq) != 0)
		return (-1);
	*out = id;
	return (0);
}

static int
ev_id_cmp(const struct ev_id *a, const struct ev_id *b)
{
	if (a->ms != b->ms)
		return (a->ms < b->ms ? -1 : 1);
	if (a->seq != b->seq)
		return (a->seq < b->seq ? -1 : 1);
	return (0);
}

/* The first id after `id` as an inclusive XRANGE start; 0 when none is. */
static int
ev_id_next(const struct ev_id *id, char *out, size_t outlen)
{
	if (id->seq != ~0ULL)
		snprintf(out, outlen, "%llu-%llu", id->ms, id->seq + 1);
	else if (id->ms != ~0ULL)
		snprintf(out, outlen, "%llu-0", id->ms + 1);
	else
		return (0);
	return (1);
}

/* A command on a private connection; errors become MGR_EUNAVAIL. */
static mgr_err ev_cmd(redisContext *c, redisReply **out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static mgr_err
ev_cmd(redisContext *c, redisReply **out, const char *fmt, ...)
{
	va_list ap;
	mgr_err rv;

	va_start(ap, fmt);
	rv = kv_conn_vcmd(c, out, fmt, ap);
	va_end(ap);
	return (rv != MGR_OK ? MGR_EUNAVAIL : MGR_OK);
}

/* The account's state from account-svc: MGR_OK with state, MGR_ENOTFOUND,
 * or MGR_EUNAVAIL when that cannot be told now. */
static mgr_err
ev_account_state(const char *request_id, const char *id, char *state, size_t statelen)
{
	Mgr__Account__IdRequest in = MGR__ACCOUNT__ID_REQUEST__INIT;
	Mgr__Account__StateReply *out = NULL;
	Mgr__Caller me = MGR__CALLER__INIT;
	mgr_err rv;

	in.id = (char *)id;
	me.kind = MGR__CALLER__KIND__SERVICE;
	rv = rpc_call(gw.account, "account.State", request_id, &me, &in.base,
	    &mgr__account__state_reply__descriptor, (ProtobufCMessage **)&out, NULL, 0,
	    0);
	if (rv == MGR_ENOTFOUND)
		return (rv);
	if (rv != MGR_OK) {
		if (rv != MGR_EUNAVAIL)
			gw_metrics_rpc_error("account.State", rv);
		return (MGR_EUNAVAIL);
	}
	snprintf(state, statelen, "%s", out->state);
	mgr__account__state_reply__free_unpacked(out, NULL);
	return (MGR_OK);
}

/* One XRANGE entry [id, [field, value, ...]] as API.md's event object. */
static json_t *
ev_entry_json(const char *account_id, const redisReply *e)
{
	const redisReply *f;
	const char *type = "", *time = "", *data = NULL;
	json_t *d = NULL;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    e->element[1]->type != REDIS_REPLY_ARRAY)
		return (NULL);
	f = e->element[1];
	for (size_t i = 0; i + 1 < f->elements; i += 2) {
		const char *k = f->element[i]->str, *v = f->element[i + 1]->str;

		if (k == NULL || v == NULL)
			continue;
		if (strcmp(k, "type") == 0)
			type = v;
		else if (strcmp(k, "time") == 0)
			time = v;
		else if (strcmp(k, "data") == 0)
			data = v;
	}
	if (data != NULL)
		d = json_loads(data, JSON_DECODE_ANY, NULL);
	return (json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", e->element[0]->str, "type",
	    type, "account_id", account_id, "time", time, "data",
	    d != NULL ? d : json_null()));
}

/* Who may read {id}'s events: its own app (another app was refused before,
 * GW_AUTH_OWN), or an admin if the account exists. */
static mgr_err
ev_access(struct gw_req *r, redisContext **cp)
{
	const char *id = r->params[0];
	redisContext *c = NULL;
	char state[32];
	mgr_err rv;

	if (!ev_account_id_ok(id))
		return (gw_fail(r, MGR_ENOTFOUND, "no such account"));
	if ((rv = ev_account_state(r->rpc_id, id, state, sizeof(state))) == MGR_ENOTFOUND)
		return (gw_fail(r, MGR_ENOTFOUND, "no such account"));
	if (rv != MGR_OK)
		return (gw_fail(r, rv, "the event store is unavailable"));
	if (kv_connect(EV_REDIS_TIMEOUT_MS, &c) != MGR_OK)
		return (gw_fail(r, MGR_EUNAVAIL, "the event store is unavailable"));
	*cp = c;
	return (MGR_OK);
}

/* GET /api/v1/accounts/{id}/events?after=&limit= */
static mgr_err
h_events_list(struct gw_req *r)
{
	const char *id = r->params[0], *after, *lim;
	redisContext *c = NULL;
	redisReply *rep = NULL;
	json_t *events = NULL, *body;
	struct ev_id cur;
	char start[64];
	int64_t limit = EV_LIMIT_DEFAULT;
	mgr_err rv;

	after = gw_query(r, "after");
	lim = gw_query(r, "limit");
	if (MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "after") !=
	        NULL &&
	    (after == NULL || (*after != '\0' && ev_id_parse(after, &cur) != 0)))
		return (gw_fail(r, MGR_EINVAL,
		    "\"after\" must be an event id (the next_after of a page)"));
	if (MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "limit") !=
	        NULL &&
	    (lim == NULL ||
	        (*lim != '\0' && /* "limit=": default */
	            (mgr_parse_i64(lim, &limit) != MGR_OK || limit < 1 ||
	                limit > EV_LIMIT_MAX))))
		return (
		    gw_fail(r, MGR_EINVAL, "\"limit\" must be 1 to %d", EV_LIMIT_MAX));
	if ((rv = ev_access(r, &c)) != MGR_OK)
		return (rv);
	if ((events = json_array()) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	if (after != NULL && *after != '\0') {
		if (!ev_id_next(&cur, start, sizeof(start)))
			goto reply; /* nothing can follow the largest id */
	} else {
		snprintf(start, sizeof(start), "-");
	}
	if ((rv = ev_cmd(c, &rep, "XRANGE ev:{%s} %s + COUNT %lld", id, start,
	         (long long)limit)) != MGR_OK) {
		gw_fail(r, rv, "the event store is unavailable");
		goto out;
	}
	for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
		json_t *ev = ev_entry_json(id, rep->element[i]);

		if (ev == NULL || json_array_append_new(events, ev) != 0) {
			rv = MGR_ENOMEM;
			goto out;
		}
	}
reply : {
	size_t n = json_array_size(events);
	json_t *last = n > 0 ? json_object_get(json_array_get(events, n - 1), "id")
	                     : NULL;

	body = json_pack("{s:O, s:O}", "events", events, "next_after",
	    last != NULL ? last : json_null());
}
	if (body == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	rv = gw_reply_json(r, 200, body);
out:
	json_decref(events);
	if (rep != NULL)
		freeReplyObject(rep);
	if (c != NULL)
		kv_conn_close(c);
	return (rv);
}

/* --- Server-Sent Events --- */

struct sse {
	char account_id[EV_ACCOUNT_ID_MAX + 1];
	char serial[64];
	char fingerprint[65];
	int64_t cert_not_after;
	char request_id[40];
	redisContext *sub;  /* SUBSCRIBEd to the account's events and mgr:auth */
	redisContext *data; /* XRANGE, account state */
	int client_fd;
	struct ev_id last;  /* the last id sent (0-0: none) */
	int replay;         /* catching up from the stream first */
	struct mgr_buf out; /* bytes not yet handed to MHD */
	size_t out_off;
	int64_t heartbeat_ms;
	int64_t next_ping_ms;
	int recheck; /* an mgr:auth message named us */
	int ended;
};

static void
sse_free(void *cls)
{
	struct sse *s = cls;

	if (s == NULL)
		return;
	if (s->sub != NULL)
		kv_conn_close(s->sub);
	if (s->data != NULL)
		kv_conn_close(s->data);
	mgr_buf_free(&s->out);
	free(s);
}

static mgr_err
sse_subscribe(struct sse *s)
{
	redisReply *rep;

	if (s->sub != NULL)
		kv_conn_close(s->sub);
	s->sub = NULL;
	if (kv_connect(EV_REDIS_TIMEOUT_MS, &s->sub) != MGR_OK)
		return (MGR_EUNAVAIL);
	if (kv_conn_cmd(s->sub, &rep, "SUBSCRIBE mgr:ev:{%s} " KEY_AUTH_CHANNEL,
	        s->account_id) != MGR_OK)
		return (MGR_EUNAVAIL);
	/* The first confirmation came back; the second is read with the rest. */
	freeReplyObject(rep);
	return (MGR_OK);
}

static mgr_err
sse_data(struct sse *s, redisContext **out)
{
	if (s->data == NULL && kv_connect(EV_REDIS_TIMEOUT_MS, &s->data) != MGR_OK)
		return (MGR_EUNAVAIL);
	*out = s->data;
	return (MGR_OK);
}

static void
sse_data_drop(struct sse *s)
{
	if (s->data != NULL)
		kv_conn_close(s->data);
	s->data = NULL;
}

/* Appends one SSE message for an event object, if it is after s->last. */
static mgr_err
sse_put_event(struct sse *s, json_t *ev)
{
	const char *ids = json_string_value(json_object_get(ev, "id"));
	const char *type = json_string_value(json_object_get(ev, "type"));
	struct ev_id id;
	char *js;
	mgr_err rv;

	if (ids == NULL || type == NULL || ev_id_parse(ids, &id) != 0 ||
	    strpbrk(type, "\r\n") != NULL)
		return (MGR_OK); /* not an event: nothing to send */
	if (ev_id_cmp(&id, &s->last) <= 0)
		return (MGR_OK); /* sent already (replay and live overlap) */
	if ((js = json_dumps(ev, JSON_COMPACT)) == NULL)
		return (MGR_ENOMEM);
	/* Compact JSON has no raw line breaks, so it is one data: line. */
	rv = mgr_buf_printf(&s->out, "id: %s\nevent: %s\ndata: %s\n\n", ids, type, js);
	free(js);
	if (rv == MGR_OK)
		s->last = id;
	return (rv);
}

/* One batch of the stream after s->last. */
static mgr_err
sse_replay(struct sse *s)
{
	redisContext *c;
	redisReply *rep = NULL;
	char start[64];
	mgr_err rv;

	if (!ev_id_next(&s->last, start, sizeof(start))) {
		s->replay = 0;
		return (MGR_OK);
	}
	if ((rv = sse_data(s, &c)) != MGR_OK)
		return (rv);
	if ((rv = ev_cmd(c, &rep, "XRANGE ev:{%s} %s + COUNT %d", s->account_id, start,
	         SSE_REPLAY_BATCH)) != MGR_OK) {
		sse_data_drop(s);
		return (rv);
	}
	for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
		json_t *ev = ev_entry_json(s->account_id, rep->element[i]);

		if (ev == NULL) {
			rv = MGR_ENOMEM;
			break;
		}
		rv = sse_put_event(s, ev);
		json_decref(ev);
		if (rv != MGR_OK)
			break;
	}
	if (rv == MGR_OK &&
	    (rep->type != REDIS_REPLY_ARRAY || rep->elements < SSE_REPLAY_BATCH))
		s->replay = 0;
	freeReplyObject(rep);
	return (rv);
}

/* Is the caller still allowed? The certificate (via ca.AuthCert, as
 * gateway/auth.c asks) and the account's state. MGR_OK, MGR_EUNAUTH, or
 * MGR_EUNAVAIL when that cannot be told now. */
static mgr_err
sse_auth(struct sse *s)
{
	Mgr__Ca__AuthCertRequest in = MGR__CA__AUTH_CERT_REQUEST__INIT;
	Mgr__Ca__AuthCertReply *out = NULL;
	Mgr__Caller me = MGR__CALLER__INIT;
	char state[32];
	mgr_err rv;
	int same;

	if (mgr_now_s() >= s->cert_not_after)
		return (MGR_EUNAUTH);
	in.serial = s->serial;
	in.fingerprint = s->fingerprint;
	me.kind = MGR__CALLER__KIND__SERVICE;
	rv = rpc_call(gw.ca, "ca.AuthCert", s->request_id, &me, &in.base,
	    &mgr__ca__auth_cert_reply__descriptor, (ProtobufCMessage **)&out, NULL, 0, 0);
	if (rv == MGR_EUNAVAIL || rv == MGR_EINTERNAL || rv == MGR_ENOMEM)
		return (MGR_EUNAVAIL);
	if (rv != MGR_OK)
		return (MGR_EUNAUTH);
	same = strcmp(out->account_id, s->account_id) == 0;
	mgr__ca__auth_cert_reply__free_unpacked(out, NULL);
	if (!same)
		return (MGR_EUNAUTH);
	if ((rv = ev_account_state(s->request_id, s->account_id, state, sizeof(state))) ==
	    MGR_EUNAVAIL)
		return (rv);
	return (rv == MGR_OK && strcmp(state, "active") == 0 ? MGR_OK : MGR_EUNAUTH);
}

static void
sse_end(struct sse *s, const char *why)
{
	log_info(s->request_id, "event stream of %s ends: %s", s->account_id, why);
	s->ended = 1;
}

/* Before a stream ends because its caller lost the right to it: what the
 * account's stream holds up to now. The change that ends it (disable,
 * revocation) writes its event (account.disabled, certificate.revoked) in
 * the same script that tells mgr:auth, so that event is there already and
 * is the stream's last message (API.md: one message per event). */
static void
sse_flush(struct sse *s)
{
	s->replay = 1;
	for (int i = 0; i < SSE_FLUSH_BATCHES && s->replay; i++)
		if (sse_replay(s) != MGR_OK)
			break;
	s->replay = 0;
}

/* A pub/sub push: an event to forward or an mgr:auth notice. */
static mgr_err
sse_message(struct sse *s, redisReply *m)
{
	const char *chan, *payload;
	json_t *ev;
	mgr_err rv;

	if (m->type != REDIS_REPLY_ARRAY || m->elements != 3 ||
	    m->element[0]->type != REDIS_REPLY_STRING ||
	    strcmp(m->element[0]->str, "message") != 0 ||
	    m->element[1]->type != REDIS_REPLY_STRING ||
	    m->element[2]->type != REDIS_REPLY_STRING)
		return (MGR_OK); /* subscribe confirmations */
	chan = m->element[1]->str;
	payload = m->element[2]->str;
	if (strcmp(chan, KEY_AUTH_CHANNEL) == 0) {
		if ((strncmp(payload, "cert ", 5) == 0 &&
		        strcmp(payload + 5, s->serial) == 0) ||
		    (strncmp(payload, "account ", 8) == 0 &&
		        strcmp(payload + 8, s->account_id) == 0))
			s->recheck = 1;
		return (MGR_OK);
	}
	if (s->replay)
		return (MGR_OK); /* the replay reads it from the stream */
	if ((ev = json_loads(payload, 0, NULL)) == NULL)
		return (MGR_OK);
	rv = sse_put_event(s, ev);
	json_decref(ev);
	return (rv);
}

/* Waits for something to send: live events, a heartbeat, or the end. */
static void
sse_wait(struct sse *s)
{
	struct pollfd pfd[2];
	redisReply *m = NULL;
	int64_t now = mgr_now_ms(), wait, expiry_ms = s->cert_not_after * 1000;
	mgr_err rv;

	/* The certificate's expiry ends the stream at once, as it refuses the
	 * next request: not at the next heartbeat, with events sent between. */
	if (s->recheck || now >= s->next_ping_ms || now >= expiry_ms) {
		int ping = now >= s->next_ping_ms;

		s->recheck = 0;
		if ((rv = sse_auth(s)) == MGR_EUNAUTH) {
			sse_flush(s);
			mgr_buf_printf(&s->out, ": unauthenticated\n\n");
			sse_end(s, "the caller is no longer authorized");
			return;
		}
		if (ping) {
			s->next_ping_ms = now + s->heartbeat_ms;
			if (mgr_buf_printf(&s->out, ": ping\n\n") != MGR_OK)
				sse_end(s, "out of memory");
		}
		return;
	}
	/* Replies already read off the socket come first. */
	if (kv_conn_pushed(s->sub, 0, &m) != MGR_OK)
		goto broken;
	if (m != NULL) {
		rv = sse_message(s, m);
		freeReplyObject(m);
		if (rv != MGR_OK)
			sse_end(s, mgr_strerror(rv));
		return;
	}
	wait = (s->next_ping_ms < expiry_ms ? s->next_ping_ms : expiry_ms) - now;
	pfd[0].fd = kv_conn_fd(s->sub);
	pfd[0].events = POLLIN;
	pfd[1].fd = s->client_fd;
	pfd[1].events = POLLIN | POLLRDHUP;
	pfd[0].revents = pfd[1].revents = 0;
	if (poll(pfd, s->client_fd >= 0 ? 2 : 1,
	        (int)(wait < SSE_POLL_MS ? wait : SSE_POLL_MS)) < 0) {
		if (errno != EINTR)
			sse_end(s, "poll failed");
		return;
	}
	if (pfd[1].revents != 0) {
		/* An SSE client sends nothing more: data or EOF means it is done. */
		sse_end(s, "the client went away");
		s->client_fd = -2;
		return;
	}
	if (pfd[0].revents != 0) {
		if (kv_conn_pushed(s->sub, 1, &m) != MGR_OK)
			goto broken;
		if (m != NULL) {
			rv = sse_message(s, m);
			freeReplyObject(m);
			if (rv != MGR_OK)
				sse_end(s, mgr_strerror(rv));
		}
	}
	return;
broken:
	/* Subscribe again and catch up from the stream: no gap. */
	log_warn(s->request_id, "event subscription lost; resubscribing");
	if (sse_subscribe(s) != MGR_OK) {
		sse_end(s, "Redis is unavailable");
		return;
	}
	s->replay = 1;
}

static ssize_t
sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse *s = cls;

	(void)pos;
	for (;;) {
		if (s->out_off < s->out.len) {
			size_t n = s->out.len - s->out_off;

			if (n > max)
				n = max;
			memcpy(buf, s->out.data + s->out_off, n);
			s->out_off += n;
			if (s->out_off == s->out.len) {
				mgr_buf_reset(&s->out);
				s->out_off = 0;
			}
			return ((ssize_t)n);
		}
		if (s->ended)
			return (s->client_fd == -2 ? MHD_CONTENT_READER_END_WITH_ERROR
			                           : MHD_CONTENT_READER_END_OF_STREAM);
		if (s->replay) {
			mgr_err rv = sse_replay(s);

			if (rv != MGR_OK)
				sse_end(s, mgr_strerror(rv));
			continue;
		}
		sse_wait(s);
	}
}

/* A cursor past the newest event (a client's made-up Last-Event-ID) would
 * hide every later event: it is taken as the newest event's id. */
static mgr_err
ev_clamp_cursor(redisContext *c, const char *id, struct ev_id *cur)
{
	redisReply *rep = NULL;
	struct ev_id top = {0, 0};
	mgr_err rv;

	if ((rv = ev_cmd(c, &rep, "XREVRANGE ev:{%s} + - COUNT 1", id)) != MGR_OK)
		return (rv);
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
	    rep->element[0]->type == REDIS_REPLY_ARRAY &&
	    rep->element[0]->elements == 2 &&
	    rep->element[0]->element[0]->type == REDIS_REPLY_STRING &&
	    ev_id_parse(rep->element[0]->element[0]->str, &top) != 0)
		top.ms = top.seq = 0;
	freeReplyObject(rep);
	if (ev_id_cmp(cur, &top) > 0)
		*cur = top;
	return (MGR_OK);
}

/* GET /api/v1/accounts/{id}/events/stream (app) */
static mgr_err
h_events_stream(struct gw_req *r)
{
	const char *id = r->params[0], *cursor;
	const union MHD_ConnectionInfo *ci;
	struct gw_conn *gc = gw_conn_of(r->conn);
	struct MHD_Response *resp;
	redisContext *c = NULL;
	struct sse *s = NULL;
	struct ev_id cur = {0, 0};
	int have_cursor = 0;
	mgr_err rv;

	cursor = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Last-Event-ID");
	if (cursor != NULL && *cursor != '\0') {
		if (ev_id_parse(cursor, &cur) != 0)
			return (
			    gw_fail(r, MGR_EINVAL, "Last-Event-ID must be an event id"));
		have_cursor = 1;
	} else if (MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "after") !=
	    NULL) {
		cursor = gw_query(r, "after");
		if (cursor == NULL || (*cursor != '\0' && ev_id_parse(cursor, &cur) != 0))
			return (gw_fail(r, MGR_EINVAL, "\"after\" must be an event id"));
		have_cursor = *cursor != '\0';
	}
	if (gc == NULL || r->caller.kind != MGR__CALLER__KIND__APP)
		return (gw_fail(r, MGR_EUNAUTH, "a client certificate is required"));
	if ((rv = ev_access(r, &c)) != MGR_OK)
		return (rv);
	/* Without a cursor: from the newest event on (the replay below then
	 * sends what comes between this and the subscription, and sse_flush
	 * has a start that is not the beginning of the stream). */
	if (!have_cursor)
		cur.ms = cur.seq = ~0ULL;
	if ((rv = ev_clamp_cursor(c, id, &cur)) != MGR_OK) {
		gw_fail(r, rv, "the event store is unavailable");
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	memcpy(s->account_id, id, strlen(id) + 1); /* ev_access: <= 64 bytes */
	snprintf(s->serial, sizeof(s->serial), "%s", gc->serial);
	snprintf(s->fingerprint, sizeof(s->fingerprint), "%s", gc->fingerprint);
	snprintf(s->request_id, sizeof(s->request_id), "%s", r->request_id);
	s->cert_not_after = gc->not_after;
	s->data = c;
	c = NULL;
	mgr_buf_init(&s->out, SSE_OUT_MAX);
	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	s->client_fd = ci != NULL ? ci->connect_fd : -1;
	s->last = cur;
	s->replay = 1;
	s->heartbeat_ms = gw.cfg.sse_heartbeat_s * 1000;
	s->next_ping_ms = mgr_now_ms() + s->heartbeat_ms;
	/* Subscribed before the reply: whatever happens from here on reaches
	 * the client, and the replay covers what came before. */
	if ((rv = sse_subscribe(s)) != MGR_OK) {
		gw_fail(r, rv, "the event store is unavailable");
		goto out;
	}
	if ((rv = mgr_buf_printf(&s->out, ": events of %s\nretry: 3000\n\n", id)) !=
	    MGR_OK)
		goto out;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK, sse_read, s,
	    sse_free);
	if (resp == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	s = NULL; /* the response owns it now */
	MHD_add_response_header(resp, "Content-Type", "text/event-stream");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	log_info(r->request_id, "event stream of %s starts%s", id,
	    have_cursor ? " with a replay" : "");
	rv = gw_reply_response(r, 200, resp);
out:
	sse_free(s);
	if (c != NULL)
		kv_conn_close(c);
	return (rv);
}

const struct gw_route gw_routes_events[] = {
    {"GET", "/api/v1/accounts/{}/events", GW_AUTH_APP | GW_AUTH_ADMIN | GW_AUTH_OWN,
        GW_BODY_NONE, h_events_list, NULL, NULL, NULL},
    {"GET", "/api/v1/accounts/{}/events/stream", GW_AUTH_APP | GW_AUTH_OWN, GW_BODY_NONE,
        h_events_stream, NULL, NULL, NULL},
    {NULL},
};
