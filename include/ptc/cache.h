/* ptc_cache: compiled templates on disk, keyed by the template's bytes.
 *
 * A cache file is DIR/<hash>-<size>.ptcb (format: docs/bytecode.md).  A file
 * that is missing, truncated, corrupt, stale (another format or ptc version)
 * or for other bytes is a miss: the template is compiled again and the file
 * replaced.  Stores are atomic (temporary file in DIR, fsync, rename), so two
 * processes compiling one template both succeed, and a failed store only
 * costs the next run a compile.  The cache holds no phone data.
 *
 * The directory must not be one that is served to phones; the default is
 * $PTC_CACHE_DIR, else $XDG_CACHE_HOME/ptc, else $HOME/.cache/ptc.
 *
 * Ownership: a ptc_cache owns its directory string (ptc_cache_free, NULL
 * accepted); returned paths and programs are the caller's.
 */
#ifndef PTC_CACHE_H
#define PTC_CACHE_H

#include <stdio.h>
#include "ptc/prog.h"
#include "ptc/src.h"
#include "ptc/diag.h"

typedef struct ptc_cache {
    char *dir;                  /* NULL: caching off */
    FILE *log;                  /* --verbose: why each miss happened */
    unsigned hits, misses, stores, store_failures;
} ptc_cache;

/* dir NULL selects the default.  Never fails: an unusable directory only
 * means every load compiles. */
void ptc_cache_init(ptc_cache *c, const char *dir);
void ptc_cache_free(ptc_cache *c);
char *ptc_cache_default_dir(void);

/* The program for src: from the cache when it holds these exact bytes,
 * else compiled (errors to diag, NULL returned) and stored. */
ptc_prog *ptc_cache_get(ptc_cache *c, ptc_src *src, ptc_diag *diag);

/* The cache file name for src (caller frees). */
char *ptc_cache_path(const ptc_cache *c, const ptc_src *src);

#endif
