#include "common/log.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"

static const char *log_process = "manager";
static int log_threshold = MGR_LOG_INFO;
static int log_format = MGR_LOG_TEXT;
static const char *const log_names[] = {"error", "warn", "info", "debug"};

/* A record's line: the message is cut at this many bytes, the whole line at
 * LOG_LINE_MAX. */
#define LOG_MSG_MAX 2048
#define LOG_LINE_MAX 65536

void
mgr_log_init(const char *process, int level)
{
	log_process = process;
	log_threshold = level;
}

void
mgr_log_set(int level, int format)
{
	log_threshold = level;
	log_format = format;
}

int
mgr_log_level_parse(const char *s)
{
	if (s == NULL || *s == '\0')
		return (MGR_LOG_INFO);
	for (int i = 0; i < 4; i++)
		if (strcmp(s, log_names[i]) == 0)
			return (i);
	return (-1);
}

int
mgr_log_format_parse(const char *s)
{
	if (s == NULL || *s == '\0' || strcmp(s, "text") == 0)
		return (MGR_LOG_TEXT);
	if (strcmp(s, "json") == 0)
		return (MGR_LOG_JSON);
	return (-1);
}

int
mgr_log_enabled(int level)
{
	return (level <= log_threshold);
}

/* The length of the UTF-8 sequence at s (at most n bytes), 0 if it is not
 * one (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return (1);
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return (0);
	if (n < len || s[1] < lo || s[1] > hi)
		return (0);
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return (0);
	return (len);
}

int
mgr_log_json_escape(struct mgr_buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;
	char esc[8];

	while (i < n) {
		unsigned char c = s[i];
		size_t l = utf8_len(s + i, n - i);
		const char *e = NULL;
		size_t elen = 2;

		if (l > 1 || (l == 1 && c >= 0x20 && c != '"' && c != '\\')) {
			/* Passes as it is; copied in runs. */
			i += l;
			run += l;
			continue;
		}
		if (run > 0 && mgr_buf_add(b, s + i - run, run) != MGR_OK)
			return (-1);
		run = 0;
		if (l == 0) {
			e = "\\ufffd";
			elen = 6;
		} else if (c == '"')
			e = "\\\"";
		else if (c == '\\')
			e = "\\\\";
		else if (c == '\n')
			e = "\\n";
		else if (c == '\r')
			e = "\\r";
		else if (c == '\t')
			e = "\\t";
		else {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			e = esc;
			elen = 6;
		}
		if (mgr_buf_add(b, e, elen) != MGR_OK)
			return (-1);
		i++;
	}
	if (run > 0 && mgr_buf_add(b, s + i - run, run) != MGR_OK)
		return (-1);
	return (0);
}

static int
json_str(struct mgr_buf *b, const char *s)
{
	if (mgr_buf_add(b, "\"", 1) != MGR_OK ||
	    mgr_log_json_escape(b, s, strlen(s)) != 0 ||
	    mgr_buf_add(b, "\"", 1) != MGR_OK)
		return (-1);
	return (0);
}

/* Text values: bare when plain, else quoted with ", \ and control
 * characters escaped, so that a record stays on one line. */
static int
text_value(struct mgr_buf *b, const char *s)
{
	if (*s != '\0' && strcspn(s, " \"\\=") == strlen(s)) {
		int plain = 1;

		for (const char *p = s; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				plain = 0;
		if (plain)
			return (mgr_buf_add(b, s, strlen(s)) == MGR_OK ? 0 : -1);
	}
	return (json_str(b, s));
}

/* Control characters of a text message become spaces: one line a record. */
static void
text_flatten(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20)
			*s = ' ';
}

static int
add_fields(struct mgr_buf *b, const struct mgr_log_field *f, size_t nf)
{
	int json = log_format == MGR_LOG_JSON;

	for (size_t i = 0; i < nf; i++) {
		int bad = 0;

		if (f[i].kind == MGR_LF_STR && f[i].str == NULL)
			continue;
		if (json) {
			bad = mgr_buf_add(b, ",", 1) != MGR_OK ||
			    json_str(b, f[i].key) != 0 ||
			    mgr_buf_add(b, ":", 1) != MGR_OK;
		} else
			bad = mgr_buf_printf(b, " %s=", f[i].key) != MGR_OK;
		if (bad)
			return (-1);
		switch (f[i].kind) {
		case MGR_LF_STR:
			bad = json ? json_str(b, f[i].str) : text_value(b, f[i].str);
			break;
		case MGR_LF_INT:
			bad = mgr_buf_printf(b, "%lld", f[i].num) != MGR_OK;
			break;
		default:
			/* JSON has no NaN or infinity. */
			bad = mgr_buf_printf(b, "%.3f",
			          isfinite(f[i].dbl) ? f[i].dbl : 0.0) != MGR_OK;
			break;
		}
		if (bad)
			return (-1);
	}
	return (0);
}

static void
log_record(int level, const char *request_id, const struct mgr_log_field *f, size_t nf,
    const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX];
	char ts[40];
	struct timespec now;
	struct tm tm;
	struct mgr_buf b;
	int bad;

	if (level < 0 || level > log_threshold)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03ldZ",
	    now.tv_nsec / 1000000);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (request_id != NULL && *request_id == '\0')
		request_id = NULL;
	mgr_buf_init(&b, LOG_LINE_MAX);
	if (log_format == MGR_LOG_JSON) {
		bad = mgr_buf_printf(&b,
		          "{\"time\":\"%s\",\"level\":\"%s\",\"service\":", ts,
		          log_names[level]) != MGR_OK ||
		    json_str(&b, log_process) != 0 ||
		    mgr_buf_add(&b, ",\"msg\":", 7) != MGR_OK || json_str(&b, msg) != 0;
		if (!bad && request_id != NULL)
			bad = mgr_buf_add(&b, ",\"request_id\":", 14) != MGR_OK ||
			    json_str(&b, request_id) != 0;
		bad = bad || add_fields(&b, f, nf) != 0 ||
		    mgr_buf_add(&b, "}\n", 2) != MGR_OK;
	} else {
		text_flatten(msg);
		bad = mgr_buf_printf(&b, "%s %s %s [%s] %s", ts, log_process,
		          log_names[level], request_id != NULL ? request_id : "-",
		          msg) != MGR_OK ||
		    add_fields(&b, f, nf) != 0 || mgr_buf_add(&b, "\n", 1) != MGR_OK;
	}
	/* One write per record so that lines of threads do not interleave. */
	if (!bad)
		fwrite(b.data, 1, b.len, stderr);
	else if (log_format == MGR_LOG_JSON)
		fprintf(stderr,
		    "{\"time\":\"%s\",\"level\":\"error\",\"service\":\"%s\","
		    "\"msg\":\"log record too long or out of memory\"}\n",
		    ts, log_process);
	else
		fprintf(stderr, "%s %s error [-] log record too long or out of memory\n",
		    ts, log_process);
	mgr_buf_free(&b);
}

void
mgr_log(int level, const char *request_id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_record(level, request_id, NULL, 0, fmt, ap);
	va_end(ap);
}

void
mgr_log_fields(int level, const char *request_id, const struct mgr_log_field *f,
    size_t nf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_record(level, request_id, f, nf, fmt, ap);
	va_end(ap);
}
