/* Responses kept ready in memory (serve_cache.h). */
#include "serve_cache.h"
#include "ptc/buf.h"
#include "ptc/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The slot of a path's hash: its high bits, mixed (similar names share
 * ptc_hash64's low bits: "f0000.cfg".."f1023.cfg" fell into 511 slots). */
_Static_assert(PTC_SERVE_CACHE_SLOTS == 1024, "slot_of takes 10 bits");
static ptc_serve_cached **slot_of(ptc_serve_cache *c, uint64_t h)
{
    return &c->slot[(h * 0x9E3779B97F4A7C15ull) >> 54];
}

static int64_t ns_of(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* The file the entry was read from: same inode, same bytes. */
static int same_file(const ptc_serve_cached *e, const struct stat *st)
{
    return S_ISREG(st->st_mode) && (uint64_t)st->st_dev == e->dev && (uint64_t)st->st_ino == e->ino &&
           (uint64_t)st->st_size == e->size && ns_of(&st->st_mtim) == e->mtime_ns &&
           ns_of(&st->st_ctim) == e->ctime_ns;
}

ptc_serve_cache *ptc_serve_cache_new(void)
{
    ptc_serve_cache *c = ptc_xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

static void entry_free(ptc_serve_cached *e)
{
    MHD_destroy_response(e->resp);
    free(e->rel);
    free(e);
}

void ptc_serve_cache_free(ptc_serve_cache *c)
{
    if (!c) return;
    for (size_t i = 0; i < PTC_SERVE_CACHE_SLOTS; i++)
        if (c->slot[i]) entry_free(c->slot[i]);     /* no request holds one now */
    pthread_mutex_destroy(&c->mu);
    free(c);
}

ptc_serve_cached *ptc_serve_cache_get(ptc_serve_cache *c, int basefd, const char *rel, struct stat *st)
{
    if (!c) return NULL;
    uint64_t h = ptc_hash64(rel, strlen(rel));
    pthread_mutex_lock(&c->mu);
    ptc_serve_cached *e = *slot_of(c, h);
    if (e && (e->hash != h || strcmp(e->rel, rel) != 0)) e = NULL;
    if (e) e->refs++;
    pthread_mutex_unlock(&c->mu);
    if (!e) return NULL;
    /* No symlink followed at the end; one inside the path could only lead
     * to this very inode, whose bytes these are. */
    if (fstatat(basefd, rel, st, AT_SYMLINK_NOFOLLOW) != 0 || !same_file(e, st)) {
        ptc_serve_cache_put(c, e);
        return NULL;
    }
    return e;
}

void ptc_serve_cache_put(ptc_serve_cache *c, ptc_serve_cached *e)
{
    if (!e) return;
    pthread_mutex_lock(&c->mu);
    int last = --e->refs == 0 && e->evicted;
    pthread_mutex_unlock(&c->mu);
    if (last) entry_free(e);
}

/* Puts e in its slot (the one there before goes); over the byte budget it
 * stays out, held by its caller only. */
static void insert(ptc_serve_cache *c, ptc_serve_cached *e)
{
    pthread_mutex_lock(&c->mu);
    ptc_serve_cached **slot = slot_of(c, e->hash);
    ptc_serve_cached *old = *slot;
    int free_old = 0;
    if (old) {
        old->evicted = 1;
        c->bytes -= old->size;
        free_old = old->refs == 0;
        *slot = NULL;
    }
    if (c->bytes + e->size <= PTC_SERVE_CACHE_BYTES) {
        *slot = e;
        c->bytes += e->size;
    } else {
        e->evicted = 1;
    }
    pthread_mutex_unlock(&c->mu);
    if (free_old) entry_free(old);
}

/* Whether a file of st's size would be kept: else it is not even read (a
 * copy per request beyond the budget would be memory a client drives). */
static int fits(ptc_serve_cache *c, const char *rel, const struct stat *st)
{
    uint64_t h = ptc_hash64(rel, strlen(rel));
    pthread_mutex_lock(&c->mu);
    const ptc_serve_cached *old = *slot_of(c, h);
    int ok = c->bytes - (old ? old->size : 0) + (uint64_t)st->st_size <= PTC_SERVE_CACHE_BYTES;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

static char *read_whole(int fd, size_t n)
{
    char *data = ptc_xmalloc(n ? n : 1);
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, data + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    if (got == n) return data;
    free(data);
    return NULL;
}

ptc_serve_cached *ptc_serve_cache_fill(ptc_serve_cache *c, const char *rel, int fd, const struct stat *st,
                                       const char *etag, const char *lastmod,
                                       void (*add_headers)(struct MHD_Response *, void *), void *arg)
{
    if (!c || !S_ISREG(st->st_mode) || (uint64_t)st->st_size > PTC_SERVE_CACHE_FILE_MAX || !fits(c, rel, st))
        return NULL;
    ptc_serve_cached *e = ptc_xcalloc(1, sizeof *e);
    *e = (ptc_serve_cached){.dev = (uint64_t)st->st_dev, .ino = (uint64_t)st->st_ino,
                            .size = (uint64_t)st->st_size, .mtime_ns = ns_of(&st->st_mtim),
                            .ctime_ns = ns_of(&st->st_ctim), .refs = 1};
    char *data = read_whole(fd, (size_t)st->st_size);
    struct stat after;
    /* written to while read: serve it the usual way, keep nothing */
    if (!data || fstat(fd, &after) != 0 || !same_file(e, &after) ||
        !(e->resp = MHD_create_response_from_buffer((size_t)st->st_size, data, MHD_RESPMEM_MUST_FREE))) {
        free(data);
        free(e);
        return NULL;
    }
    add_headers(e->resp, arg);
    snprintf(e->etag, sizeof e->etag, "%s", etag);
    snprintf(e->lastmod, sizeof e->lastmod, "%s", lastmod);
    e->rel = ptc_xstrdup(rel);
    e->hash = ptc_hash64(rel, strlen(rel));
    insert(c, e);
    return e;
}
