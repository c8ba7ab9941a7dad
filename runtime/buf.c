/* Growable buffers, checked allocation, hashes. */
#include "ptc/buf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t n)
{
    fprintf(stderr, "ptc: out of memory (%zu bytes)\n", n);
    abort();
}

void *ptc_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) out_of_memory(n);
    return p;
}

void *ptc_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) out_of_memory(n * size);
    return p;
}

void *ptc_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) out_of_memory(n);
    return q;
}

char *ptc_xstrndup(const char *s, size_t n)
{
    char *d = ptc_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *ptc_xstrdup(const char *s)
{
    return ptc_xstrndup(s, strlen(s));
}

void ptc_buf_reserve(ptc_buf *b, size_t extra)
{
    if (b->cap - b->len > extra) return;   /* keep room for a NUL */
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len <= extra) {
        if (cap > SIZE_MAX / 2) out_of_memory(SIZE_MAX);
        cap *= 2;
    }
    b->data = ptc_xrealloc(b->data, cap);
    b->cap = cap;
}

void ptc_buf_put_slow(ptc_buf *b, const void *p, size_t n)
{
    if (n == 0) return;
    ptc_buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void ptc_buf_putc(ptc_buf *b, char c)
{
    ptc_buf_reserve(b, 1);
    b->data[b->len++] = c;
}

void ptc_buf_puts(ptc_buf *b, const char *s)
{
    ptc_buf_put(b, s, strlen(s));
}

void ptc_buf_vprintf(ptc_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return;
    ptc_buf_reserve(b, (size_t)n + 1);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void ptc_buf_printf(ptc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ptc_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

const char *ptc_buf_cstr(ptc_buf *b)
{
    ptc_buf_reserve(b, 1);
    b->data[b->len] = '\0';
    return b->data;
}

void ptc_buf_reset(ptc_buf *b)
{
    b->len = 0;
}

void ptc_buf_free(ptc_buf *b)
{
    if (!b) return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void ptc_buf_json(ptc_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    ptc_buf_reserve(b, n + 2);
    ptc_buf_putc(b, '"');
    size_t run = 0;                     /* bytes that need no escape, copied at once */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) continue;
        ptc_buf_put(b, s + run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') { ptc_buf_putc(b, '\\'); ptc_buf_putc(b, (char)c); }
        else if (c == '\n') ptc_buf_puts(b, "\\n");
        else if (c == '\t') ptc_buf_puts(b, "\\t");
        else {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            ptc_buf_put(b, u, sizeof u);
        }
    }
    ptc_buf_put(b, s + run, n - run);
    ptc_buf_putc(b, '"');
}

void ptc_json_fput(FILE *f, const char *s, size_t n)
{
    ptc_buf b = PTC_BUF_INIT;
    ptc_buf_json(&b, s, n);
    fwrite(b.data, 1, b.len, f);
    ptc_buf_free(&b);
}

void ptc_buf_wipe(ptc_buf *b)
{
    if (b && b->data) explicit_bzero(b->data, b->cap);
    ptc_buf_free(b);
}

/* FNV-1a's idea, eight bytes at a time (docs/bytecode.md gives it
 * exactly): fast on the long strings this hashes (template sources, paths,
 * table rows).  Words are read little-endian, so a cache file's name is the
 * same on every host; one load on the hosts we run on. */
static inline uint64_t load_le64(const unsigned char *s)
{
    uint64_t w;
    memcpy(&w, s, sizeof w);    /* one load: GCC did not merge a byte loop */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

uint64_t ptc_hash64_update(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    while (n >= 8) {
        uint64_t w = load_le64(s);
        h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    while (n--) {
        h ^= *s++;
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t ptc_hash64(const void *p, size_t n)
{
    return ptc_hash64_update(PTC_HASH64_INIT, p, n);
}

static uint32_t crc_table[256];

/* Built once, before any thread of `ptc serve` can race for it. */
static void crc_table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t ptc_crc32(const void *p, size_t n)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, crc_table_init);
    const uint32_t *table = crc_table;
    const unsigned char *s = p;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = table[(c ^ s[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}
