/* The configuration snapshot of `ptc serve` (serve_snap.h), and opening a
 * file beneath its base: the kernel, not string handling, keeps a request
 * inside the base directory (openat2 RESOLVE_BENEATH). */
#include "serve_snap.h"
#include "ptc/serve.h"
#include "ptc/buf.h"
#include "ptc/cache.h"
#include "ptc/db.h"
#include "ptc/fsutil.h"
#include "ptc/mac.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(SYS_openat2) && defined(__has_include)
#  if __has_include(<linux/openat2.h>)
#    include <linux/openat2.h>
#    define HAVE_OPENAT2 1
#  endif
#endif

void ptc_snap_free(snap *sn)
{
    if (!sn) return;
    ptc_serve_cache_free(sn->cache);
    ptc_cfg_free(&sn->cfg);
    ptc_serve_allow_free(sn->allow);
    free(sn->allow_spec);
    free(sn->macs);
    if (sn->basefd >= 0) close(sn->basefd);
    free(sn->base_real);
    free(sn->cache_rel);
    free(sn->phone_db);
    free(sn);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int add_mac(const ptc_db_row *row, void *ctx)
{
    snap *sn = ctx;
    char mac[13];
    if (!ptc_mac_norm(row->mac_addr, mac)) return 0;
    if (sn->nmacs == sn->macs_cap) {
        sn->macs_cap = sn->macs_cap ? sn->macs_cap * 2 : 64;
        sn->macs = ptc_xrealloc(sn->macs, sn->macs_cap * sizeof *sn->macs);
    }
    sn->macs[sn->nmacs++] = ptc_mac_value(mac);
    return 0;
}

/* Reads the MACs of the phone table (through its owner, db.c).  A missing
 * database or table is not an error (no phones yet: MAC binding has
 * nothing to bind); a broken one is. */
static int load_macs(snap *sn, char *why, size_t whylen)
{
    ptc_db_watch *w = ptc_db_watch_new(sn->phone_db);
    sn->phone_db_version = ptc_db_watch_version(w);
    ptc_db_watch_free(w);
    ptc_diag quiet;
    ptc_diag_init_null(&quiet);
    if (ptc_db_read(sn->phone_db, 1, add_mac, sn, &quiet) < 0) {
        snprintf(why, whylen, "%s", quiet.last);
        return -1;
    }
    if (sn->nmacs) {
        qsort(sn->macs, sn->nmacs, sizeof *sn->macs, cmp_u64);
        size_t k = 1;
        for (size_t i = 1; i < sn->nmacs; i++)
            if (sn->macs[i] != sn->macs[k - 1]) sn->macs[k++] = sn->macs[i];
        sn->nmacs = k;
    }
    return 0;
}

int ptc_snap_known_mac(const snap *sn, uint64_t v)
{
    return sn->nmacs && bsearch(&v, sn->macs, sn->nmacs, sizeof v, cmp_u64) != NULL;
}

/* The first run of 12 hex digits in path that is a known phone's MAC. */
int ptc_snap_path_mac(const snap *sn, const char *path, char mac[13])
{
    size_t run = 0;
    for (size_t i = 0; path[i]; i++) {
        run = isxdigit((unsigned char)path[i]) ? run + 1 : 0;
        if (run >= 12) {
            const char *w = path + i - 11;
            if (ptc_snap_known_mac(sn, ptc_mac_value(w))) {
                for (int k = 0; k < 12; k++) mac[k] = (char)tolower((unsigned char)w[k]);
                mac[12] = '\0';
                return 1;
            }
        }
    }
    return 0;
}

/* The allowlist of a new snapshot.  It fails closed: once PHONEPROV_ALLOW
 * has closed the server, a reload that finds it gone or blank keeps the
 * previous list (only an explicit setting, such as `*`, opens it). */
static int pick_allow(const ptc_snap_src *s, snap *sn, const snap *prev, char *why, size_t whylen)
{
    const char *spec = s->allow_cli;
    if (!spec) {
        spec = ptc_cfg_get(&sn->cfg, "PHONEPROV_ALLOW");
        if (prev && prev->allow_spec && !ptc_serve_allow_is_open(prev->allow) && (!spec || ptc_serve_allow_is_blank(spec))) {
            ptc_serve_say("error", "reload: PHONEPROV_ALLOW is %s in %s: keeping the previous allowlist",
                spec ? "blank" : "gone", sn->cfg.rc_path);
            spec = prev->allow_spec;
        }
    }
    sn->allow = ptc_serve_allow_parse(spec, why, whylen);
    if (!sn->allow) return -1;
    sn->allow_spec = spec ? ptc_xstrdup(spec) : NULL;
    return 0;
}

snap *ptc_snap_build(const ptc_snap_src *s, const snap *prev, char *why, size_t whylen)
{
    snap *sn = ptc_xcalloc(1, sizeof *sn);
    sn->basefd = -1;
    sn->cache = ptc_serve_cache_new();
    char *base = NULL, *cache = NULL, *cache_real = NULL;
    int ok = 0;
    ptc_diag quiet;
    ptc_diag_init_null(&quiet);
    if (ptc_cfg_load(&sn->cfg, s->root, s->rc_file, &quiet) != 0) {
        snprintf(why, whylen, "cannot read %s: %s", s->rc_file ? s->rc_file : "rc.conf", strerror(errno));
        goto fail;
    }
    char *rc_open = s->rc_file ? ptc_xstrdup(s->rc_file) : ptc_cfg_path(&sn->cfg, "/etc/rc.conf");
    sn->rc_read = ptc_exists(rc_open);
    free(rc_open);
    if (prev && prev->rc_read && !sn->rc_read) {
        snprintf(why, whylen, "cannot read %s: it is gone", sn->cfg.rc_path);
        goto fail;
    }
    base = ptc_cfg_path(&sn->cfg, ptc_cfg_base_dir(&sn->cfg));
    sn->base_real = realpath(base, NULL);
    if (!sn->base_real) {
        snprintf(why, whylen, "base directory %s: %s", base, strerror(errno));
        goto fail;
    }
    sn->base_len = strlen(sn->base_real);
    sn->basefd = open(sn->base_real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sn->basefd < 0) {
        snprintf(why, whylen, "base directory %s: %s", sn->base_real, strerror(errno));
        goto fail;
    }
    if (pick_allow(s, sn, prev, why, whylen) != 0) goto fail;
    sn->phone_db = ptc_cfg_phone_db(&sn->cfg, s->phone_db_opt);
    if (load_macs(sn, why, whylen) != 0) goto fail;
    /* The bytecode cache is never under the base by default, but a user may
     * put it there: then it is hidden like templates/. */
    cache = ptc_cache_default_dir();
    cache_real = cache ? realpath(cache, NULL) : NULL;
    if (cache_real && strncmp(cache_real, sn->base_real, sn->base_len) == 0 &&
        cache_real[sn->base_len] == '/')
        sn->cache_rel = ptc_xstrdup(cache_real + sn->base_len + 1);
    ok = 1;
fail:
    free(base);
    free(cache);
    free(cache_real);
    if (!ok) {
        ptc_snap_free(sn);
        sn = NULL;
    }
    return sn;
}

/* Opens rel below the base.  The fast path refuses every symlink; on ELOOP
 * we open again allowing symlinks that stay beneath the base, and return
 * the target (relative to the base) in *target so the rules can be checked
 * on it too.  -1 with *why (errno kept) on failure. */
int ptc_snap_open_beneath(const snap *sn, const char *rel, char **target, const char **why)
{
    int fd;
    *target = NULL;
#ifdef HAVE_OPENAT2
    /* Set once the kernel (or valgrind, or a seccomp filter) has said it
     * has no openat2, so each request does not ask again. */
    static _Atomic int no_openat2;
    if (no_openat2) goto fallback;
    struct open_how how;
    memset(&how, 0, sizeof how);
    /* O_NONBLOCK: a FIFO in the tree must not hang a thread in open(). */
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS;
    fd = (int)syscall(SYS_openat2, sn->basefd, rel, &how, sizeof how);
    if (fd >= 0) return fd;
    if (errno == ELOOP) {
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        fd = (int)syscall(SYS_openat2, sn->basefd, rel, &how, sizeof how);
        if (fd < 0) {
            *why = errno == EXDEV ? "symlink leads out of the base directory" : "symlink loop";
            return -1;
        }
        char link[64], real[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, real, sizeof real - 1);
        if (n <= 0 || (size_t)n <= sn->base_len || strncmp(real, sn->base_real, sn->base_len) != 0 ||
            real[sn->base_len] != '/') {
            close(fd);
            *why = "symlink leads out of the base directory";
            errno = EXDEV;
            return -1;
        }
        real[n] = '\0';
        *target = ptc_xstrdup(real + sn->base_len + 1);
        return fd;
    }
    if (errno == EXDEV) { *why = "leads out of the base directory"; return -1; }
    if (errno != ENOSYS && errno != EPERM) { *why = strerror(errno); return -1; }
    if (errno == ENOSYS) no_openat2 = 1;
fallback:
#endif
    /* No openat2 (kernel before 5.6, or a seccomp filter): resolve by hand
     * and check the result is still beneath the base. */
    ptc_buf p = PTC_BUF_INIT;
    ptc_buf_printf(&p, "%s/%s", sn->base_real, rel);
    char *real = realpath(ptc_buf_cstr(&p), NULL);
    ptc_buf_free(&p);
    if (!real) { *why = strerror(errno); return -1; }
    if (strncmp(real, sn->base_real, sn->base_len) != 0 || real[sn->base_len] != '/') {
        free(real);
        *why = "symlink leads out of the base directory";
        errno = EXDEV;
        return -1;
    }
    fd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
    if (fd < 0) { *why = strerror(errno); free(real); return -1; }
    if (strcmp(real + sn->base_len + 1, rel) != 0) *target = ptc_xstrdup(real + sn->base_len + 1);
    free(real);
    return fd;
}

int ptc_snap_in_cache_dir(const snap *sn, const char *rel)
{
    if (!sn->cache_rel) return 0;
    size_t n = strlen(sn->cache_rel);
    return strncmp(rel, sn->cache_rel, n) == 0 && (rel[n] == '/' || rel[n] == '\0');
}
