/* ptc_sink: where the VM's bytes go.
 *
 * A sink is a buffer with an optional file descriptor: with fd < 0 it is a
 * memory sink (tests, [general] values, files compared before writing); with
 * a descriptor it flushes whenever the buffer passes flush_at, so a run's
 * memory stays flat however many phones it writes.  Write errors are kept in
 * err (an errno) and returned once, by ptc_sink_finish.
 *
 * Ownership: the sink owns its buffer (ptc_sink_free, NULL accepted); a
 * descriptor given to ptc_sink_init_fd stays the caller's to close.
 */
#ifndef PTC_SINK_H
#define PTC_SINK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "ptc/buf.h"

typedef struct ptc_sink {
    ptc_buf  buf;
    int      fd;                /* write here on flush (-1: none) */
    const char *append_path;    /* else: open, append, close on flush */
    int      cmp_fd;            /* compare what is flushed with this file */
    int      differs;           /* ... and found a difference */
    int      err;
    size_t   flush_at;
    uint64_t written;           /* bytes flushed */
} ptc_sink;

void ptc_sink_init_mem(ptc_sink *s);
void ptc_sink_init_fd(ptc_sink *s, int fd);
/* A sink that flushes by appending to path, so that thousands of outputs
 * need no open descriptor each. */
void ptc_sink_init_path(ptc_sink *s, const char *path);
/* Also compare everything flushed with the file open on fd (read from its
 * current offset); ptc_sink_finish sets differs if the file holds more. */
void ptc_sink_compare_with(ptc_sink *s, int fd);
int  ptc_sink_flush(ptc_sink *s);          /* 0, or -1 with s->err set */
/* Flushes; does not close the fd.  Returns 0 or the first errno seen. */
int  ptc_sink_finish(ptc_sink *s);
void ptc_sink_free(ptc_sink *s);

static inline void ptc_sink_put(ptc_sink *s, const char *p, size_t n)
{
    ptc_buf_put(&s->buf, p, n);
    if (s->flush_at && s->buf.len >= s->flush_at) ptc_sink_flush(s);
}

/* Writes all of p to fd, retrying on EINTR and short writes. */
int ptc_write_all(int fd, const void *p, size_t n);

#endif
