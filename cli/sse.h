/* Server-Sent Events parser (WHATWG HTML "event stream interpretation"):
 * fed the bytes of a text/event-stream as they arrive, in any split, it
 * calls back once per dispatched message. Pure: tests/cli/test_sse.c. */
#ifndef MGR_CLI_SSE_H
#define MGR_CLI_SSE_H

#include <stddef.h>
#include "common/buf.h"
#include "common/err.h"

#define SSE_LINE_MAX (1u << 20) /* one line of the stream */
#define SSE_DATA_MAX (1u << 20) /* one message's data */
#define SSE_ID_MAX 128
#define SSE_EVENT_MAX 64

/* One message: id is the last event id in effect (persisting across
 * messages, as the spec says), event "message" when the stream named none,
 * data without its final newline. Returns 0 to go on, non-zero to stop. */
typedef int (
    *sse_cb)(void *arg, const char *id, const char *event, const char *data, size_t len);

struct sse_parser {
	struct mgr_buf line;
	struct mgr_buf data;
	char id[SSE_ID_MAX];
	char event[SSE_EVENT_MAX];
	long retry_ms; /* the last valid "retry:", -1 when none came */
	int after_cr;  /* the previous byte was CR: a following LF is skipped */
	int has_data;
};

void sse_init(struct sse_parser *p);
void sse_free(struct sse_parser *p);
/* Feeds n bytes. Returns MGR_OK, MGR_ETOOBIG for a line or message over the
 * limits, or MGR_OK with *stopped = 1 when the callback asked to stop (the
 * rest of buf is not parsed). */
mgr_err sse_feed(struct sse_parser *p, const char *buf, size_t n, sse_cb cb, void *arg,
    int *stopped);

#endif
