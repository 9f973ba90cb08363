#include "common/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
mgr_buf_init(struct mgr_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

mgr_err
mgr_buf_add(struct mgr_buf *b, const void *data, size_t len)
{
	if (len > b->max || b->len > b->max - len)
		return (MGR_ETOOBIG);
	if (b->len + len + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		char *n;

		while (ncap < b->len + len + 1 && ncap <= SIZE_MAX / 2)
			ncap *= 2;
		if (ncap < b->len + len + 1)
			ncap = b->len + len + 1;
		/* max + 1 wraps to 0 for max SIZE_MAX: no cap then. */
		if (b->max < SIZE_MAX && ncap > b->max + 1)
			ncap = b->max + 1;
		if ((n = realloc(b->data, ncap)) == NULL)
			return (MGR_ENOMEM);
		b->data = n;
		b->cap = ncap;
	}
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return (MGR_OK);
}

mgr_err
mgr_buf_printf(struct mgr_buf *b, const char *fmt, ...)
{
	char small[512];
	char *big = NULL;
	va_list ap;
	int n;
	mgr_err rv;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return (MGR_EINVAL);
	if ((size_t)n < sizeof(small))
		return (mgr_buf_add(b, small, (size_t)n));
	if ((size_t)n > b->max)
		return (MGR_ETOOBIG);
	if ((big = malloc((size_t)n + 1)) == NULL)
		return (MGR_ENOMEM);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rv = mgr_buf_add(b, big, (size_t)n);
	free(big);
	return (rv);
}

void
mgr_buf_reset(struct mgr_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
mgr_buf_free(struct mgr_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *
mgr_buf_take(struct mgr_buf *b, size_t *len)
{
	char *d = b->data;

	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return (d);
}
