/* The access log: one line a request, buffered.
 *
 * Lines are collected in memory under a mutex and written with one write()
 * when the buffer passes 64 KiB or when the server's background thread
 * flushes (every second): a write per request would cost more than the
 * request.  O_APPEND keeps lines whole when logrotate's copytruncate or
 * another writer shares the file. */
#include "ptc/serve.h"
#include "ptc/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_FLUSH_AT 65536

struct ptc_serve_log {
    pthread_mutex_t mu;
    int fd;                     /* -1: off */
    int owned;                  /* we opened fd (not stderr) */
    char *path;
    ptc_buf buf;
};

ptc_serve_log *ptc_serve_log_open(const char *path)
{
    int fd = 2, owned = 0;
    if (path && strcmp(path, "off") == 0) {
        fd = -1;
    } else if (path && strcmp(path, "-") != 0) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0) return NULL;
        owned = 1;
    }
    ptc_serve_log *l = ptc_xcalloc(1, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    l->fd = fd;
    l->owned = owned;
    l->path = owned ? ptc_xstrdup(path) : NULL;
    return l;
}

/* Called with the mutex held. */
static void flush_locked(ptc_serve_log *l)
{
    if (l->buf.len && l->fd >= 0) {
        /* A full disk must not stop the server: the lines are dropped and
         * the reason goes to stderr once per failed flush. */
        if (ptc_write_all(l->fd, l->buf.data, l->buf.len) != 0 && l->fd != 2)
            fprintf(stderr, "ptc serve: error: access log %s: %s (lines dropped)\n",
                    l->path, strerror(errno));
    }
    ptc_buf_reset(&l->buf);
}

void ptc_serve_log_line(ptc_serve_log *l, const char *fmt, ...)
{
    if (l->fd < 0) return;
    va_list ap;
    pthread_mutex_lock(&l->mu);
    va_start(ap, fmt);
    ptc_buf_vprintf(&l->buf, fmt, ap);
    va_end(ap);
    ptc_buf_putc(&l->buf, '\n');
    if (l->buf.len >= LOG_FLUSH_AT) flush_locked(l);
    pthread_mutex_unlock(&l->mu);
}

void ptc_serve_log_flush(ptc_serve_log *l)
{
    pthread_mutex_lock(&l->mu);
    flush_locked(l);
    pthread_mutex_unlock(&l->mu);
}

int ptc_serve_log_reopen(ptc_serve_log *l)
{
    if (!l->owned) return 0;
    int fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return -1;
    pthread_mutex_lock(&l->mu);
    flush_locked(l);
    close(l->fd);
    l->fd = fd;
    pthread_mutex_unlock(&l->mu);
    return 0;
}

void ptc_serve_log_close(ptc_serve_log *l)
{
    if (!l) return;
    ptc_serve_log_flush(l);
    if (l->owned) close(l->fd);
    pthread_mutex_destroy(&l->mu);
    ptc_buf_free(&l->buf);
    free(l->path);
    free(l);
}

void ptc_serve_log_escape(ptc_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\') {
            char e[4] = {'\\', 'x', hex[*p >> 4], hex[*p & 15]};
            ptc_buf_put(b, e, 4);
        } else {
            ptc_buf_putc(b, (char)*p);
        }
    }
}
