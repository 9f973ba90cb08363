/* Fuzz target: mgr's event-stream parser (cli/sse.c) on any bytes from the
 * network. Fed whole and fed one byte at a time, it must dispatch the same
 * messages (same ids, types and data), stay within its bounds and never
 * crash. */
#include <string.h>

#include "cli/sse.h"
#include "common/buf.h"
#include "tests/fuzz/fuzz.h"

static int
log_cb(void *arg, const char *id, const char *event, const char *data, size_t len)
{
	struct mgr_buf *b = arg;

	FUZZ_CHECK(strlen(id) < SSE_ID_MAX && strlen(event) < SSE_EVENT_MAX);
	FUZZ_CHECK(len <= SSE_DATA_MAX);
	mgr_buf_printf(b, "%zu:%s|%zu:%s|%zu:", strlen(id), id, strlen(event), event,
	    len);
	mgr_buf_add(b, data, len);
	return (0);
}

/* Feeds data in pieces of step bytes; the log of messages goes to out. */
static mgr_err
feed(const uint8_t *data, size_t size, size_t step, struct mgr_buf *out)
{
	struct sse_parser p;
	mgr_err rv = MGR_OK;
	int stopped;

	sse_init(&p);
	for (size_t i = 0; i < size && rv == MGR_OK; i += step)
		rv = sse_feed(&p, (const char *)data + i,
		    size - i < step ? size - i : step, log_cb, out, &stopped);
	sse_free(&p);
	return (rv);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mgr_buf a, b;
	mgr_err ra, rb;

	mgr_buf_init(&a, 64u << 20);
	mgr_buf_init(&b, 64u << 20);
	ra = feed(data, size, size > 0 ? size : 1, &a);
	rb = feed(data, size, 1, &b);
	FUZZ_CHECK(ra == rb);
	if (ra == MGR_OK)
		FUZZ_CHECK(
		    a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
	mgr_buf_free(&a);
	mgr_buf_free(&b);
	return (0);
}
