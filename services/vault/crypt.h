/* Encryption at rest of vault-svc (OpenSSL EVP, AES-256-GCM).
 *
 * Master keys (key-encryption keys): 32 random bytes in
 * MANAGER_MASTER_KEY_FILE (raw, or 64 hex digits), created 0600 on the first
 * start of a deployment. Earlier master keys stay readable during a rotation
 * through MANAGER_MASTER_KEY_OLD_FILES (comma separated files). A key is
 * known by its id, 16 hex digits of SHA-256("mgr-master-key-id" || key).
 * Redis `vault:keks` (hash) maps every key id that wraps a data key to a
 * check value wrapped by that key, so a start with a wrong or missing key is
 * refused instead of serving wrong bytes or none.
 *
 * Data keys: one per vault, 32 random bytes, made on the vault's first write
 * and kept wrapped in its hash (field `dk`: "<key id>:<hex of nonce ||
 * ciphertext || tag>", AAD "mgr-dk1" || vault id) so that it is bound to its
 * vault. A rotation re-wraps data keys; chunk files never change.
 *
 * Chunk files: "MGC1" || nonce (12) || ciphertext || tag (16), sealed with
 * the vault's data key under the AAD "mgr-chunk1" || vault id || blob ||
 * chunk index || plaintext length: a flipped bit, a file swapped with
 * another chunk of the same or of another object, or a file of another
 * vault fails to open. */
#ifndef MGR_VAULT_CRYPT_H
#define MGR_VAULT_CRYPT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define VAULT_KEY_BYTES 32
#define VAULT_KID_LEN 16       /* hex digits of a master key id */
#define VAULT_SEAL_OVERHEAD 32 /* magic, nonce and tag of a chunk file */
#define VAULT_WRAPPED_MAX 160  /* a wrapped data key with its key id */

/* Loads the master keys (creating the current one on the first start, when
 * Redis knows of no key yet) and checks them against `vault:keks`: a key id
 * in use that no loaded key has, or a key that does not open its check
 * value, is refused with a log line saying which. Call once at start. */
mgr_err vault_crypt_init(const char *key_file, const char *old_files);
void vault_crypt_fini(void);
/* The id of the current master key. */
const char *vault_crypt_kid(void);

/* The data key of vault vid (made and stored on first use; cached). */
mgr_err vault_crypt_dk(const char *vid, uint8_t key[VAULT_KEY_BYTES]);

/* Wraps key for vid with the current master key into out (NUL terminated). */
mgr_err vault_crypt_wrap(const char *vid, const uint8_t key[VAULT_KEY_BYTES], char *out,
    size_t outlen);
/* Unwraps a `dk` value with whichever loaded master key it names.
 * MGR_EUNAVAIL when that key is not loaded or the value does not open. */
mgr_err vault_crypt_unwrap(const char *vid, const char *wrapped,
    uint8_t key[VAULT_KEY_BYTES]);

/* Seals len bytes of plaintext as chunk `index` of blob into out, which has
 * room for len + VAULT_SEAL_OVERHEAD bytes. */
mgr_err vault_seal(const uint8_t key[VAULT_KEY_BYTES], const char *vid, const char *blob,
    uint32_t index, const void *in, size_t len, uint8_t *out);
/* Opens a chunk file's bytes (inlen = len + VAULT_SEAL_OVERHEAD) into out
 * (len bytes). MGR_EINTERNAL when it does not authenticate. */
mgr_err vault_open(const uint8_t key[VAULT_KEY_BYTES], const char *vid, const char *blob,
    uint32_t index, const uint8_t *in, size_t inlen, uint8_t *out, size_t len);

/* One pass of a rotation: re-wraps the data keys of up to `limit` vaults
 * wrapped by an old master key with the current one; *left gets how many
 * vaults still use an old key (0: the old key ids are dropped from
 * vault:keks, and the old key files may go). */
mgr_err vault_crypt_rewrap_pass(size_t limit, size_t *left);

#endif
