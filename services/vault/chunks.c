/* Chunk files (chunks.h). */
#include "services/vault/chunks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "services/vault/crypt.h"

static char roots[2][MGR_PATH_MAX];

static mgr_err
mkdirs(const char *path)
{
	char tmp[MGR_PATH_MAX];
	size_t len = (size_t)snprintf(tmp, sizeof(tmp), "%s", path);

	if (len >= sizeof(tmp))
		return (MGR_EINVAL);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return (MGR_EINTERNAL);
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return (MGR_EINTERNAL);
	return (MGR_OK);
}

mgr_err
vault_chunks_init(const char *object_dir, const char *mirror_dir)
{
	const char *d[2] = {object_dir, mirror_dir};

	for (int c = 0; c < 2; c++) {
		if (snprintf(roots[c], sizeof(roots[c]), "%s", d[c]) >=
		        (int)sizeof(roots[c]) - 160 ||
		    mkdirs(roots[c]) != MGR_OK) {
			log_error(NULL, "cannot create %s %s",
			    c == 0 ? "MANAGER_OBJECT_DIR" : "MANAGER_MIRROR_DIR", d[c]);
			return (MGR_EINVAL);
		}
	}
	return (MGR_OK);
}

const char *
vault_chunks_root(int copy)
{
	return (roots[copy != 0]);
}

static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	return (n > 0 && n < 64 &&
	    strspn(s,
	        "abcdefghijklmnopqrstuvwxyz"
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n);
}

/* <root>/<vid>/<blob> */
static mgr_err
blob_dir(int copy, const char *vid, const char *blob, char *out, size_t len)
{
	if (!name_ok(vid) || !name_ok(blob))
		return (MGR_EINVAL);
	if ((size_t)snprintf(out, len, "%s/%s/%s", roots[copy], vid, blob) >= len)
		return (MGR_EINVAL);
	return (MGR_OK);
}

static mgr_err
chunk_path(int copy, const char *vid, const char *blob, uint32_t index, char *out,
    size_t len)
{
	char dir[MGR_PATH_MAX];
	mgr_err rv;

	if ((rv = blob_dir(copy, vid, blob, dir, sizeof(dir))) != MGR_OK)
		return (rv);
	if ((size_t)snprintf(out, len, "%s/%u", dir, index) >= len)
		return (MGR_EINVAL);
	return (MGR_OK);
}

static mgr_err
ensure_blob_dir(int copy, const char *vid, const char *blob)
{
	char dir[MGR_PATH_MAX];
	mgr_err rv;

	if ((rv = blob_dir(copy, vid, blob, dir, sizeof(dir))) != MGR_OK)
		return (rv);
	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return (MGR_OK);
	if (errno != ENOENT)
		return (MGR_EINTERNAL);
	return (mkdirs(dir));
}

/* Writes buf to a new temporary file next to path, fdatasync'ed; its name
 * into tmp. */
static mgr_err
write_tmp(const char *path, const uint8_t *buf, size_t len, char *tmp, size_t tmplen)
{
	char rnd[17];
	size_t off = 0;
	int fd;

	if (mgr_random_hex(8, rnd, sizeof(rnd)) != MGR_OK)
		return (MGR_EINTERNAL);
	if ((size_t)snprintf(tmp, tmplen, "%s.%s.tmp", path, rnd) >= tmplen)
		return (MGR_EINVAL);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
		log_error(NULL, "cannot create %s: %s", tmp, strerror(errno));
		return (MGR_EUNAVAIL);
	}
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_error(NULL, "cannot write %s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			return (MGR_EUNAVAIL);
		}
		off += (size_t)n;
	}
	if (fdatasync(fd) != 0) {
		log_error(NULL, "cannot sync %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return (MGR_EUNAVAIL);
	}
	close(fd);
	return (MGR_OK);
}

