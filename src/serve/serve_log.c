/* The access log: one line a request, written by a thread of its own.
 *
 * Request threads only append to a bounded buffer under a mutex; the writer
 * thread takes the whole buffer and writes it when it passes 64 KiB, when
 * asked to flush, or once a second.  So a request never waits for the disk
 * or for a reader of stderr: when the buffer is full (a pipe nobody drains,
 * a stalled disk), lines are dropped and counted, and the count is written
 * into the log as soon as it moves again.  A write per request would cost
 * more than the request; O_APPEND keeps lines whole when logrotate's
 * copytruncate or another writer shares the file.
 *
 * The writer never blocks without a bound either: on a pipe or socket it
 * waits for room with poll() and writes at most PIPE_BUF bytes at a time
 * (atomic, and never more than the room poll reported), so stopping the
 * server takes at most STOP_GRACE_MS even when nobody reads. */
#include "ptc/serve.h"
#include "ptc/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_FLUSH_AT  65536         /* wake the writer */
#define LOG_MAX       (1u << 20)    /* drop lines beyond this much waiting */
#define STOP_GRACE_MS 1000

struct ptc_serve_log {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    int fd;                     /* -1: off */
    int next_fd;                /* from a reopen, switched to by the writer */
    int owned;                  /* we opened fd (not stderr) */
    char *path;
    ptc_buf buf;                /* lines waiting */
    uint64_t queued, written;   /* bytes handed to the writer / written or given up */
    uint64_t dropped, reported;
    int flush_req, stopping;
    _Atomic int give_up;        /* stopping, for a batch being written: read unlocked */
    pthread_t th;
    int started;
};

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static size_t count_lines(const char *p, size_t n)
{
    size_t k = 0;
    for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))); p++) k++;
    return k;
}

/* Writes n bytes to a pipe or socket without ever blocking in write(); once
 * *stopping is set, gives up when the reader stalls for STOP_GRACE_MS.
 * Returns the bytes written. */
static size_t write_paced(int fd, const char *p, size_t n, const _Atomic int *stopping)
{
    size_t done = 0;
    int64_t give_up = 0;
    while (done < n) {
        struct pollfd pfd = {fd, POLLOUT, 0};
        int r = poll(&pfd, 1, 200);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 || (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))) break;
        if (r == 0) {
            if (*stopping && !give_up) give_up = mono_ms() + STOP_GRACE_MS;
            if (give_up && mono_ms() >= give_up) break;
            continue;
        }
        size_t k = n - done < PIPE_BUF ? n - done : PIPE_BUF;
        ssize_t w = write(fd, p + done, k);
        if (w < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (w <= 0) break;
        done += (size_t)w;
    }
    return done;
}

static void write_batch(ptc_serve_log *l, int fd, const ptc_buf *b, const _Atomic int *stopping)
{
    struct stat st;
    size_t done;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        done = ptc_write_all(fd, b->data, b->len) == 0 ? b->len : 0;
    } else {
        done = write_paced(fd, b->data, b->len, stopping);
    }
    if (done < b->len) {
        size_t lost = count_lines(b->data + done, b->len - done);
        pthread_mutex_lock(&l->mu);
        l->dropped += lost;
        pthread_mutex_unlock(&l->mu);
    }
}

/* With mu held: the note that lines were dropped, once per new drop. */
static void note_drops_locked(ptc_serve_log *l)
{
    if (l->dropped == l->reported || l->buf.len > LOG_MAX / 2) return;
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    ptc_buf_printf(&l->buf, "%s ptc serve: warning: %llu access log line%s dropped so far "
                   "(the log could not keep up)\n", when, (unsigned long long)l->dropped,
                   l->dropped == 1 ? "" : "s");
    l->reported = l->dropped;
}

