/* Logging with levels and request ids, one line per record, to stderr.
 * Never pass passwords, private keys or certificates to these. */
#ifndef MGR_COMMON_LOG_H
#define MGR_COMMON_LOG_H

enum { MGR_LOG_ERROR = 0, MGR_LOG_WARN, MGR_LOG_INFO, MGR_LOG_DEBUG };

void mgr_log_init(const char *process, int level);
int mgr_log_level_parse(const char *s);
void mgr_log(int level, const char *request_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(rid, ...) mgr_log(MGR_LOG_ERROR, rid, __VA_ARGS__)
#define log_warn(rid, ...) mgr_log(MGR_LOG_WARN, rid, __VA_ARGS__)
#define log_info(rid, ...) mgr_log(MGR_LOG_INFO, rid, __VA_ARGS__)
#define log_debug(rid, ...) mgr_log(MGR_LOG_DEBUG, rid, __VA_ARGS__)

#endif
