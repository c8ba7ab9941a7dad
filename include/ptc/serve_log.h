/* ptc_serve_log: the access log (src/serve/serve_log.c).
 * Ownership: ptc_serve_log_open returns a log the caller closes with
 * ptc_serve_log_close (NULL accepted); lines are copied. */
#ifndef PTC_SERVE_LOG_H
#define PTC_SERVE_LOG_H

#include <stdint.h>
#include "ptc/buf.h"

typedef struct ptc_serve_log ptc_serve_log;

/* path NULL or "-": stderr; "off": a log that drops everything.  NULL with
 * errno when the file cannot be opened (appending, 0640).  A thread of the
 * log's own writes it, so no caller ever waits for the disk or a reader. */
ptc_serve_log *ptc_serve_log_open(const char *path);
/* Appends one line (a newline is added); thread-safe; never blocks on I/O.
 * Past 1 MiB waiting to be written, the line is dropped and counted. */
void ptc_serve_log_line(ptc_serve_log *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same for a line formatted already (n bytes, no newline): the lock is
 * held for a copy only, not for the formatting. */
void ptc_serve_log_put(ptc_serve_log *l, const char *line, size_t n);
/* Asks the writer to write what is queued now and waits for it, at most 2 s. */
void ptc_serve_log_flush(ptc_serve_log *l);
/* Lines dropped so far (the count is also written into the log). */
uint64_t ptc_serve_log_dropped(ptc_serve_log *l);
/* Reopens the file (logrotate); stderr is left alone.  0 or -1/errno. */
int  ptc_serve_log_reopen(ptc_serve_log *l);
/* Writes what is queued (giving up after 1 s on a stalled reader) and
 * frees.  NULL accepted. */
void ptc_serve_log_close(ptc_serve_log *l);
/* Appends s to b for a log line: bytes outside printable ASCII, `"` and `\`
 * become \xHH, so no request can forge a line or a field. */
void ptc_serve_log_escape(ptc_buf *b, const char *s);

#endif
