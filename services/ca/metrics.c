/* ca-svc's domain metrics (common/metrics.h): the certificates it knows by
 * status, read from its indexes at each scrape (four counts, O(log n)
 * each), the CA certificate's expiry, and the expiry events it sent. */
#include "services/ca/metrics.h"

#include "common/kv.h"
#include "common/metrics.h"
#include "common/util.h"
#include "services/ca/expiry.h"

/* The count a ZCARD/ZCOUNT answers, or -1 when Redis did not. */
static long long
zcount(const char *fmt, const char *key, const char *min, const char *max)
{
	redisReply *r = NULL;
	long long n = -1;

	if (kv_cmd(&r, fmt, key, min, max) == MGR_OK) {
		if (r->type == REDIS_REPLY_INTEGER)
			n = r->integer;
		freeReplyObject(r);
	}
	return (n);
}

void
ca_metrics(void *state, struct mgr_buf *b, const char *labels)
{
	const struct ca_state *ca = state;
	char now[32], past[32];
	long long valid, due, expired, revoked;

	snprintf(now, sizeof(now), "(%lld", (long long)mgr_now_s());
	snprintf(past, sizeof(past), "%lld", (long long)mgr_now_s());
	/* certs:expiry: unrevoked, not yet moved by the scanner; those past
	 * their not_after are expired already. */
	valid = zcount("ZCOUNT %s %s %s", "certs:expiry", now, "+inf");
	due = zcount("ZCOUNT %s %s %s", "certs:expiry", "-inf", past);
	expired = zcount("ZCOUNT %s %s %s", "certs:expired", "-inf", "+inf");
	revoked = zcount("ZCOUNT %s %s %s", "certs:revoked", "-inf", "+inf");
	if (valid >= 0 && due >= 0 && expired >= 0 && revoked >= 0) {
		mgr_metrics_family(b, "manager_certificates", "gauge",
		    "Certificates the CA issued whose records are kept, by status "
		    "(expired and revoked ones until MANAGER_CERT_RETENTION_S).");
		mgr_buf_printf(b,
		    "manager_certificates{%s,status=\"valid\"} %lld\n"
		    "manager_certificates{%s,status=\"expired\"} %lld\n"
		    "manager_certificates{%s,status=\"revoked\"} %lld\n",
		    labels, valid, labels, due + expired, labels, revoked);
	}
	if (ca != NULL) {
		mgr_metrics_family(b, "manager_ca_certificate_expiry_timestamp_seconds",
		    "gauge", "The Manager CA certificate's notAfter, Unix seconds.");
		mgr_buf_printf(b,
		    "manager_ca_certificate_expiry_timestamp_seconds{%s} %lld\n", labels,
		    (long long)ca->not_after);
	}
	mgr_metrics_family(b, "manager_expiry_events_sent_total", "counter",
	    "certificate.expiring and certificate.expired events this process's "
	    "expiry scans wrote.");
	mgr_buf_printf(b, "manager_expiry_events_sent_total{%s} %lld\n", labels,
	    (long long)__atomic_load_n(&ca_expiry_events_sent, __ATOMIC_RELAXED));
}
