/* cli/sse.c: the event-stream parser, on the server's framing and on what
 * the WHATWG spec allows (CR, CRLF, comments, multi-line data, splits). */
#include <stdio.h>
#include <string.h>

#include "cli/sse.h"
#include "tests/lib/check.h"

struct got {
	char log[4096];
	int n;
	int stop_after;
};

static int
cb(void *arg, const char *id, const char *event, const char *data, size_t len)
{
	struct got *g = arg;
	size_t l = strlen(g->log);

	snprintf(g->log + l, sizeof(g->log) - l, "[%s|%s|%.*s]", id, event, (int)len,
	    data);
	g->n++;
	return (g->stop_after > 0 && g->n >= g->stop_after);
}

/* Feeds text in pieces of `step` bytes; returns the log. */
static const char *
run(const char *text, size_t step, struct got *g)
{
	struct sse_parser p;
	size_t n = strlen(text);
	int stopped = 0;

	memset(g->log, 0, sizeof(g->log));
	g->n = 0;
	sse_init(&p);
	for (size_t i = 0; i < n && !stopped; i += step) {
		size_t k = n - i < step ? n - i : step;

		if (sse_feed(&p, text + i, k, cb, g, &stopped) != MGR_OK) {
			snprintf(g->log, sizeof(g->log), "ERROR");
			break;
		}
	}
	sse_free(&p);
	return (g->log);
}

struct row {
	const char *in;
	const char *want;
};

static const struct row rows[] = {
    /* the gateway's framing */
    {": events of acc_1\nretry: 3000\n\nid: 1-0\nevent: certificate.expiring\n"
     "data: {\"a\":1}\n\n",
        "[1-0|certificate.expiring|{\"a\":1}]"},
    /* CRLF and lone CR line ends */
    {"id: 2\r\ndata: x\r\n\r\ndata: y\r\rdata:z\n\n",
        "[2|message|x][2|message|y][2|message|z]"},
    /* multi-line data joins with LF; the last LF is dropped */
    {"data: a\ndata: b\n\n", "[|message|a\nb]"},
    /* no data: no message; event type resets after a dispatch */
    {"event: x\n\ndata: d\n\n", "[|message|d]"},
    /* a field without colon, unknown fields, only one leading space stripped */
    {"data\nfoo: bar\n\ndata:  two\n\n", "[|message|][|message| two]"},
    /* an unfinished message at the end is not dispatched */
    {"data: partial\n", ""},
    /* comments and heartbeats only */
    {": ping\n\n: ping\n\n", ""},
    /* id persists across messages; an empty id resets it */
    {"id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n",
        "[7|message|a][7|message|b][|message|c]"},
};

int
main(void)
{
	struct got g = {{0}, 0, 0};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		static const size_t steps[] = {1, 2, 3, 7, 4096};

		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			const char *got = run(rows[i].in, steps[s], &g);

			CHECK(strcmp(got, rows[i].want) == 0,
			    "row %zu step %zu: got %s want %s", i, steps[s], got,
			    rows[i].want);
		}
	}
	/* the callback stops the parser: the rest is not parsed */
	g.stop_after = 1;
	CHECK(strcmp(run("data: 1\n\ndata: 2\n\n", 4096, &g), "[|message|1]") == 0,
	    "stop: %s", g.log);
	g.stop_after = 0;
	/* a CR at the end of one piece and the LF at the start of the next */
	{
		struct sse_parser p;
		int st;

		memset(g.log, 0, sizeof(g.log));
		g.n = 0;
		sse_init(&p);
		sse_feed(&p, "data: a\r", 8, cb, &g, &st);
		sse_feed(&p, "\n\r", 2, cb, &g, &st);
		sse_feed(&p, "\n", 1, cb, &g, &st);
		CHECK(strcmp(g.log, "[|message|a]") == 0 && g.n == 1, "split CRLF: %s",
		    g.log);
		sse_free(&p);
	}
	/* retry: digits only */
	{
		struct sse_parser p;
		int st;

		sse_init(&p);
		sse_feed(&p, "retry: 3000\n", 12, cb, &g, &st);
		CHECK(p.retry_ms == 3000, "retry %ld", p.retry_ms);
		sse_feed(&p, "retry: 12x\n", 11, cb, &g, &st);
		CHECK(p.retry_ms == 3000, "bad retry ignored: %ld", p.retry_ms);
		sse_feed(&p, "retry: 9999999999\n", 18, cb, &g, &st);
		CHECK(p.retry_ms == 3000, "a retry past 9 digits ignored: %ld",
		    p.retry_ms);
		sse_feed(&p, "retry:\n", 7, cb, &g, &st);
		CHECK(p.retry_ms == 3000, "an empty retry ignored: %ld", p.retry_ms);
		sse_feed(&p, "retry: -5\n", 10, cb, &g, &st);
		CHECK(p.retry_ms == 3000, "a negative retry ignored: %ld", p.retry_ms);
		sse_feed(&p, "retry: 999999999\n", 17, cb, &g, &st);
		CHECK(p.retry_ms == 999999999, "9 digits: %ld", p.retry_ms);
		sse_free(&p);
	}
	/* bounded: a line over the limit is an error, not a crash */
	{
		struct sse_parser p;
		static char big[SSE_LINE_MAX + 16];
		int st;

		memset(big, 'a', sizeof(big));
		memcpy(big, "data: ", 6);
		sse_init(&p);
		CHECK(sse_feed(&p, big, sizeof(big), cb, &g, &st) == MGR_ETOOBIG,
		    "long line");
		sse_free(&p);
	}
	/* an over-long id is refused */
	{
		struct sse_parser p;
		char line[SSE_ID_MAX + 10];
		int st;

		memset(line, '1', sizeof(line));
		memcpy(line, "id: ", 4);
		line[sizeof(line) - 1] = '\n';
		sse_init(&p);
		CHECK(sse_feed(&p, line, sizeof(line), cb, &g, &st) == MGR_ETOOBIG,
		    "long id");
		sse_free(&p);
	}
	return (fails ? 1 : 0);
}
