/* account-svc's domain metrics, for svc_def.metrics (see metrics.c). */
#ifndef MGR_ACCOUNT_METRICS_H
#define MGR_ACCOUNT_METRICS_H

#include "common/buf.h"

void account_metrics(void *state, struct mgr_buf *b, const char *labels);

#endif
