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
 *
 * The same entry point serves `ptc run`, the web interface's Generate and
 * its checks (check_only): diagnostics go to the reporter, outcomes and
 * progress to the hooks, and nothing is printed here.
 * Ownership: options, configuration, cache and reporter are borrowed;
 * stats is filled in.
 */
#ifndef PTC_RUN_H
#define PTC_RUN_H

#include <stdio.h>
#include "ptc/cfg.h"
#include "ptc/cache.h"
#include "ptc/diag.h"

typedef enum { PTC_FILE_CREATED, PTC_FILE_CHANGED, PTC_FILE_UNCHANGED } ptc_file_outcome;

/* What a caller hears while a run works; every member may be NULL.  Calls
 * come from the calling thread, in order. */
typedef struct ptc_run_hooks {
    /* Execution starts (every check passed): total phones to write. */
    void (*start)(void *ctx, unsigned total);
    /* A phone's files are built (done of total). */
    void (*progress)(void *ctx, unsigned done, unsigned total);
    /* An output's outcome, as it is decided (path: as the template names
     * it; the file is ptc_cfg_path(cfg, path) under --root); with
     * keep_content, its new bytes too (else data is NULL). */
    void (*file)(void *ctx, ptc_file_outcome what, const char *path, const char *data, size_t len);
    /* Asked after each phone until the commit point: nonzero cancels the
     * run, which then leaves everything as it was. */
    int  (*cancel)(void *ctx);
    void *ctx;
} ptc_run_hooks;

typedef struct ptc_run_opts {
    const char *list_path;      /* massdeployment.conf, as given (its name in messages) */
    const char *list_text;      /* or the list itself, list_len bytes (not a file) */
    size_t list_len;
    const char *db_path;        /* the database file to open (--root already applied) */
    const char *sip_server_ipv4;
    int force, partial, dry_run;
    int check_only;             /* stop after the plan: every check, nothing written */
    int keep_content;           /* dry run: hand every file's new bytes to the file hook
                                 * (include files are then held in memory whole) */
    ptc_run_hooks hooks;
} ptc_run_opts;

typedef struct ptc_run_stats {
    unsigned phones, created, changed, unchanged, rows;
    unsigned reused;            /* phones planned from the generation index, not bound */
    int table_unchanged;        /* the phoneprov table already held these rows */
    int planned;                /* the list was read and every check made */
    int committed;              /* the commit point was passed (a failure after
                                 * it is finished by the next run) */
} ptc_run_stats;

int ptc_run(const ptc_run_opts *o, ptc_cfg *cfg, ptc_cache *cache, ptc_diag *diag,
            ptc_run_stats *stats);

#endif
