/* ptc_serve_cache: responses kept ready in memory (private to src/serve/).
 *
 * A provisioning file served once is kept as a libmicrohttpd response with
 * its headers, so the next request for it costs one stat and one send, not
 * an open, a stat, a sendfile and a close.  An entry is used only while
 * the file's device, inode, size, mtime and ctime are what they were when
 * it was read (checked by one fstatat per request): a file that ptc run
 * replaced, or anyone edited, is read again.  Only regular files reached
 * without a symbolic link, of at most PTC_SERVE_CACHE_FILE_MAX bytes, are
 * kept; the cache is direct-mapped (SLOTS entries, a colliding path
 * replaces the older one) and holds at most PTC_SERVE_CACHE_BYTES; a file
 * that would not fit is streamed from its descriptor as before, so no
 * client can make the server hold more.  It belongs to a configuration snapshot and
 * goes with it on reload.
 *
 * Ownership: the cache owns its entries; an entry handed out by
 * ptc_serve_cache_get is the caller's until ptc_serve_cache_put, and its
 * response stays valid until then (libmicrohttpd counts its own references
 * once the response is queued).  Thread-safe.
 */
#ifndef PTC_SERVE_CACHE_H
#define PTC_SERVE_CACHE_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>

/* A provisioning file is a few KiB; larger ones (firmware, images) stream
 * from their descriptor.  The cap also bounds what a slow client pins: a
 * response evicted while it is still being sent lives until then, one a
 * connection at most, so never more than 16 KiB per connection beyond the
 * budget (libmicrohttpd's own pool is 32 KiB a connection). */
#define PTC_SERVE_CACHE_FILE_MAX  (16u << 10)
#define PTC_SERVE_CACHE_BYTES     (8u << 20)
#define PTC_SERVE_CACHE_SLOTS     1024u

typedef struct ptc_serve_cached {
    char *rel;                  /* the path below the base, as requested */
    uint64_t hash;
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
    struct MHD_Response *resp;  /* 200 with every header */
    char etag[80], lastmod[40];    /* as the response says them */
    unsigned refs;              /* requests holding it */
    int evicted;                /* replaced: freed when the last one puts it */
} ptc_serve_cached;

typedef struct ptc_serve_cache {
    pthread_mutex_t mu;
    ptc_serve_cached *slot[PTC_SERVE_CACHE_SLOTS];
    size_t bytes;
} ptc_serve_cache;

ptc_serve_cache *ptc_serve_cache_new(void);
void ptc_serve_cache_free(ptc_serve_cache *c);

/* The entry for rel when the file at basefd/rel is still the one it was
 * read from (*st: the file's stat, for the caller's headers), else NULL. */
ptc_serve_cached *ptc_serve_cache_get(ptc_serve_cache *c, int basefd, const char *rel, struct stat *st);
/* Gives back what ptc_serve_cache_get or ptc_serve_cache_fill returned. */
void ptc_serve_cache_put(ptc_serve_cache *c, ptc_serve_cached *e);
/* Reads the open regular file fd (st: its fstat) and keeps it under rel
 * with resp's headers made by add_headers(resp, arg): the entry (held, as
 * by ptc_serve_cache_get), or NULL when the file is too big, changed while
 * read, or does not fit (then the caller serves it the usual way). */
ptc_serve_cached *ptc_serve_cache_fill(ptc_serve_cache *c, const char *rel, int fd, const struct stat *st,
                                       const char *etag, const char *lastmod,
                                       void (*add_headers)(struct MHD_Response *, void *), void *arg);

#endif
