/* The bytecode cache. */
#include "ptc/cache.h"
#include "ptc/bc.h"
#include "ptc/buf.h"
#include "ptc/comp.h"
#include "ptc/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *ptc_cache_default_dir(void)
{
    const char *e = getenv("PTC_CACHE_DIR");
    if (e && *e) return ptc_xstrdup(e);
    ptc_buf b = PTC_BUF_INIT;
    if ((e = getenv("XDG_CACHE_HOME")) && *e == '/') ptc_buf_printf(&b, "%s/ptc", e);
    else if ((e = getenv("HOME")) && *e == '/') ptc_buf_printf(&b, "%s/.cache/ptc", e);
    else ptc_buf_puts(&b, "/var/cache/ptc");
    return (char *)ptc_buf_cstr(&b);
}

void ptc_cache_init(ptc_cache *c, const char *dir)
{
    memset(c, 0, sizeof *c);
    c->dir = dir ? ptc_xstrdup(dir) : ptc_cache_default_dir();
}

void ptc_cache_free(ptc_cache *c)
{
    if (!c) return;
    free(c->dir);
    c->dir = NULL;
}

char *ptc_cache_path(const ptc_cache *c, const ptc_src *src)
{
    ptc_buf b = PTC_BUF_INIT;
    ptc_buf_printf(&b, "%s/%016llx-%llx.ptcb", c->dir,
                   (unsigned long long)ptc_hash64(src->text, src->len),
                   (unsigned long long)src->len);
    return (char *)ptc_buf_cstr(&b);
}

static void note(ptc_cache *c, const ptc_src *src, const char *what, const char *why)
{
    if (c->log) fprintf(c->log, "ptc: cache %s for %s%s%s\n", what, src->name,
                        why ? ": " : "", why ? why : "");
}

static ptc_prog *try_load(ptc_cache *c, const ptc_src *src, const char *path)
{
    char why[160];
    ptc_buf data = PTC_BUF_INIT;
    ptc_prog *p = NULL;
    if (ptc_read_file(path, &data) != 0) {
        note(c, src, "miss", errno == ENOENT ? "not compiled yet" : strerror(errno));
        goto out;
    }
    p = ptc_bc_decode(data.data, data.len, why, sizeof why);
    if (!p) { note(c, src, "miss", why); goto out; }
    if (p->src_hash != ptc_hash64(src->text, src->len) || p->src_size != src->len) {
        note(c, src, "miss", "compiled from other bytes");
        ptc_prog_free(p);
        p = NULL;
    }
out:
    ptc_buf_free(&data);
    return p;
}

ptc_prog *ptc_cache_get(ptc_cache *c, ptc_src *src, ptc_diag *diag)
{
    char *path = c->dir ? ptc_cache_path(c, src) : NULL;
    ptc_prog *p = path ? try_load(c, src, path) : NULL;
    if (p) {
        c->hits++;
        free(path);
        return p;
    }
    c->misses++;
    p = ptc_comp_source(src, diag);
    if (p && path) {
        ptc_buf enc = PTC_BUF_INIT;
        ptc_bc_encode(p, &enc);
        if (ptc_mkdirs(c->dir, 0700) == 0 &&
            ptc_write_file_atomic(path, enc.data, enc.len, 0600) == 0) {
            c->stores++;
            note(c, src, "store", NULL);
        } else {
            c->store_failures++;
            note(c, src, "store failed", strerror(errno));
        }
        ptc_buf_free(&enc);
    }
    free(path);
    return p;
}
