/* vault-svc's rules, without I/O: vault names and object keys. */
#ifndef MGR_VAULT_RULES_H
#define MGR_VAULT_RULES_H

#include <stddef.h>

/* 3..63 of [a-z0-9-] (VAULT_NAME_MIN, VAULT_NAME_MAX of store.h). */
int vault_name_valid(const char *name);
/* 1..VAULT_KEY_MAX bytes of valid UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF) without NUL. */
int vault_key_valid(const char *key, size_t len);
int vault_utf8_valid(const char *s, size_t len);

#endif
