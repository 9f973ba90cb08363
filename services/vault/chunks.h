/* Chunk files of vault-svc: object data on disk, sealed (crypt.h).
 *
 * A blob is the data of one write (an upload; its id is the upload id,
 * unique per write): chunk files <root>/<vault id>/<blob>/<index>, every
 * chunk VAULT_CHUNK_BYTES of plaintext but the last. Copy 0 lives under
 * MANAGER_OBJECT_DIR, copy 1 (mirrored vaults) under MANAGER_MIRROR_DIR,
 * both the same sealed bytes. A file is written under a temporary name,
 * fdatasync'ed and then linked to its name (copy 0: never replacing a file
 * that is there, so a chunk sent twice keeps its first data), so a name
 * never shows a partial file; vault_chunks_sync makes the directory entries
 * durable before the metadata commit. Files are never changed after that:
 * only Redis decides which blobs an object is made of (store.h), and the
 * collector (gc.c) removes a blob once nothing refers to it.
 *
 * Several replicas may share the roots (ReadWriteMany volumes): names are
 * unique per write, so no two processes write the same file, except a
 * resend of the same chunk, which link() settles. */
#ifndef MGR_VAULT_CHUNKS_H
#define MGR_VAULT_CHUNKS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Sets the two roots and creates them (0700). Call once at start. */
mgr_err vault_chunks_init(const char *object_dir, const char *mirror_dir);
const char *vault_chunks_root(int copy);

/* Seals and writes chunk index of blob (copies 1 or 2). The same chunk
 * written again with the same data changes nothing (MGR_OK); with other
 * data it is MGR_EINVAL and the first data stays. *created (may be NULL)
 * says whether this call made copy 0. */
mgr_err vault_chunk_write(const char *vid, const char *blob, uint32_t index, int copies,
    const void *data, size_t len, int *created);
/* Reads chunk index of blob, len bytes of plaintext, into out: copy 0, else
 * copy 1 of a mirrored vault. A copy that is missing, of the wrong size or
 * does not authenticate is logged and never served; when the other copy is
 * good it is rewritten from it (a mirror heals on read). MGR_ENOTFOUND when
 * no copy is good. */
mgr_err vault_chunk_read(const char *vid, const char *blob, uint32_t index, int copies,
    uint8_t *out, size_t len);
/* fsync of the blob's directories (both copies), the vault's directory and
 * the roots: the files written so far are durable once this returns. */
mgr_err vault_chunks_sync(const char *vid, const char *blob, int copies);
/* Removes a blob's files from both roots (missing files are fine). */
mgr_err vault_chunks_remove(const char *vid, const char *blob);
/* Removes one chunk file of copy 0 and 1 (a refused chunk). */
void vault_chunk_unlink(const char *vid, const char *blob, uint32_t index);

/* Verifies (and repairs) every chunk of a mirrored blob's first `count`
 * chunks of chunk_bytes (the last `last` bytes): the scrubber. *bad gets
 * the number of damaged copies found. */
mgr_err vault_chunks_scrub(const char *vid, const char *blob, uint32_t first,
    uint32_t count, uint32_t chunk_bytes, uint32_t last, int copies, int *bad);

#endif
