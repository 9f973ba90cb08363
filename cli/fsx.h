/* Files written so that a crash at any moment leaves the old content or the
 * new one: a temporary file in the same directory, fsync, rename over the
 * name (or next to it, refusing to replace), fsync of the directory. */
#ifndef MGR_CLI_FSX_H
#define MGR_CLI_FSX_H

#include <stddef.h>
#include <sys/types.h>
#include "common/buf.h"
#include "common/err.h"

#define FSX_PATH_MAX 4096

/* Reads a whole file of at most max bytes into out (NUL-terminated).
 * MGR_ENOTFOUND when absent, MGR_ETOOBIG when larger, MGR_EINTERNAL for other
 * I/O errors (errno kept). */
mgr_err fsx_read(const char *path, size_t max, struct mgr_buf *out);
/* Writes data to a new temporary file ".NAME.XXXXXX" in dir with mode,
 * fsynced; its name goes to tmp. */
mgr_err fsx_write_temp(const char *dir, const char *name, const void *data, size_t len,
    mode_t mode, char tmp[FSX_PATH_MAX]);
/* Renames tmp to dir/name; with noreplace, fails with MGR_ECONFLICT when
 * name exists (and leaves tmp). Does not fsync the directory. */
mgr_err fsx_commit(const char *tmp, const char *dir, const char *name, int noreplace);
mgr_err fsx_fsync_dir(const char *dir);
/* fsx_write_temp + fsx_commit + fsx_fsync_dir. */
mgr_err fsx_write_atomic(const char *dir, const char *name, const void *data, size_t len,
    mode_t mode, int noreplace);
/* dir/name, or MGR_ETOOBIG. */
mgr_err fsx_join(const char *dir, const char *name, char out[FSX_PATH_MAX]);
int fsx_exists(const char *dir, const char *name);
/* Removes leftover ".NAME.XXXXXX" temporaries of name in dir. */
void fsx_clean_temps(const char *dir, const char *name);

#endif
