/* `mgr renew --daemon` and `mgr events --follow`: the account's event
 * stream (SSE over one long-lived request, resumed with Last-Event-ID),
 * renewal on certificate.expiring for the daemon's certificate and by time
 * (rule.c) also while the stream is down, exponential backoff with jitter,
 * a clean exit 0 on SIGTERM/SIGINT. */
#include "cli/cli.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "cli/fsx.h"
#include "cli/pki.h"
#include "cli/rule.h"
#include "cli/sse.h"
#include "common/util.h"

#define BACKOFF_BASE_MS 1000
#define RETRY_UNCHANGED_S 3600 /* a renewal by time that changed nothing */
#define STREAM_IDLE_S 90       /* no byte (not even a heartbeat) for this long */
#define EXPIRING_KEPT 16

struct follow {
	struct cli *c;
	struct app_state s;
	int daemon; /* renew, else print */
	struct cert_info ci;
	char last_id[SSE_ID_MAX];
	int renew_event;
	int got_bytes;
	int64_t next_time_try; /* no renewal by time before this */
	struct sse_parser p;
	/* serials of the account's recent expiry notices: a certificate that
	 * appears in the directory later (rotated by another mgr while this one
	 * read the stream with the old one) is renewed on its notice too */
	char expiring[EXPIRING_KEPT][80];
	unsigned nexpiring;
};

static double
rnd01(void)
{
	unsigned int r = 0;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (unsigned int)getpid() * 2654435761u;
	return ((double)r / 4294967296.0);
}

static int
due_by_time(struct follow *f)
{
	int64_t now = mgr_now_s();

	return (f->daemon && now >= f->next_time_try &&
	    rule_due(f->ci.not_before, f->ci.not_after, now));
}

static void
save_cursor(struct follow *f)
{
	if (f->daemon && f->last_id[0] != '\0')
		(void)fsx_write_atomic(f->c->dir, "events.cursor", f->last_id,
		    strlen(f->last_id), 0644, 0);
}

static int
on_event(void *arg, const char *id, const char *event, const char *data, size_t len)
{
	struct follow *f = arg;
	json_t *ev = json_loadb(data, len, 0, NULL), *d;
	const char *type, *serial;
	int stop = 0;

	if (id[0] != '\0')
		snprintf(f->last_id, sizeof(f->last_id), "%s", id);
	type = json_string_value(json_object_get(ev, "type"));
	if (type == NULL)
		type = event;
	d = json_object_get(ev, "data");
	serial = json_string_value(json_object_get(d, "serial"));
	if (!f->daemon) {
		if (f->c->json) {
			json_dumpf(ev != NULL ? ev : json_null(), stdout,
			    JSON_COMPACT | JSON_ENCODE_ANY);
			fputc('\n', stdout);
		} else {
			char *ds = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;

			printf("%s  %s  %s  %s\n", id,
			    json_string_value(json_object_get(ev, "time"))
			        ? json_string_value(json_object_get(ev, "time"))
			        : "",
			    type, ds != NULL ? ds : "");
			free(ds);
		}
		fflush(stdout);
	} else {
		if (f->c->verbose)
			cli_log(f->c, "event %s %s %s", id, type,
			    serial != NULL ? serial : "");
		if (strcmp(type, "certificate.expiring") == 0 && serial != NULL &&
		    !pki_serial_eq(serial, f->ci.serial)) {
			snprintf(f->expiring[f->nexpiring++ % EXPIRING_KEPT],
			    sizeof(f->expiring[0]), "%s", serial);
		} else if (strcmp(type, "certificate.expiring") == 0 && serial != NULL) {
			cli_log(f->c,
			    "event %s: certificate %s expires %s (within %lld days)", id,
			    serial,
			    json_string_value(json_object_get(d, "not_after"))
			        ? json_string_value(json_object_get(d, "not_after"))
			        : "?",
			    (long long)json_integer_value(json_object_get(d, "days")));
			f->renew_event = 1;
			stop = 1; /* the cursor moves past it once renewed (renew()) */
		} else if (strcmp(type, "certificate.revoked") == 0 && serial != NULL &&
		    pki_serial_eq(serial, f->ci.serial)) {
			cli_log(f->c, "event %s: this certificate (%s) was revoked", id,
			    serial);
		}
		if (!stop)
			save_cursor(f);
	}
	json_decref(ev);
	return (stop);
}

static size_t
sink(const char *p, size_t n, void *arg)
{
	struct follow *f = arg;
	int stopped = 0;

	if (!f->got_bytes && f->daemon)
		cli_log(f->c, "event stream open (after %s)",
		    f->last_id[0] ? f->last_id : "now");
	f->got_bytes = 1;
	if (sse_feed(&f->p, p, n, on_event, f, &stopped) != MGR_OK) {
		cli_fail(f->c, "the event stream sent a message over the size limit");
		return (0);
	}
	return (stopped ? 0 : n);
}

