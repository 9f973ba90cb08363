/* ca-svc's domain metrics, for svc_def.metrics (see metrics.c). */
#ifndef MGR_CA_METRICS_H
#define MGR_CA_METRICS_H

#include "common/buf.h"
#include "services/ca/ca.h"

/* state: the struct ca_state. */
void ca_metrics(void *state, struct mgr_buf *b, const char *labels);

#endif
