/* Moves the Subject DN registry to the current canonical form (dn.h). */
#ifndef MGR_CA_DNMIGRATE_H
#define MGR_CA_DNMIGRATE_H

#include "common/err.h"

/* Once per Redis (marker key "dn:form" = CA_DN_FORM): for every certificate
 * record whose "dn" key was made by an earlier canonical form, claims the
 * current key for the record's holder, points the record at it and drops
 * the old key. Two holders whose DNs the current form makes one (before:
 * /O=RT/CN=a and /CN=a/O=RT were two) keep what they had; the second is
 * logged, and from now on only the first may be issued that DN. Run by the
 * background thread at start (retried while Redis is unreachable) before
 * any DN-claiming call is served; replicas starting at once do the same
 * idempotent work. */
mgr_err ca_dn_migrate(void);

/* Whether ca_dn_migrate has succeeded in this process (set by the caller
 * with ca_dn_set_ready); thread-safe. */
int ca_dn_ready(void);
void ca_dn_set_ready(void);

#endif
