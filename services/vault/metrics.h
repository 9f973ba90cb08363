/* vault-svc's domain metrics, for svc_def.metrics (see metrics.c). */
#ifndef MGR_VAULT_METRICS_H
#define MGR_VAULT_METRICS_H

#include "common/buf.h"

void vault_metrics(void *state, struct mgr_buf *b, const char *labels);

#endif
