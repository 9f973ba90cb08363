#include "cli/sse.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

void
sse_init(struct sse_parser *p)
{
	mgr_buf_init(&p->line, SSE_LINE_MAX);
	mgr_buf_init(&p->data, SSE_DATA_MAX);
	p->id[0] = '\0';
	p->event[0] = '\0';
	p->retry_ms = -1;
	p->after_cr = 0;
	p->has_data = 0;
}

void
sse_free(struct sse_parser *p)
{
	mgr_buf_free(&p->line);
	mgr_buf_free(&p->data);
}

/* One complete line (without its end). */
static mgr_err
sse_line(struct sse_parser *p, sse_cb cb, void *arg, int *stopped)
{
	const char *l = p->line.data != NULL ? p->line.data : "";
	size_t n = p->line.len;
	const char *colon, *value;
	size_t flen, vlen;
	mgr_err rv = MGR_OK;

	if (n == 0) { /* dispatch */
		if (p->has_data) {
			size_t dl = p->data.len;
			const char *d = p->data.data != NULL ? p->data.data : "";

			if (dl > 0 && d[dl - 1] == '\n')
				dl--;
			if (cb(arg, p->id, p->event[0] != '\0' ? p->event : "message", d,
			        dl) != 0)
				*stopped = 1;
		}
		mgr_buf_reset(&p->data);
		p->has_data = 0;
		p->event[0] = '\0';
		return (MGR_OK);
	}
	if (l[0] == ':')
		return (MGR_OK); /* a comment (the server's heartbeat) */
	colon = memchr(l, ':', n);
	flen = colon != NULL ? (size_t)(colon - l) : n;
	value = colon != NULL ? colon + 1 : l + n;
	vlen = n - (size_t)(value - l);
	if (vlen > 0 && value[0] == ' ') {
		value++;
		vlen--;
	}
	if (flen == 4 && memcmp(l, "data", 4) == 0) {
		if ((rv = mgr_buf_add(&p->data, value, vlen)) == MGR_OK)
			rv = mgr_buf_add(&p->data, "\n", 1);
		p->has_data = 1;
	} else if (flen == 5 && memcmp(l, "event", 5) == 0) {
		if (vlen >= sizeof(p->event))
			return (MGR_ETOOBIG);
		memcpy(p->event, value, vlen);
		p->event[vlen] = '\0';
	} else if (flen == 2 && memcmp(l, "id", 2) == 0) {
		/* An id with a NUL in it is ignored (the spec). */
		if (memchr(value, '\0', vlen) == NULL) {
			if (vlen >= sizeof(p->id))
				return (MGR_ETOOBIG);
			memcpy(p->id, value, vlen);
			p->id[vlen] = '\0';
		}
	} else if (flen == 5 && memcmp(l, "retry", 5) == 0) {
		uint64_t v;

		if (vlen <= 9 && mgr_parse_digits(value, vlen, 999999999, &v) == MGR_OK)
			p->retry_ms = (long)v;
	}
	return (rv); /* other fields are ignored */
}

mgr_err
sse_feed(struct sse_parser *p, const char *buf, size_t n, sse_cb cb, void *arg,
    int *stopped)
{
	size_t i = 0;
	mgr_err rv;

	*stopped = 0;
	while (i < n && !*stopped) {
		char c = buf[i];

		if (p->after_cr && c == '\n') {
			p->after_cr = 0;
			i++;
			continue;
		}
		p->after_cr = 0;
		if (c == '\r' || c == '\n') {
			p->after_cr = (c == '\r');
			if ((rv = sse_line(p, cb, arg, stopped)) != MGR_OK)
				return (rv);
			mgr_buf_reset(&p->line);
			i++;
			continue;
		}
		/* The run of bytes up to the next line end, at once. */
		{
			size_t j = i;

			while (j < n && buf[j] != '\r' && buf[j] != '\n')
				j++;
			if ((rv = mgr_buf_add(&p->line, buf + i, j - i)) != MGR_OK)
				return (rv);
			i = j;
		}
	}
	return (MGR_OK);
}
