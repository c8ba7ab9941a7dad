/* ptc_src: a source file in memory, and the map from byte offsets to lines.
 *
 * Everything upstream of diagnostics speaks in byte offsets; line and column
 * are computed only when a message is printed (ptc_src_linecol), from a line
 * table built lazily on first use.
 *
 * Ownership: ptc_src_load/ptc_src_from_mem return a ptc_src the caller frees
 * with ptc_src_free (NULL accepted).  The text is NUL-terminated for
 * convenience but may contain NULs; len is authoritative.
 */
#ifndef PTC_SRC_H
#define PTC_SRC_H

#include <stddef.h>
#include <stdint.h>

typedef struct ptc_src {
    char   *name;       /* as shown in diagnostics */
    char   *text;
    size_t  len;
    size_t *lines;      /* offsets of line starts, built lazily */
    size_t  nlines;
    /* How a line is echoed in diagnostics (NULL: verbatim).  Writes len bytes
     * to out; used to mask passwords in phone lists. */
    void  (*redact)(const char *line, size_t len, char *out);
} ptc_src;

/* Sources are addressed with 32-bit offsets: ptc_src_load refuses a file
 * larger than this (EFBIG); ptc_src_from_mem callers keep to it. */
#define PTC_SRC_MAX ((size_t)1 << 30)

/* Reads path whole.  On failure returns NULL and sets errno; a directory
 * gives EISDIR, a file over PTC_SRC_MAX EFBIG.  Opening never blocks (a
 * FIFO without a writer reads as empty). */
ptc_src *ptc_src_load(const char *path, const char *display_name);
ptc_src *ptc_src_from_mem(const char *name, const char *text, size_t len);
void     ptc_src_free(ptc_src *src);

/* 1-based line and column (in bytes) of offset. */
void     ptc_src_linecol(ptc_src *src, size_t off, unsigned *line, unsigned *col);
/* Start offset and length (without newline) of the 1-based line. */
void     ptc_src_line(ptc_src *src, unsigned line, size_t *start, size_t *len);

#endif
