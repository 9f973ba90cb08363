#include "cli/fsx.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

mgr_err
fsx_join(const char *dir, const char *name, char out[FSX_PATH_MAX])
{
	if ((size_t)snprintf(out, FSX_PATH_MAX, "%s/%s", dir, name) >= FSX_PATH_MAX)
		return (MGR_ETOOBIG);
	return (MGR_OK);
}

int
fsx_exists(const char *dir, const char *name)
{
	char p[FSX_PATH_MAX];
	struct stat st;

	return (fsx_join(dir, name, p) == MGR_OK && lstat(p, &st) == 0);
}

mgr_err
fsx_read(const char *path, size_t max, struct mgr_buf *out)
{
	char chunk[16384];
	int fd;
	ssize_t n;
	mgr_err rv = MGR_OK;

	mgr_buf_init(out, max);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (errno == ENOENT ? MGR_ENOTFOUND : MGR_EINTERNAL);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rv = MGR_EINTERNAL;
			break;
		}
		if ((rv = mgr_buf_add(out, chunk, (size_t)n)) != MGR_OK)
			break;
	}
	if (rv == MGR_OK && out->data == NULL)
		rv = mgr_buf_add(out, "", 0);
	close(fd);
	if (rv != MGR_OK)
		mgr_buf_free(out);
	return (rv);
}

mgr_err
fsx_write_temp(const char *dir, const char *name, const void *data, size_t len,
    mode_t mode, char tmp[FSX_PATH_MAX])
{
	const char *p = data;
	int fd;

	if ((size_t)snprintf(tmp, FSX_PATH_MAX, "%s/.%s.XXXXXX", dir, name) >=
	    FSX_PATH_MAX)
		return (MGR_ETOOBIG);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) /* 0600 from the start */
		return (MGR_EINTERNAL);
	if (fchmod(fd, mode) != 0)
		goto fail;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	return (MGR_OK);
fail : {
	int e = errno;

	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = e;
}
	return (MGR_EINTERNAL);
}

mgr_err
fsx_commit(const char *tmp, const char *dir, const char *name, int noreplace)
{
	char dst[FSX_PATH_MAX];

	if (fsx_join(dir, name, dst) != MGR_OK)
		return (MGR_ETOOBIG);
	if (!noreplace)
		return (rename(tmp, dst) == 0 ? MGR_OK : MGR_EINTERNAL);
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
		return (MGR_OK);
	if (errno == EEXIST)
		return (MGR_ECONFLICT);
	if (errno != EINVAL && errno != ENOSYS)
		return (MGR_EINTERNAL);
	/* A file system without RENAME_NOREPLACE: link() refuses to replace. */
	if (link(tmp, dst) != 0)
		return (errno == EEXIST ? MGR_ECONFLICT : MGR_EINTERNAL);
	unlink(tmp);
	return (MGR_OK);
}

mgr_err
fsx_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return (MGR_EINTERNAL);
	rc = fsync(fd);
	close(fd);
	return (rc == 0 ? MGR_OK : MGR_EINTERNAL);
}

mgr_err
fsx_write_atomic(const char *dir, const char *name, const void *data, size_t len,
    mode_t mode, int noreplace)
{
	char tmp[FSX_PATH_MAX];
	mgr_err rv;

	if ((rv = fsx_write_temp(dir, name, data, len, mode, tmp)) != MGR_OK)
		return (rv);
	if ((rv = fsx_commit(tmp, dir, name, noreplace)) != MGR_OK) {
		int e = errno;

		unlink(tmp);
		errno = e;
		return (rv);
	}
	return (fsx_fsync_dir(dir));
}

void
fsx_clean_temps(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t nl = strlen(name);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name;

		/* ".NAME." followed by mkstemp's six characters */
		if (n[0] == '.' && strncmp(n + 1, name, nl) == 0 && n[nl + 1] == '.' &&
		    strlen(n + nl + 2) == 6) {
			char p[FSX_PATH_MAX];

			if (fsx_join(dir, n, p) == MGR_OK)
				unlink(p);
		}
	}
	closedir(d);
}