/* Reads exactly len bytes of a file that must be that long. */
static mgr_err
read_exact(const char *path, uint8_t *buf, size_t len)
{
	struct stat st;
	size_t off = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (MGR_ENOTFOUND);
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != (uint64_t)len) {
		close(fd);
		return (MGR_ENOTFOUND);
	}
	while (off < len) {
		ssize_t n = pread(fd, buf + off, len - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return (MGR_ENOTFOUND);
		}
		off += (size_t)n;
	}
	close(fd);
	return (MGR_OK);
}

/* Puts sealed bytes at copy's path: copy 0 never replaces a file (link),
 * copy 1 does (rename). *existed: copy 0 was there already. */
static mgr_err
put_copy(int copy, const char *vid, const char *blob, uint32_t index,
    const uint8_t *sealed, size_t len, int *existed)
{
	char path[MGR_PATH_MAX], tmp[MGR_PATH_MAX + 32];
	mgr_err rv;

	*existed = 0;
	if ((rv = ensure_blob_dir(copy, vid, blob)) != MGR_OK ||
	    (rv = chunk_path(copy, vid, blob, index, path, sizeof(path))) != MGR_OK ||
	    (rv = write_tmp(path, sealed, len, tmp, sizeof(tmp))) != MGR_OK)
		return (rv);
	if (copy == 0) {
		if (link(tmp, path) != 0) {
			if (errno == EEXIST)
				*existed = 1;
			else
				rv = MGR_EUNAVAIL;
		}
		unlink(tmp);
	} else if (rename(tmp, path) != 0) {
		unlink(tmp);
		rv = MGR_EUNAVAIL;
	}
	if (rv != MGR_OK)
		log_error(NULL, "cannot store %s: %s", path, strerror(errno));
	return (rv);
}

mgr_err
vault_chunk_write(const char *vid, const char *blob, uint32_t index, int copies,
    const void *data, size_t len, int *created)
{
	uint8_t key[VAULT_KEY_BYTES], *sealed = NULL, *old = NULL;
	int existed = 0;
	mgr_err rv;

	if (len > (64u << 20))
		return (MGR_EINVAL);
	if ((rv = vault_crypt_dk(vid, key)) != MGR_OK)
		return (rv);
	if ((sealed = malloc(len + VAULT_SEAL_OVERHEAD)) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	if ((rv = vault_seal(key, vid, blob, index, data, len, sealed)) != MGR_OK ||
	    (rv = put_copy(0, vid, blob, index, sealed, len + VAULT_SEAL_OVERHEAD,
	         &existed)) != MGR_OK)
		goto out;
	if (existed) {
		/* Sent before: the same data is fine, other data is refused. */
		if ((old = malloc(len > 0 ? len : 1)) == NULL) {
			rv = MGR_ENOMEM;
			goto out;
		}
		rv = vault_chunk_read(vid, blob, index, copies, old, len);
		if (rv != MGR_OK || (len > 0 && memcmp(old, data, len) != 0)) {
			rv = MGR_EINVAL;
			goto out;
		}
		rv = MGR_OK;
		goto out;
	}
	if (copies > 1)
		rv = put_copy(1, vid, blob, index, sealed, len + VAULT_SEAL_OVERHEAD,
		    &existed);
out:
	if (created != NULL)
		*created = rv == MGR_OK && !existed;
	OPENSSL_cleanse(key, sizeof(key));
	free(sealed);
	if (old != NULL) {
		OPENSSL_cleanse(old, len);
		free(old);
	}
	return (rv);
}

/* Rewrites copy `copy` of a chunk from good sealed bytes. */
static void
repair(int copy, const char *vid, const char *blob, uint32_t index, const uint8_t *sealed,
    size_t len)
{
	char path[MGR_PATH_MAX], tmp[MGR_PATH_MAX + 32];

	if (ensure_blob_dir(copy, vid, blob) != MGR_OK ||
	    chunk_path(copy, vid, blob, index, path, sizeof(path)) != MGR_OK ||
	    write_tmp(path, sealed, len, tmp, sizeof(tmp)) != MGR_OK)
		goto fail;
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		goto fail;
	}
	(void)vault_chunks_sync(vid, blob, copy + 1);
	log_info(NULL, "vault %s: chunk %s/%u copy %d repaired from copy %d", vid, blob,
	    index, copy, !copy);
	return;
fail:
	log_error(NULL, "vault %s: chunk %s/%u copy %d could not be repaired", vid, blob,
	    index, copy);
}

