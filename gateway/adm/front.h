/* The IBM `.adm` front (api/ibm-compat.md) as the core serves it: every path
 * under /manager/api/, answered in IBM's envelope. */
#ifndef MGR_GATEWAY_ADM_FRONT_H
#define MGR_GATEWAY_ADM_FRONT_H

#include "gateway/gw.h"

extern const struct gw_front gw_front_adm;

/* Makes the front's route table from its methods; once, before serving. */
mgr_err gw_adm_init(void);

#endif
