/* The configuration a request sees (private to src/serve/): an immutable
 * snapshot of rc.conf, the allowlist, the phone table's MACs and the base
 * directory, built anew on reload and swapped in under the server's
 * rwlock, so requests never see half a configuration.
 *
 * Ownership: ptc_snap_build returns a snapshot the server frees with
 * ptc_snap_free (NULL accepted) once no request holds it; the sources are
 * borrowed. */
#ifndef PTC_SERVE_SNAP_H
#define PTC_SERVE_SNAP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "ptc/cfg.h"
#include "ptc/serve_allow.h"
#include "serve_cache.h"

/* What a request needs to know, immutable once built: a reload builds a new
 * one and swaps it in under the write lock, so requests never see half a
 * configuration. */
typedef struct snap {
    ptc_cfg cfg;
    ptc_serve_allow *allow;
    char *allow_spec;           /* the text it was parsed from (NULL: unset) */
    int rc_read;                /* rc.conf was there to read */
    uint64_t *macs;             /* sorted, the phone table's MACs */
    size_t nmacs, macs_cap;
    int basefd;
    char *base_real;            /* realpath of the base directory */
    size_t base_len;
    char *cache_rel;            /* bytecode cache below the base, or NULL */
    char *phone_db;
    uint64_t phone_db_version;  /* ptc_db_watch_version before the MACs were read */
    ptc_serve_cache *cache;     /* the one mutable part: its own lock (serve_cache.h) */
} snap;

/* What a snapshot is built from: `ptc serve`'s options. */
typedef struct ptc_snap_src {
    const char *root, *rc_file, *allow_cli, *phone_db_opt;
} ptc_snap_src;

/* NULL with a reason in why.  prev (NULL on start) is what a reload keeps
 * when the new configuration would open a closed allowlist. */
snap *ptc_snap_build(const ptc_snap_src *s, const snap *prev, char *why, size_t whylen);
void  ptc_snap_free(snap *sn);
/* 1 when v (ptc_mac_value) is a phone of the table. */
int   ptc_snap_known_mac(const snap *sn, uint64_t v);
/* The first run of 12 hex digits in path that is a known phone's MAC. */
int   ptc_snap_path_mac(const snap *sn, const char *path, char mac[13]);
/* Opens rel below the base, symlinks only where they stay beneath it; the
 * target (relative to the base) in *target when rel was a link.  -1 with
 * *why (errno kept). */
int   ptc_snap_open_beneath(const snap *sn, const char *rel, char **target, const char **why);
/* 1 when rel is in the bytecode cache (a user put it under the base). */
int   ptc_snap_in_cache_dir(const snap *sn, const char *rel);

#endif
