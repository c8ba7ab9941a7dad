/* Buffered sinks. */
#include "ptc/sink.h"

#include <errno.h>
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
}

void ptc_sink_init_fd(ptc_sink *s, int fd)
{
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->flush_at = 64 * 1024;
}

int ptc_sink_flush(ptc_sink *s)
{
    if (s->fd < 0 || s->buf.len == 0) return s->err ? -1 : 0;
    if (!s->err && ptc_write_all(s->fd, s->buf.data, s->buf.len) != 0) s->err = errno;
    if (!s->err) s->written += s->buf.len;
    s->buf.len = 0;
    return s->err ? -1 : 0;
}

int ptc_sink_finish(ptc_sink *s)
{
    ptc_sink_flush(s);
    return s->err;
}

void ptc_sink_free(ptc_sink *s)
{
    if (!s) return;
    ptc_buf_free(&s->buf);
}
