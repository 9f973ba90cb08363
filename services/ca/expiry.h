/* The expiry scanner (API.md "Events"): certificate.expiring and
 * certificate.expired, exactly once per certificate and threshold, also with
 * several ca-svc replicas scanning at once.
 *
 * Design
 * - The index certs:expiry (score not_after, member serial; unrevoked
 *   certificates, see common/keys.h) is read with ZRANGEBYSCORE in bounded
 *   batches; nothing scans all certificates.
 * - Thresholds are MANAGER_EXPIRY_NOTICE_DAYS and 15 (if smaller), then
 *   "expired". A certificate whose not_after is within a threshold gets that
 *   event; one first seen later than a threshold (the scanner was down, or the
 *   certificate was issued for a short time) still gets every threshold it
 *   crossed, in order, so that each certificate sees the same sequence.
 * - One Lua script per batch claims each (serial, threshold) with
 *   SET evmark:<serial>:<threshold> NX and, in the same script, appends the
 *   event to ev:{<account>} and publishes it (common/events.h). A replica that
 *   loses the race gets nil from SET and emits nothing; a crash cannot
 *   separate the claim from the event.
 * - Once a certificate has expired (and certificate.expired is written), the
 *   same script removes it from certs:expiry, so that the expired part of the
 *   index stays small and the scanner never looks at it again. Markers live
 *   until not_after + 30 days (they are not needed after the removal).
 * - Skipped: revoked certificates (revoked_at set), device certificates
 *   (holder "dev:…") and serials without a record; they get no events, and
 *   are dropped from the index once expired.
 * - Each pass: first the expired part (-inf, now], from the start, until it
 *   is empty (every item handled is removed); then the window
 *   (now, now + notice], paged by offset (an item that shifts between pages
 *   is seen twice, which the markers make harmless, or in the next pass). */
#ifndef MGR_CA_EXPIRY_H
#define MGR_CA_EXPIRY_H

#include <stdint.h>
#include "common/err.h"

#define CA_EXPIRY_BATCH 500        /* serials per ZRANGEBYSCORE and script */
#define CA_EXPIRY_MAX_BATCHES 2000 /* per part of a pass: 1 M certificates */
#define CA_EXPIRY_SECOND_DAYS 15   /* the second notice threshold */
#define CA_EXPIRY_MARK_KEEP_S (30LL * 86400)

struct ca_expiry_stats {
	int64_t seen;     /* serials looked at */
	int64_t emitted;  /* events written by this replica */
	int64_t removed;  /* expired serials dropped from certs:expiry */
};

/* One pass at time `now` (Unix seconds) with the notice window in days.
 * Uses this thread's Redis context. On success *st (if non-NULL) counts. */
mgr_err ca_expiry_scan(int64_t now, int64_t notice_days,
    struct ca_expiry_stats *st);

#endif
