/* Bounded growable buffer (after curl's dynbuf): going over max is MGR_ETOOBIG. */
#ifndef MGR_COMMON_BUF_H
#define MGR_COMMON_BUF_H

#include <stddef.h>
#include "common/err.h"

struct mgr_buf {
	char *data; /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;
};

void mgr_buf_init(struct mgr_buf *b, size_t max);
mgr_err mgr_buf_add(struct mgr_buf *b, const void *data, size_t len);
mgr_err mgr_buf_printf(struct mgr_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void mgr_buf_reset(struct mgr_buf *b);
/* Frees the storage; the struct may be reused after mgr_buf_init. */
void mgr_buf_free(struct mgr_buf *b);
/* Hands the storage to the caller (who frees it); the buffer is empty after. */
char *mgr_buf_take(struct mgr_buf *b, size_t *len);

#endif