/* Reads and opens one copy into out; sealed (len + overhead) keeps the
 * file's bytes. */
static mgr_err
read_copy(const uint8_t *key, int copy, const char *vid, const char *blob, uint32_t index,
    uint8_t *sealed, uint8_t *out, size_t len)
{
	char path[MGR_PATH_MAX];
	mgr_err rv;

	if ((rv = chunk_path(copy, vid, blob, index, path, sizeof(path))) != MGR_OK)
		return (rv);
	if ((rv = read_exact(path, sealed, len + VAULT_SEAL_OVERHEAD)) != MGR_OK) {
		log_warn(NULL,
		    "vault %s: chunk %s/%u copy %d is missing or of the "
		    "wrong size",
		    vid, blob, index, copy);
		return (MGR_ENOTFOUND);
	}
	if (vault_open(key, vid, blob, index, sealed, len + VAULT_SEAL_OVERHEAD, out,
	        len) != MGR_OK) {
		log_warn(NULL,
		    "vault %s: chunk %s/%u copy %d is damaged (it does not "
		    "authenticate); not served",
		    vid, blob, index, copy);
		return (MGR_ENOTFOUND);
	}
	return (MGR_OK);
}

static int
copy_looks_whole(int copy, const char *vid, const char *blob, uint32_t index, size_t len)
{
	char path[MGR_PATH_MAX];
	struct stat st;

	return (chunk_path(copy, vid, blob, index, path, sizeof(path)) == MGR_OK &&
	    stat(path, &st) == 0 &&
	    (uint64_t)st.st_size == (uint64_t)(len + VAULT_SEAL_OVERHEAD));
}

mgr_err
vault_chunk_read(const char *vid, const char *blob, uint32_t index, int copies,
    uint8_t *out, size_t len)
{
	uint8_t key[VAULT_KEY_BYTES], *sealed;
	mgr_err rv;

	if ((rv = vault_crypt_dk(vid, key)) != MGR_OK)
		return (rv);
	if ((sealed = malloc(len + VAULT_SEAL_OVERHEAD)) == NULL) {
		OPENSSL_cleanse(key, sizeof(key));
		return (MGR_ENOMEM);
	}
	rv = read_copy(key, 0, vid, blob, index, sealed, out, len);
	if (rv == MGR_OK) {
		/* A missing or cut copy 1 is seen here at the cost of a stat;
		 * a flipped bit in it is found by the scrubber (gc.c). */
		if (copies > 1 && !copy_looks_whole(1, vid, blob, index, len)) {
			log_warn(NULL,
			    "vault %s: chunk %s/%u copy 1 is missing or of "
			    "the wrong size",
			    vid, blob, index);
			repair(1, vid, blob, index, sealed, len + VAULT_SEAL_OVERHEAD);
		}
	} else if (copies > 1 && rv == MGR_ENOTFOUND &&
	    (rv = read_copy(key, 1, vid, blob, index, sealed, out, len)) == MGR_OK) {
		repair(0, vid, blob, index, sealed, len + VAULT_SEAL_OVERHEAD);
	}
	OPENSSL_cleanse(key, sizeof(key));
	free(sealed);
	return (rv);
}

static int
fsync_path(const char *path)
{
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return (-1);
	rc = fsync(fd);
	close(fd);
	return (rc);
}

