/* Source buffers and the offset -> line:column map. */
#include "ptc/src.h"
#include "ptc/buf.h"
#include "ptc/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

ptc_src *ptc_src_from_mem(const char *name, const char *text, size_t len)
{
    ptc_src *src = ptc_xcalloc(1, sizeof *src);
    src->name = ptc_xstrdup(name);
    src->text = ptc_xmalloc(len + 1);
    memcpy(src->text, text, len);
    src->text[len] = '\0';
    src->len = len;
    return src;
}

ptc_src *ptc_src_load(const char *path, const char *display_name)
{
    ptc_buf b = PTC_BUF_INIT;
    if (ptc_read_file_max(path, &b, PTC_SRC_MAX) != 0) {
        int saved = errno;
        ptc_buf_free(&b);
        errno = saved;
        return NULL;
    }
    ptc_src *src = ptc_xcalloc(1, sizeof *src);
    src->name = ptc_xstrdup(display_name ? display_name : path);
    ptc_buf_cstr(&b);
    src->text = b.data;
    src->len = b.len;
    return src;
}

void ptc_src_free(ptc_src *src)
{
    if (!src) return;
    free(src->name);
    free(src->text);
    free(src->lines);
    free(src);
}

static void build_lines(ptc_src *src)
{
    size_t n = 1;
    for (size_t i = 0; i < src->len; i++)
        if (src->text[i] == '\n') n++;
    src->lines = ptc_xmalloc(n * sizeof *src->lines);
    src->lines[0] = 0;
    src->nlines = 1;
    for (size_t i = 0; i < src->len; i++)
        if (src->text[i] == '\n') src->lines[src->nlines++] = i + 1;
}

void ptc_src_linecol(ptc_src *src, size_t off, unsigned *line, unsigned *col)
{
    if (!src->lines) build_lines(src);
    if (off > src->len) off = src->len;
    size_t lo = 0, hi = src->nlines;          /* find last start <= off */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (src->lines[mid] <= off) lo = mid; else hi = mid;
    }
    *line = (unsigned)(lo + 1);
    *col = (unsigned)(off - src->lines[lo] + 1);
}

void ptc_src_line(ptc_src *src, unsigned line, size_t *start, size_t *len)
{
    if (!src->lines) build_lines(src);
    if (line < 1 || line > src->nlines) { *start = src->len; *len = 0; return; }
    size_t s = src->lines[line - 1], e = s;
    while (e < src->len && src->text[e] != '\n') e++;
    if (e > s && src->text[e - 1] == '\r') e--;
    *start = s;
    *len = e - s;
}
