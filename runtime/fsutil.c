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
#include <stdint.h>
#include <time.h>
#include <sys/random.h>

ssize_t ptc_read_upto(int fd, void *buf, size_t cap, size_t enough)
{
    size_t got = 0;
    while (got < cap) {
        ssize_t n = read(fd, (char *)buf + got, cap - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) break;
        got += (size_t)n;
        if (got >= enough) break;
    }
    return (ssize_t)got;
}

int ptc_copy_fd(int from, int to)
{
    char b[65536];
    for (;;) {
        ssize_t n = ptc_read_upto(from, b, sizeof b, 1);
        if (n < 0) return -1;
        if (n == 0) return 0;
        if (ptc_write_all(to, b, (size_t)n) != 0) return -1;
    }
}

/* O_NONBLOCK only for the open: a FIFO without a writer must not hang
 * (it reads as empty); reads block again after. */
static int open_for_reading(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return -1;
    int err = 0;
    if (fstat(fd, st) != 0) err = errno;
    else if (S_ISDIR(st->st_mode)) err = EISDIR;
    else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) err = errno;
    if (err) {
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

int ptc_read_file_max(const char *path, ptc_buf *out, size_t max)
{
    struct stat st;
    int fd = open_for_reading(path, &st);
    if (fd < 0) return -1;
    int err = 0;
    if (max && S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) err = EFBIG;
    else if (S_ISREG(st.st_mode) && st.st_size > 0) ptc_buf_reserve(out, (size_t)st.st_size + 1);
    size_t start = out->len;
    while (!err) {
        if (max && out->len - start > max) { err = EFBIG; break; }   /* a device that never ends */
        ptc_buf_reserve(out, 65536);
        ssize_t n = ptc_read_upto(fd, out->data + out->len, out->cap - out->len - 1, 1);
        if (n < 0) err = errno;
        if (n <= 0) break;
        out->len += (size_t)n;
    }
    close(fd);
    if (err) { errno = err; return -1; }
    out->data[out->len] = '\0';
    return 0;
}

int ptc_read_file(const char *path, ptc_buf *out)
{
    return ptc_read_file_max(path, out, 0);
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

/* The process umask, read once (reading it means setting it). */
static mode_t current_umask(void)
{
    static int known;
    static mode_t mask;
    if (!known) {
        mask = umask(0);
        umask(mask);
        known = 1;
    }
    return mask;
}

/* Six characters for a temporary name: unpredictable enough that O_EXCL
 * rarely retries, without a syscall per name. */
static void random_suffix(char out[6])
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    static uint64_t state;
    if (!state) {
        if (getrandom(&state, sizeof state, GRND_NONBLOCK) != (ssize_t)sizeof state)
            state = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);
        state |= 1;
    }
    for (int i = 0; i < 6; i++) {
        state ^= state << 13;           /* xorshift64 */
        state ^= state >> 7;
        state ^= state << 17;
        out[i] = set[state % (sizeof set - 1)];
    }
}

int ptc_mktemp_at(int dirfd, const char *path, mode_t mode, char **tmp)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t dirlen = slash ? (size_t)(slash - path + 1) : 0;
    ptc_buf b = PTC_BUF_INIT;
    ptc_buf_put(&b, path, dirlen);
    ptc_buf_putc(&b, '.');
    ptc_buf_puts(&b, base);
    ptc_buf_puts(&b, ".ptc-XXXXXX");
    char *name = (char *)ptc_buf_cstr(&b);
    char *x = name + b.len - 6;
    const char *rel = dirfd == AT_FDCWD ? name : name + dirlen;
    int fd = -1;
    for (int tries = 0; tries < 100 && fd < 0; tries++) {
        random_suffix(x);
        fd = openat(dirfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) { int e = errno; free(name); errno = e; return -1; }
    /* open() applied the umask: fix the mode only when it took bits away. */
    if ((mode & current_umask()) && fchmod(fd, mode) != 0) {
        int e = errno; close(fd); unlinkat(dirfd, rel, 0); free(name); errno = e; return -1;
    }
    *tmp = name;
    return fd;
}

int ptc_mktemp_beside(const char *path, mode_t mode, char **tmp)
{
    return ptc_mktemp_at(AT_FDCWD, path, mode, tmp);
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

int ptc_dircache_at(ptc_dircache *c, const char *path, const char **rel)
{
    const char *slash = strrchr(path, '/');
    *rel = path;
    if (!slash || slash == path) return AT_FDCWD;
    size_t n = (size_t)(slash - path);
    int ins;
    uint32_t *v = ptc_map_put(&c->map, ptc_hash64(path, n), &ins);
    if (ins) {
        *v = 0;
        if (c->n < PTC_DIRCACHE_MAX) {
            char *dir = ptc_xstrndup(path, n);
            int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            free(dir);
            if (fd >= 0) {
                c->fds = ptc_xrealloc(c->fds, (c->n + 1) * sizeof *c->fds);
                c->fds[c->n++] = fd;
                *v = (uint32_t)c->n;
            }
        }
    }
    if (!*v) return AT_FDCWD;
    *rel = slash + 1;
    return c->fds[*v - 1];
}

void ptc_dircache_free(ptc_dircache *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) close(c->fds[i]);
    free(c->fds);
    ptc_map_free(&c->map);
    c->fds = NULL;
    c->n = 0;
}

void ptc_path_key(const char *path, ptc_buf *out)
{
    out->len = 0;
    if (path[0] == '/') ptc_buf_putc(out, '/');
    for (const char *s = path; *s; ) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n && !(n == 1 && s[0] == '.')) {
            if (out->len && out->data[out->len - 1] != '/') ptc_buf_putc(out, '/');
            ptc_buf_put(out, s, n);
        }
        if (!e) break;
        s = e + 1;
    }
    ptc_buf_cstr(out);
}