mgr_err
vault_chunks_sync(const char *vid, const char *blob, int copies)
{
	char dir[MGR_PATH_MAX], vdir[MGR_PATH_MAX + 80];
	mgr_err rv;

	for (int c = 0; c < copies && c < 2; c++) {
		if ((rv = blob_dir(c, vid, blob, dir, sizeof(dir))) != MGR_OK)
			return (rv);
		if ((size_t)snprintf(vdir, sizeof(vdir), "%s/%s", roots[c], vid) >=
		    sizeof(vdir))
			return (MGR_EINVAL);
		/* A blob with no chunk (an empty object) has no directory. */
		if (fsync_path(dir) != 0 && errno != ENOENT) {
			log_error(NULL, "cannot sync %s: %s", dir, strerror(errno));
			return (MGR_EUNAVAIL);
		}
		if (fsync_path(vdir) != 0 && errno != ENOENT) {
			log_error(NULL, "cannot sync %s: %s", vdir, strerror(errno));
			return (MGR_EUNAVAIL);
		}
		if (fsync_path(roots[c]) != 0) {
			log_error(NULL, "cannot sync %s: %s", roots[c], strerror(errno));
			return (MGR_EUNAVAIL);
		}
	}
	return (MGR_OK);
}

mgr_err
vault_chunks_remove(const char *vid, const char *blob)
{
	char dir[MGR_PATH_MAX], path[MGR_PATH_MAX + 300];
	struct dirent *e;
	mgr_err rv = MGR_OK;
	DIR *d;

	for (int c = 0; c < 2; c++) {
		if (blob_dir(c, vid, blob, dir, sizeof(dir)) != MGR_OK)
			return (MGR_EINVAL);
		if ((d = opendir(dir)) == NULL) {
			if (errno != ENOENT)
				rv = MGR_EINTERNAL;
			continue;
		}
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (unlink(path) != 0 && errno != ENOENT)
				rv = MGR_EINTERNAL;
		}
		closedir(d);
		if (rmdir(dir) != 0 && errno != ENOENT)
			rv = MGR_EINTERNAL;
	}
	return (rv);
}

void
vault_chunk_unlink(const char *vid, const char *blob, uint32_t index)
{
	char path[MGR_PATH_MAX];

	for (int c = 0; c < 2; c++)
		if (chunk_path(c, vid, blob, index, path, sizeof(path)) == MGR_OK)
			unlink(path);
}

mgr_err
vault_chunks_scrub(const char *vid, const char *blob, uint32_t first, uint32_t count,
    uint32_t chunk_bytes, uint32_t last, int copies, int *bad)
{
	uint8_t key[VAULT_KEY_BYTES], *sealed = NULL, *sealed1 = NULL, *out = NULL;
	mgr_err rv;

	*bad = 0;
	if ((rv = vault_crypt_dk(vid, key)) != MGR_OK)
		return (rv);
	if ((sealed = malloc(chunk_bytes + VAULT_SEAL_OVERHEAD)) == NULL ||
	    (sealed1 = malloc(chunk_bytes + VAULT_SEAL_OVERHEAD)) == NULL ||
	    (out = malloc(chunk_bytes > 0 ? chunk_bytes : 1)) == NULL) {
		rv = MGR_ENOMEM;
		goto out;
	}
	for (uint32_t i = first; i < first + count; i++) {
		size_t len = i + 1 == first + count ? last : chunk_bytes;
		mgr_err r0, r1 = MGR_OK;

		r0 = read_copy(key, 0, vid, blob, i, sealed, out, len);
		if (copies > 1)
			r1 = read_copy(key, 1, vid, blob, i, sealed1, out, len);
		if (r0 != MGR_OK && r1 == MGR_OK && copies > 1) {
			(*bad)++;
			repair(0, vid, blob, i, sealed1, len + VAULT_SEAL_OVERHEAD);
		} else if (r0 == MGR_OK && r1 != MGR_OK) {
			(*bad)++;
			repair(1, vid, blob, i, sealed, len + VAULT_SEAL_OVERHEAD);
		} else if (r0 != MGR_OK) {
			(*bad)++;
			log_error(NULL, "vault %s: chunk %s/%u has no good copy", vid,
			    blob, i);
		}
	}
out:
	OPENSSL_cleanse(key, sizeof(key));
	free(sealed);
	free(sealed1);
	if (out != NULL) {
		OPENSSL_cleanse(out, chunk_bytes);
		free(out);
	}
	return (rv);
}
