/* ptc_run: the mass deployment (what `ptc run` does after its options).
 *
 *   read     every phone line checked, every error reported (ptc_rec)
 *   plan     each phone bound to its template (ptc_phone); every output
 *            file known; duplicates, unsafe paths and files that exist
 *            without -f found here; nothing written yet
 *   execute  the VM streams each phone's contexts into sinks: include files
 *            into temporary files, provisioning files compared in memory
 *            with what is on disk; the phoneprov_build table filled
 *   commit   unchanged files left alone (their mtime stays), the rest
 *            renamed into place through ptc_commit, the table swapped
 *
 * Exit statuses: PTC_EXIT_OK, PTC_EXIT_ERROR, PTC_EXIT_EXISTS (an output
 * exists and force is off), PTC_EXIT_NOPASS (a password is missing).
 */
#ifndef PTC_RUN_H
#define PTC_RUN_H

#include <stdio.h>
#include "ptc/cfg.h"
#include "ptc/cache.h"
#include "ptc/diag.h"

typedef struct ptc_run_opts {
    const char *list_path;      /* massdeployment.conf, as given */
    const char *db_path;        /* the database file to open (--root already applied) */
    const char *sip_server_ipv4;
    int force, partial, dry_run, quiet, verbose;
    int progress_tty;           /* live count instead of dots */
    FILE *out;                  /* progress and summary */
} ptc_run_opts;

typedef struct ptc_run_stats {
    unsigned phones, created, changed, unchanged, rows;
    int table_unchanged;        /* the phoneprov table already held these rows */
} ptc_run_stats;

int ptc_run(const ptc_run_opts *o, ptc_cfg *cfg, ptc_cache *cache, ptc_diag *diag,
            ptc_run_stats *stats);

#endif
