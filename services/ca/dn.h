/* The Subject DN registry's canonical form: two DNs that differ only in the
 * letter case, spacing or string encoding of their attribute values, in the
 * order of their RDNs or in how attributes are grouped into multi-valued
 * RDNs, are one (api/openapi.yaml, "Subject DN registry"). */
#ifndef MGR_CA_DN_H
#define MGR_CA_DN_H

#include <stddef.h>
#include <openssl/x509.h>

#include "common/err.h"

#define CA_DN_CANON_MAX 4096
#define CA_DN_KEY_MAX 72 /* "dn:" + 64 hex + NUL */

/* The canonical text of name: every attribute of every RDN, each as
 * "<numeric OID>=<length>:<value>" where value is UTF-8, trimmed, inner
 * whitespace runs collapsed to one space and case-folded (ASCII and
 * Latin-1), sorted bytewise and joined with ','. So /O=RT/CN=a, /CN=a/O=RT
 * and /CN=a+O=RT are one DN; a repeated attribute counts (CN=a,CN=a is not
 * CN=a). The length prefix keeps any value byte from forging a separator.
 * MGR_EINVAL for an empty DN, a value that is not convertible to UTF-8 or a
 * result longer than outlen - 1 (at most CA_DN_CANON_MAX). */
mgr_err ca_dn_canonical(const X509_NAME *name, char *out, size_t outlen);

/* MGR_EINVAL, with why, when an attribute value of name holds a control
 * character (C0, DEL or C1: NUL, CR, LF, ...) once converted to UTF-8. */
mgr_err ca_dn_check(const X509_NAME *name, char *why, size_t whylen);

/* "dn:<hex SHA-256 of the canonical text>", the Redis key of the DN's holder. */
mgr_err ca_dn_key(const X509_NAME *name, char out[CA_DN_KEY_MAX]);

/* RFC 2253 text of name (for display), bounded by outlen. */
mgr_err ca_dn_text(const X509_NAME *name, char *out, size_t outlen);

#endif
