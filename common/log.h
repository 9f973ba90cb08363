/* Logging with levels and request ids, one line per record, to stderr, as
 * text or as one JSON object a line (MANAGER_LOG_FORMAT=json: time, level,
 * service, msg, request_id, then the record's fields).
 * Never pass passwords, private keys or certificates to these. */
#ifndef MGR_COMMON_LOG_H
#define MGR_COMMON_LOG_H

#include <stddef.h>

enum { MGR_LOG_ERROR = 0, MGR_LOG_WARN, MGR_LOG_INFO, MGR_LOG_DEBUG };
enum { MGR_LOG_TEXT = 0, MGR_LOG_JSON };

/* A field of a structured record: a string, an integer or a number. */
enum { MGR_LF_STR, MGR_LF_INT, MGR_LF_DBL };
struct mgr_log_field {
	const char *key;
	int kind;
	const char *str; /* MGR_LF_STR; NULL leaves the field out */
	long long num;   /* MGR_LF_INT */
	double dbl;      /* MGR_LF_DBL */
};
#define MGR_LF_S(k, v) \
	{ \
		(k), MGR_LF_STR, (v), 0, 0 \
	}
#define MGR_LF_I(k, v) \
	{ \
		(k), MGR_LF_INT, NULL, (long long)(v), 0 \
	}
#define MGR_LF_D(k, v) \
	{ \
		(k), MGR_LF_DBL, NULL, 0, (double)(v) \
	}

void mgr_log_init(const char *process, int level);
/* Level and format; mgr_config_load sets them from MANAGER_LOG_LEVEL and
 * MANAGER_LOG_FORMAT. */
void mgr_log_set(int level, int format);
/* -1 for anything but error|warn|info|debug (empty: info). */
int mgr_log_level_parse(const char *s);
/* -1 for anything but text|json (empty: text). */
int mgr_log_format_parse(const char *s);
int mgr_log_enabled(int level);
void mgr_log(int level, const char *request_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void mgr_log_fields(int level, const char *request_id, const struct mgr_log_field *f,
    size_t nf, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Appends s as the body of a JSON string (no quotes) to b: ", \ and control
 * characters escaped, bytes that are not UTF-8 replaced by U+FFFD. Returns
 * 0, or -1 when b would grow past its max. For tests and the log only. */
struct mgr_buf;
int mgr_log_json_escape(struct mgr_buf *b, const char *s, size_t len);

#define log_error(rid, ...) mgr_log(MGR_LOG_ERROR, rid, __VA_ARGS__)
#define log_warn(rid, ...) mgr_log(MGR_LOG_WARN, rid, __VA_ARGS__)
#define log_info(rid, ...) mgr_log(MGR_LOG_INFO, rid, __VA_ARGS__)
#define log_debug(rid, ...) mgr_log(MGR_LOG_DEBUG, rid, __VA_ARGS__)

#endif
