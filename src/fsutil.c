/* File-system helpers: whole-file reads, mkdir -p, atomic writes. */
#include "ptc/fsutil.h"
#include "ptc/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ptc_read_file(const char *path, ptc_buf *out)
{
    /* O_NONBLOCK only for the open: a FIFO without a writer must not hang
     * the run (it reads as empty). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        errno = EISDIR;
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    for (;;) {
        ptc_buf_reserve(out, 65536);
        ssize_t n = read(fd, out->data + out->len, out->cap - out->len - 1);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (n == 0) break;
        out->len += (size_t)n;
    }
    close(fd);
    return 0;
}

int ptc_mkdirs(const char *path, mode_t mode)
{
    char *p = ptc_xstrdup(path);
    int rc = 0;
    for (char *s = p + 1; ; s++) {
        if (*s != '/' && *s != '\0') continue;
        char saved = *s;
        *s = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST) { rc = -1; break; }
        *s = saved;
        if (saved == '\0') break;
    }
    if (rc == 0) {
        struct stat st;
        if (stat(path, &st) != 0) rc = -1;
        else if (!S_ISDIR(st.st_mode)) { errno = ENOTDIR; rc = -1; }
    }
    int e = errno;
    free(p);
    errno = e;
    return rc;
}

char *ptc_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return ptc_xstrdup(".");
    if (slash == path) return ptc_xstrdup("/");
    return ptc_xstrndup(path, (size_t)(slash - path));
}

int ptc_mktemp_beside(const char *path, mode_t mode, char **tmp)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    ptc_buf b = PTC_BUF_INIT;
    if (slash) ptc_buf_put(&b, path, (size_t)(slash - path + 1));
    ptc_buf_printf(&b, ".%s.ptc-XXXXXX", base);
    char *name = (char *)ptc_buf_cstr(&b);
    int fd = mkostemp(name, O_CLOEXEC);
    if (fd < 0) { int e = errno; free(name); errno = e; return -1; }
    if (fchmod(fd, mode) != 0) {
        int e = errno; close(fd); unlink(name); free(name); errno = e; return -1;
    }
    *tmp = name;
    return fd;
}

int ptc_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int ptc_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
    char *tmp = NULL;
    int fd = ptc_mktemp_beside(path, mode, &tmp);
    if (fd < 0) return -1;
    if (ptc_write_all(fd, data, len) != 0 || fsync(fd) != 0) goto fail;
    if (close(fd) != 0) { fd = -1; goto fail; }
    fd = -1;
    if (rename(tmp, path) != 0) goto fail;
    free(tmp);
    return 0;
fail:
    {
        int e = errno;
        if (fd >= 0) close(fd);
        unlink(tmp);
        free(tmp);
        errno = e;
    }
    return -1;
}

int ptc_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}
