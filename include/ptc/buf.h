/* ptc_buf: a growable byte buffer.
 *
 * Ownership: a ptc_buf owns its data; ptc_buf_free releases it and leaves an
 * empty buffer that can be reused.  Appends abort the process on allocation
 * failure (ptc_xmalloc): ptc is a command-line tool whose inputs are bounded,
 * and a half-handled ENOMEM would be worse than a clean stop before commit.
 */
#ifndef PTC_BUF_H
#define PTC_BUF_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdarg.h>
#include <string.h>

typedef struct ptc_buf {
    char  *data;
    size_t len;
    size_t cap;
} ptc_buf;

#define PTC_BUF_INIT {NULL, 0, 0}

void  ptc_buf_reserve(ptc_buf *b, size_t extra);
void  ptc_buf_put_slow(ptc_buf *b, const void *p, size_t n);
void  ptc_buf_putc(ptc_buf *b, char c);

/* Appends n bytes.  Inline: the VM calls it for every piece of output,
 * and nearly always the room is there. */
static inline void ptc_buf_put(ptc_buf *b, const void *p, size_t n)
{
    if (n && b->cap - b->len > n) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    } else {
        ptc_buf_put_slow(b, p, n);
    }
}
void  ptc_buf_puts(ptc_buf *b, const char *s);
void  ptc_buf_printf(ptc_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void  ptc_buf_vprintf(ptc_buf *b, const char *fmt, va_list ap);
/* Returns data NUL-terminated (the NUL is not counted in len). */
const char *ptc_buf_cstr(ptc_buf *b);
void  ptc_buf_reset(ptc_buf *b);
void  ptc_buf_free(ptc_buf *b);
/* Appends s (n bytes) as a JSON string: quoted, with ", \\, control
 * characters and DEL escaped.  The one JSON string writer of ptc. */
void  ptc_buf_json(ptc_buf *b, const char *s, size_t n);
/* The same, written to f. */
void  ptc_json_fput(FILE *f, const char *s, size_t n);
/* Zeroes all it held (a password, a token), then frees (NULL accepted). */
void  ptc_buf_wipe(ptc_buf *b);

void *ptc_xmalloc(size_t n);
void *ptc_xcalloc(size_t n, size_t size);
void *ptc_xrealloc(void *p, size_t n);
char *ptc_xstrdup(const char *s);
char *ptc_xstrndup(const char *s, size_t n);

/* A fast 64-bit hash (FNV-1a style, a word at a time), for cache keys and
 * the run's duplicate checks; not cryptographic.  _update continues a hash
 * begun at PTC_HASH64_INIT. */
#define PTC_HASH64_INIT 0xcbf29ce484222325ULL
uint64_t ptc_hash64(const void *p, size_t n);
uint64_t ptc_hash64_update(uint64_t h, const void *p, size_t n);
/* CRC-32 (IEEE), used as the bytecode file checksum. */
uint32_t ptc_crc32(const void *p, size_t n);

#endif