static int
progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct follow *f = arg;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return (cli_stop || due_by_time(f));
}

/* (Re)reads the directory: another mgr may have renewed or rotated. */
static int
reload(struct follow *f)
{
	X509 *x;
	int lock;

	state_free(&f->s);
	if ((lock = state_lock(f->c)) < 0)
		return (-1);
	if (state_load(f->c, &f->s) != 0) {
		state_unlock(f->c, lock);
		return (-1);
	}
	state_unlock(f->c, lock);
	/* A connection open since before presents the old certificate. */
	http_reset(f->c);
	x = pki_cert_parse(f->s.cert_pem.data, f->s.cert_pem.len);
	pki_cert_info(x, &f->ci);
	X509_free(x);
	for (unsigned i = 0; i < EXPIRING_KEPT && i < f->nexpiring; i++)
		if (pki_serial_eq(f->expiring[i], f->ci.serial)) {
			cli_log(f->c, "certificate %s (new in %s) had an expiry notice",
			    f->ci.serial, f->c->dir);
			f->expiring[i][0] = '\0';
			f->renew_event = 1;
		}
	return (0);
}

static void
run_hook(struct cli *c, const char *cmd, const struct cert_info *ci)
{
	char cert[FSX_PATH_MAX], key[FSX_PATH_MAX], na[MGR_TIME_MAX];
	pid_t pid;
	int st = 0;

	if (cmd == NULL)
		return;
	fsx_join(c->dir, "cert.pem", cert);
	fsx_join(c->dir, "key.pem", key);
	mgr_time_format(ci->not_after, na);
	if ((pid = fork()) < 0) {
		cli_log(c, "--exec: cannot fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		setenv("MGR_DIR", c->dir, 1);
		setenv("MGR_CERT_FILE", cert, 1);
		setenv("MGR_KEY_FILE", key, 1);
		setenv("MGR_SERIAL", ci->serial, 1);
		setenv("MGR_NOT_AFTER", na, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		cli_log(c, "--exec: \"%s\" done", cmd);
	else
		cli_log(c, "--exec: \"%s\" failed (%s %d)", cmd,
		    WIFEXITED(st) ? "exit" : "signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

/* One renewal; 0 when it ran (changed or not), -1 on an error. */
static int
renew(struct follow *f, const char *exec_cmd, int by_event)
{
	struct cert_info old = f->ci;
	int64_t exp = 0, now = mgr_now_s();
	int changed = 0, lock, rv;
	json_t *ans = NULL;

	if (!by_event)
		exp = rule_new_expiry(f->ci.not_before, f->ci.not_after, now);
	cli_log(f->c, "renewing certificate %s (%s)", f->ci.serial,
	    by_event ? "certificate.expiring event"
	             : "less than a third of its life left");
	if ((lock = state_lock(f->c)) < 0)
		return (-1);
	rv = cli_renew_once(f->c, &f->s, exp, &changed, &ans);
	state_unlock(f->c, lock);
	if (rv != 0) {
		cli_log(f->c, "renewal failed: %s", f->c->reason);
		f->c->reason[0] = '\0';
		return (-1);
	}
	json_decref(ans);
	save_cursor(f); /* past the event that asked for this */
	if (reload(f) != 0) {
		cli_log(f->c, "%s", f->c->reason);
		f->c->reason[0] = '\0';
		return (-1);
	}
	if (!changed) {
		cli_log(f->c,
		    "the Manager did not renew: certificate %s stays, until %lld",
		    f->ci.serial, (long long)f->ci.not_after);
		if (!by_event)
			f->next_time_try = now + RETRY_UNCHANGED_S;
		return (0);
	}
	{
		char na[MGR_TIME_MAX];

		mgr_time_format(f->ci.not_after, na);
		cli_log(f->c,
		    "renewed: certificate %s -> %s, valid until %s, written to %s/cert.pem",
		    old.serial, f->ci.serial, na, f->c->dir);
	}
	f->next_time_try = 0;
	run_hook(f->c, exec_cmd, &f->ci);
	return (0);
}

/* One connection of the stream: returns when it ends. */
static int
stream_once(struct follow *f, long *status)
{
	struct http_stream st;
	struct http_resp r;
	char path[200];
	int rv;

	memset(&st, 0, sizeof(st));
	st.sink = sink;
	st.sink_arg = f;
	st.progress = progress;
	st.progress_arg = f;
	st.low_speed_time = STREAM_IDLE_S;
	st.last_event_id = f->last_id;
	sse_free(&f->p);
	sse_init(&f->p);
	f->got_bytes = 0;
	snprintf(path, sizeof(path), "/api/v1/accounts/%s/events/stream",
	    f->s.account_id);
	rv = http_request(f->c, CLI_AUTH_APP, "GET", path, NULL, 0, &st, &r);
	*status = rv == 0 ? r.status : 0;
	if (rv == 0 && (r.status < 200 || r.status > 299)) {
		http_set_error(f->c, "GET", path, &r);
		rv = -1;
	}
	if (rv == 0)
		http_resp_free(&r);
	return (rv);
}

static int
follow_loop(struct follow *f, const char *exec_cmd, int64_t backoff_max_s)
{
	unsigned attempt = 0;

	cli_signals();
	while (!cli_stop) {
		long status = 0;
		int rv;

		if (f->daemon && (f->renew_event || due_by_time(f))) {
			int ev = f->renew_event;

			f->renew_event = 0;
			if (renew(f, exec_cmd, ev) != 0) {
				int64_t d = rule_backoff_ms(attempt++, BACKOFF_BASE_MS,
				    backoff_max_s * 1000, rnd01());

				f->renew_event = ev; /* try again after the pause */
				if (!ev)
					f->next_time_try = mgr_now_s() + d / 1000;
				cli_log(f->c, "next try in %.1f s", (double)d / 1000);
				cli_sleep_ms(d);
				continue;
			}
		}
		if (cli_stop)
			break;
		if (f->daemon && f->c->verbose)
			cli_log(f->c, "connecting to the event stream (after %s)",
			    f->last_id[0] ? f->last_id : "now");
		rv = stream_once(f, &status);
		if (cli_stop)
			break;
		if (f->renew_event || due_by_time(f)) {
			attempt = 0;
			continue;
		}
		if (rv != 0 || !f->got_bytes) {
			int64_t d = rule_backoff_ms(attempt++, BACKOFF_BASE_MS,
			    backoff_max_s * 1000, rnd01());

			cli_log(f->c, "event stream: %s; again in %.1f s",
			    f->c->reason[0] ? f->c->reason : "ended", (double)d / 1000);
			f->c->reason[0] = '\0';
			if (status == 401 && mgr_now_s() >= f->ci.not_after && f->daemon)
				return (cli_fail(f->c,
				    "certificate %s has expired: enroll again",
				    f->ci.serial));
			cli_sleep_ms(d);
		} else {
			attempt = 0;
			if (f->daemon)
				cli_log(f->c, "event stream ended (%s); reconnecting",
				    f->c->reason[0] ? f->c->reason
				                    : "closed by the Manager");
			f->c->reason[0] = '\0';
			cli_sleep_ms(500 + (int64_t)(rnd01() * 1000));
		}
		if (f->daemon && reload(f) != 0) {
			cli_log(f->c, "%s", f->c->reason);
			f->c->reason[0] = '\0';
		}
	}
	if (f->daemon)
		cli_log(f->c, "stopping (signal)");
	return (EXIT_OK);
}

int
cli_renew_daemon(struct cli *c, const char *exec_cmd, int64_t backoff_max_s)
{
	struct follow f;
	struct mgr_buf cur;
	char na[MGR_TIME_MAX], ra[MGR_TIME_MAX], p[FSX_PATH_MAX];
	int rc;

	memset(&f, 0, sizeof(f));
	f.c = c;
	f.daemon = 1;
	cli_signals(); /* a SIGTERM from the first moment on is a clean stop */
	sse_init(&f.p);
	if (reload(&f) != 0) {
		sse_free(&f.p);
		return (EXIT_FAIL);
	}
	/* Resume where the last run stopped; the first run reads the account's
	 * whole stream, so that an expiry notice sent before it is seen. */
	snprintf(f.last_id, sizeof(f.last_id), "0-0");
	if (fsx_join(c->dir, "events.cursor", p) == MGR_OK &&
	    fsx_read(p, SSE_ID_MAX - 1, &cur) == MGR_OK) {
		if (cur.len > 0 && strspn(cur.data, "0123456789-") == cur.len)
			snprintf(f.last_id, sizeof(f.last_id), "%s", cur.data);
		mgr_buf_free(&cur);
	}
	mgr_time_format(f.ci.not_after, na);
	mgr_time_format(rule_renew_at(f.ci.not_before, f.ci.not_after), ra);
	cli_log(c,
	    "watching certificate %s of %s (valid until %s; renews on its "
	    "certificate.expiring event, or by time from %s)",
	    f.ci.serial, f.s.account_id, na, ra);
	rc = follow_loop(&f, exec_cmd, backoff_max_s);
	sse_free(&f.p);
	state_free(&f.s);
	return (rc);
}

int
cli_follow_events(struct cli *c, struct app_state *s, const char *after)
{
	struct follow f;
	int rc;

	memset(&f, 0, sizeof(f));
	f.c = c;
	f.s = *s;
	memset(s, 0, sizeof(*s)); /* f owns it now */
	sse_init(&f.p);
	if (after != NULL)
		snprintf(f.last_id, sizeof(f.last_id), "%s", after);
	rc = follow_loop(&f, NULL, 30);
	sse_free(&f.p);
	state_free(&f.s);
	return (rc);
}
