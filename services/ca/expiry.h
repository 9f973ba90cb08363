/* The expiry scanner (API.md "Events"): certificate.expiring and
 * certificate.expired, exactly once per certificate and threshold, also with
 * several ca-svc replicas scanning at once; and the pruning of certificate
 * records past their retention.
 *
 * Design
 * - certs:expiry (score not_after, member serial; unrevoked certificates, see
 *   common/keys.h) says which certificates may still get events.
 *   certs:due holds the same members, scored by when the certificate next
 *   needs a look: 0 for one nobody has looked at yet (the scripts that issue
 *   add it so), then not_after - threshold for its next notice threshold, or
 *   not_after. A pass reads only certs:due (-inf, now] in bounded batches and
 *   moves every item it handles past now (or removes it): a pass costs
 *   O(certificates that need something now), not O(certificates in the
 *   notice window) as re-reading (now, now + notice] every pass did.
 * - certs:due is kept equal to certs:expiry as a set by every script that
 *   changes either (issue, revoke in rotation, the scanner). A pass first
 *   compares ZCARD of both and the notice days the scores were computed
 *   with (certs:due:notice); when they differ (certificates written by an
 *   older version or by hand, or MANAGER_EXPIRY_NOTICE_DAYS changed) it
 *   reconciles in bounded batches: every certs:expiry member missing from
 *   certs:due (all of them after a change of the notice days) is added with
 *   score 0, every certs:due member not in certs:expiry is dropped. This is
 *   also how a Redis written before certs:due existed gets it: on the first
 *   pass, idempotently, whichever replicas run it.
 * - Thresholds are MANAGER_EXPIRY_NOTICE_DAYS and 15 (if smaller), then
 *   "expired". A certificate whose not_after is within a threshold gets that
 *   event; one first seen later than a threshold (the scanner was down, or the
 *   certificate was issued for a short time) still gets every threshold it
 *   crossed, in order, so that each certificate sees the same sequence.
 * - One Lua script per batch claims each (serial, threshold) with
 *   SET evmark:<serial>:<threshold> NX and, in the same script, appends the
 *   event to ev:{<account>} and publishes it (common/events.h). A replica that
 *   loses the race gets nil from SET and emits nothing; a crash cannot
 *   separate the claim from the event. The markers, not the index, make the
 *   events exactly-once: a certificate looked at twice emits nothing twice.
 * - Once a certificate has expired (and certificate.expired is written), the
 *   same script removes it from certs:expiry and certs:due, drops it from
 *   acct:{id}:live and puts it in certs:expired (score not_after), the
 *   pruning index. Markers live until not_after + 30 days.
 * - Skipped: revoked certificates (revoked_at set), device certificates
 *   (holder "dev:…") and serials without a record; they get no events, wait
 *   in certs:due until not_after, and are then dropped from the index.
 *
 * Pruning (ca_expiry_prune): a certificate record is kept while the
 * certificate is valid, and after its not_after for MANAGER_CERT_RETENTION_S
 * (default 90 days), revoked or not; then one script per certificate batch
 * deletes cert:<serial> and its members of acct:{id}:certs, acct:{id}:live,
 * certs:expired and certs:revoked. Read from certs:expired and certs:revoked
 * (both scored by not_after) up to now - retention: O(records to delete).
 * Never pruned: a record still in certs:expiry (its certificate.expired is
 * not written yet), device certificates (GET /devices shows them), and the
 * spki:, dn: and evmark: keys (spki: markers stay for ever: rotation refuses
 * any key this CA ever certified). A revoked certificate leaves the CRL at
 * its not_after, long before its record goes. Before its first pruning,
 * ca_expiry_prune brings every account's acct:{id}:live up to date once
 * (a walk over acct:all in batches, cursor certs:live:at, marker
 * certs:live:built): that is how records of certificates that expired
 * before certs:expired existed reach it, also for accounts nobody uses. */
#ifndef MGR_CA_EXPIRY_H
#define MGR_CA_EXPIRY_H

#include <stdint.h>
#include "common/err.h"

#define CA_EXPIRY_BATCH 500        /* serials per read and script */
#define CA_EXPIRY_MAX_BATCHES 2000 /* per part of a pass: 1 M certificates */
#define CA_EXPIRY_SECOND_DAYS 15   /* the second notice threshold */
#define CA_EXPIRY_MARK_KEEP_S (30LL * 86400)
#define CA_PRUNE_BATCH 200 /* records per pruning script */

struct ca_expiry_stats {
	int64_t seen;      /* serials looked at */
	int64_t emitted;   /* events written by this replica */
	int64_t removed;   /* expired serials dropped from certs:expiry */
	int64_t reindexed; /* certs:due members added or dropped by reconciling */
	int64_t pruned;    /* certificate records deleted (ca_expiry_prune) */
};

/* certificate.expiring and certificate.expired events written by this
 * process's scans since its start (read with __atomic_load_n; /metrics). */
extern int64_t ca_expiry_events_sent;

/* One pass at time `now` (Unix seconds) with the notice window in days.
 * Uses this thread's Redis context. On success *st (if non-NULL) counts. */
mgr_err ca_expiry_scan(int64_t now, int64_t notice_days, struct ca_expiry_stats *st);

/* Deletes the records of certificates whose not_after lies retention_s or
 * more before now (see above). On success st->pruned (if st) counts them. */
mgr_err ca_expiry_prune(int64_t now, int64_t retention_s, struct ca_expiry_stats *st);

#endif
