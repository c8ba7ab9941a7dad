/* ptc_diag: diagnostics.
 *
 * Text form:   file:line:col: error: message [code]
 *                  source line
 *                  ^
 * JSON form:   one object per line {"file":..,"line":..,"column":..,"severity":..,"code":..,"message":..}
 * GitHub form: ::error file=F,line=L,col=C,title=code::message
 *
 * A reporter counts what it printed; after `limit` messages it stops printing
 * and ptc_diag_finish says "and N more".  Sources may carry a redactor so a
 * phone-list line is echoed with its password masked: secrets never reach a
 * message.
 *
 * A null reporter (ptc_diag_init_null) counts and keeps the last message
 * but prints nothing: for a second pass over input already reported, or a
 * caller that turns the message into its own (a server's log line, a web
 * API's field error).  A filter drops the codes a user turned off (lint's
 * -Wno-CODE) before they are counted; with forward set, what passes is
 * reported (counted and printed) by that reporter instead.
 *
 * Ownership: a reporter owns nothing; out and the filter are borrowed.
 */
#ifndef PTC_DIAG_H
#define PTC_DIAG_H

#include <stdio.h>
#include <stddef.h>
#include "ptc/src.h"

typedef enum { PTC_NOTE, PTC_WARNING, PTC_ERROR } ptc_severity;
typedef enum { PTC_FMT_TEXT, PTC_FMT_JSON, PTC_FMT_GITHUB } ptc_diag_format;

typedef struct ptc_diag {
    FILE           *out;             /* NULL: print nothing (null reporter) */
    ptc_diag_format format;
    int             color;
    int             show_warnings;   /* 0: count warnings and notes, print nothing */
    unsigned        limit;           /* 0 = no limit */
    unsigned        printed;
    unsigned        suppressed;
    unsigned        errors, warnings, notes;
    /* 1 when code is turned off: not counted, not printed. */
    int           (*disabled)(void *ctx, const char *code);
    void           *disabled_ctx;
    struct ptc_diag *forward;        /* report what passes the filter there */
    char            last[512];       /* the last message, without location */
    const char     *last_code;       /* ... and its code (static) */
} ptc_diag;

/* A reporter on stderr, text format, warnings shown, limit 100. */
void ptc_diag_init(ptc_diag *d, FILE *out);
/* A reporter that prints nothing (see above). */
void ptc_diag_init_null(ptc_diag *d);

/* Report at a byte offset of src (src may be NULL: then no location). */
void ptc_diag_at(ptc_diag *d, ptc_src *src, size_t off, ptc_severity sev,
                 const char *code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Report at a 1-based line of src, without a column or caret. */
void ptc_diag_line(ptc_diag *d, ptc_src *src, unsigned line, ptc_severity sev,
                   const char *code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Report with no source location: "ptc: error: message". */
void ptc_diag_plain(ptc_diag *d, ptc_severity sev, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Colour when out is a terminal and NO_COLOR is unset. */
void ptc_diag_set_color_auto(ptc_diag *d);

/* Prints "and N more" when messages were held back by the limit. */
void ptc_diag_finish(ptc_diag *d);


/* The candidate closest to word (case-insensitive edit distance), or NULL
 * when none is close enough to be a likely typo.  cands is NULL-terminated.
 * (For did-you-mean in the front end and in lint.) */
const char *ptc_diag_suggest(const char *word, size_t len, const char *const *cands);

#endif
