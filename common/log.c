#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *log_process = "manager";
static int log_threshold = MGR_LOG_INFO;
static const char *const log_names[] = {"error", "warn", "info", "debug"};

void
mgr_log_init(const char *process, int level)
{
	log_process = process;
	log_threshold = level;
}

int
mgr_log_level_parse(const char *s)
{
	if (s == NULL || *s == '\0')
		return (MGR_LOG_INFO);
	for (int i = 0; i < 4; i++)
		if (strcmp(s, log_names[i]) == 0)
			return (i);
	return (MGR_LOG_INFO);
}

void
mgr_log(int level, const char *request_id, const char *fmt, ...)
{
	char line[2048];
	char ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	if (level > log_threshold)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ldZ %s %s [%s] ", ts,
	    now.tv_nsec / 1000000, log_process, log_names[level],
	    request_id != NULL && *request_id != '\0' ? request_id : "-");
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per record so that lines of threads do not interleave. */
	fprintf(stderr, "%s\n", line);
}
