/* File-system helpers shared by the cache, the run and the server. */
#ifndef PTC_FSUTIL_H
#define PTC_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>
#include "ptc/buf.h"
#include "ptc/map.h"

/* The one whole-file reader: appends the file to out (NUL-terminated,
 * not counted in len).  0, or -1 with errno: EISDIR for a directory,
 * EFBIG past max bytes (0: no limit), the read's own.  Opening never
 * blocks: a FIFO without a writer reads as empty. */
int ptc_read_file_max(const char *path, ptc_buf *out, size_t max);
int ptc_read_file(const char *path, ptc_buf *out);      /* no limit */

/* Reads into buf until cap bytes, end of file, or at least enough bytes
 * (EINTR retried).  The count, or -1 with errno. */
ssize_t ptc_read_upto(int fd, void *buf, size_t cap, size_t enough);
/* Copies the rest of from to to.  0 or -1/errno. */
int ptc_copy_fd(int from, int to);

/* mkdir -p with mode for the directories it creates.  0 or -1/errno. */
int ptc_mkdirs(const char *path, mode_t mode);

/* Writes data to a temporary file beside path (".name.XXXXXX"), fsyncs and
 * renames it over path.  On failure nothing is left behind and path is
 * untouched.  0 or -1/errno. */
int ptc_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* Creates a temporary file beside path: DIR/.NAME.ptc-XXXXXX.  Returns the
 * fd and sets *tmp (caller frees), or -1/errno. */
int ptc_mktemp_beside(const char *path, mode_t mode, char **tmp);

/* The same, with dirfd an open descriptor of path's directory (or
 * AT_FDCWD): the file is created relative to it, which spares the kernel
 * walking the whole path; *tmp is still the full name. */
int ptc_mktemp_at(int dirfd, const char *path, mode_t mode, char **tmp);

/* Open directories, so that per-file calls (openat, renameat, ...) name a
 * file relative to its directory instead of walking the whole path each
 * time.  At most PTC_DIRCACHE_MAX are kept open; past that, and for a
 * directory that cannot be opened, paths are used whole.
 * Ownership: ptc_dircache_free closes them all (NULL accepted). */
#define PTC_DIRCACHE_MAX 256
typedef struct ptc_dircache {
    ptc_map map;                /* hash of the directory -> index + 1 */
    int *fds;
    size_t n;
} ptc_dircache;

/* The descriptor for path's directory and *rel, path's name relative to
 * it; or AT_FDCWD and path itself. */
int  ptc_dircache_at(ptc_dircache *c, const char *path, const char **rel);
void ptc_dircache_free(ptc_dircache *c);

/* The spelling of path that identifies the file: repeated slashes and
 * `.` components dropped (a/./b, a//b and a/b are one file).  Used as the
 * key of the run's output checks; the text written into files keeps the
 * template's own spelling. */
void ptc_path_key(const char *path, ptc_buf *out);

/* fsync on a directory, so a rename inside it is durable. */
int ptc_fsync_dir(const char *dir);

/* The directory part of path (caller frees); "." when there is none. */
char *ptc_dirname(const char *path);

/* 1 if the file exists (any type), 0 if not. */
int ptc_exists(const char *path);

#endif
