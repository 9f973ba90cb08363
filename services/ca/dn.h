/* The Subject DN registry's canonical form: two DNs that differ only in the
 * letter case, spacing or string encoding of their attribute values are one. */
#ifndef MGR_CA_DN_H
#define MGR_CA_DN_H

#include <stddef.h>
#include <openssl/x509.h>

#include "common/err.h"

#define CA_DN_CANON_MAX 4096
#define CA_DN_KEY_MAX 72 /* "dn:" + 64 hex + NUL */

/* The canonical text of name: for each RDN in order, its attributes sorted,
 * each as "<numeric OID>=<length>:<value>" where value is UTF-8, trimmed,
 * inner whitespace runs collapsed to one space and case-folded (ASCII and
 * Latin-1). Attributes of one RDN are joined with '+', RDNs with ','. The
 * length prefix keeps any value byte from forging a separator.
 * MGR_EINVAL for an empty DN, a value that is not convertible to UTF-8 or a
 * result longer than outlen - 1 (at most CA_DN_CANON_MAX). */
mgr_err ca_dn_canonical(const X509_NAME *name, char *out, size_t outlen);

/* "dn:<hex SHA-256 of the canonical text>", the Redis key of the DN's holder. */
mgr_err ca_dn_key(const X509_NAME *name, char out[CA_DN_KEY_MAX]);

/* RFC 2253 text of name (for display), bounded by outlen. */
mgr_err ca_dn_text(const X509_NAME *name, char *out, size_t outlen);

#endif
