/* Buffered sinks: memory, descriptor, append-by-path; optional compare. */
#include "ptc/sink.h"
#include "ptc/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int ptc_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

void ptc_sink_init_mem(ptc_sink *s)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->cmp_fd = -1;
}

void ptc_sink_init_fd(ptc_sink *s, int fd)
{
    ptc_sink_init_mem(s);
    s->fd = fd;
    s->flush_at = 64 * 1024;
}

void ptc_sink_init_path(ptc_sink *s, const char *path)
{
    ptc_sink_init_mem(s);
    s->append_path = path;
    s->flush_at = 16 * 1024;
}

void ptc_sink_compare_with(ptc_sink *s, int fd)
{
    s->cmp_fd = fd;
    if (!s->flush_at) s->flush_at = 64 * 1024;
}

static void compare(ptc_sink *s, const char *p, size_t n)
{
    char chunk[8192];
    while (n > 0 && !s->differs) {
        size_t k = n < sizeof chunk ? n : sizeof chunk;
        if (ptc_read_upto(s->cmp_fd, chunk, k, k) != (ssize_t)k || memcmp(chunk, p, k) != 0) s->differs = 1;
        p += k;
        n -= k;
    }
}

int ptc_sink_flush(ptc_sink *s)
{
    if (s->buf.len == 0) return s->err ? -1 : 0;
    if (s->cmp_fd >= 0) compare(s, s->buf.data, s->buf.len);
    if (s->fd >= 0) {
        if (!s->err && ptc_write_all(s->fd, s->buf.data, s->buf.len) != 0) s->err = errno;
    } else if (s->append_path && !s->err) {
        int fd = open(s->append_path, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (fd < 0 || ptc_write_all(fd, s->buf.data, s->buf.len) != 0) s->err = errno;
        if (fd >= 0 && close(fd) != 0 && !s->err) s->err = errno;
    } else if (s->cmp_fd < 0) {
        return 0;                       /* a memory sink keeps its bytes */
    }
    if (!s->err) s->written += s->buf.len;
    s->buf.len = 0;
    return s->err ? -1 : 0;
}

int ptc_sink_finish(ptc_sink *s)
{
    ptc_sink_flush(s);
    if (s->cmp_fd >= 0 && !s->differs) {
        char c;
        if (ptc_read_upto(s->cmp_fd, &c, 1, 1) != 0) s->differs = 1;
    }
    return s->err;
}

void ptc_sink_free(ptc_sink *s)
{
    if (!s) return;
    ptc_buf_free(&s->buf);
}