static void *writer_main(void *arg)
{
    ptc_serve_log *l = arg;
    _Atomic int *stopping = &l->give_up;
    ptc_buf out = PTC_BUF_INIT;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->stopping && !l->flush_req && l->buf.len < LOG_FLUSH_AT) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            if (pthread_cond_timedwait(&l->work, &l->mu, &until) == ETIMEDOUT) break;
        }
        if (l->next_fd >= 0) {
            if (l->owned) close(l->fd);
            l->fd = l->next_fd;
            l->next_fd = -1;
        }
        int stop = l->stopping, fd = l->fd;
        uint64_t upto = l->queued;
        l->flush_req = 0;
        ptc_buf tmp = out;
        out = l->buf;
        l->buf = tmp;
        ptc_buf_reset(&l->buf);
        pthread_mutex_unlock(&l->mu);
        if (out.len) write_batch(l, fd, &out, stopping);
        ptc_buf_reset(&out);
        pthread_mutex_lock(&l->mu);
        /* Stopping: request threads are gone, so this batch was the last. */
        if (!stop) note_drops_locked(l);
        l->written = upto;
        pthread_cond_broadcast(&l->done);
        if (stop) break;
    }
    pthread_mutex_unlock(&l->mu);
    ptc_buf_free(&out);
    return NULL;
}

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
    pthread_cond_init(&l->work, NULL);
    pthread_cond_init(&l->done, NULL);
    l->fd = fd;
    l->next_fd = -1;
    l->owned = owned;
    l->path = owned ? ptc_xstrdup(path) : NULL;
    if (fd >= 0 && pthread_create(&l->th, NULL, writer_main, l) == 0) l->started = 1;
    else if (fd >= 0) {         /* no thread: the log is off rather than blocking */
        if (owned) close(fd);
        l->fd = -1;
    }
    return l;
}

void ptc_serve_log_put(ptc_serve_log *l, const char *line, size_t n)
{
    if (l->fd < 0) return;
    pthread_mutex_lock(&l->mu);
    if (l->buf.len + n + 1 > LOG_MAX) {
        l->dropped++;
    } else {
        ptc_buf_put(&l->buf, line, n);
        ptc_buf_putc(&l->buf, '\n');
        l->queued += n + 1;
    }
    if (l->buf.len >= LOG_FLUSH_AT) pthread_cond_signal(&l->work);
    pthread_mutex_unlock(&l->mu);
}

void ptc_serve_log_line(ptc_serve_log *l, const char *fmt, ...)
{
    if (l->fd < 0) return;
    ptc_buf b = PTC_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    ptc_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    ptc_serve_log_put(l, b.data ? b.data : "", b.len);
    ptc_buf_free(&b);
}

void ptc_serve_log_flush(ptc_serve_log *l)
{
    if (!l || !l->started) return;
    pthread_mutex_lock(&l->mu);
    uint64_t target = l->queued;
    l->flush_req = 1;
    pthread_cond_signal(&l->work);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;          /* a stalled reader must not hold the caller */
    while (l->written < target)
        if (pthread_cond_timedwait(&l->done, &l->mu, &until) == ETIMEDOUT) break;
    pthread_mutex_unlock(&l->mu);
}

uint64_t ptc_serve_log_dropped(ptc_serve_log *l)
{
    if (!l) return 0;
    pthread_mutex_lock(&l->mu);
    uint64_t n = l->dropped;
    pthread_mutex_unlock(&l->mu);
    return n;
}

int ptc_serve_log_reopen(ptc_serve_log *l)
{
    if (!l->owned) return 0;
    int fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return -1;
    pthread_mutex_lock(&l->mu);
    if (l->next_fd >= 0) close(l->next_fd);
    l->next_fd = fd;            /* the writer switches between two batches */
    l->flush_req = 1;
    pthread_cond_signal(&l->work);
    pthread_mutex_unlock(&l->mu);
    return 0;
}

void ptc_serve_log_close(ptc_serve_log *l)
{
    if (!l) return;
    if (l->started) {
        pthread_mutex_lock(&l->mu);
        l->stopping = 1;
        l->give_up = 1;         /* also for a batch being written now */
        pthread_cond_signal(&l->work);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->th, NULL);
    }
    if (l->next_fd >= 0) close(l->next_fd);
    if (l->owned && l->fd >= 0) close(l->fd);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->work);
    pthread_cond_destroy(&l->done);
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
