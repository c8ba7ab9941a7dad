/* ptc_commit: making a whole generation of files visible at once.
 *
 * Every output is first written to a temporary file beside its final name
 * (.NAME.ptc-XXXXXX: a dot file, never served).  Before any temporary file
 * is created, an intent record lists the directories that will hold them.
 * Then:
 *
 *   1. every temporary file is fsynced;
 *   2. the commit record (the manifest: temp -> final for each file, and
 *      the table swap) is written atomically: this is the commit point;
 *   3. the renames and the table swap are carried out;
 *   4. the manifest and the intent record are removed.
 *
 * ptc_commit_recover, called at the start of every run under the run lock,
 * finishes a manifest it finds (roll forward: a killed run after step 2 is
 * complete) or, without one, deletes the temporary files named by the
 * intent record and any phoneprov_build table (roll back).  So after a kill
 * at any moment, the next run starts from the old generation or the new one,
 * never a mix.
 *
 * Ownership: a ptc_commit owns its paths, the open manifest and the
 * directory list (ptc_commit_free, NULL accepted); names passed in are
 * copied.
 */
#ifndef PTC_COMMIT_H
#define PTC_COMMIT_H

#include "ptc/cfg.h"
#include "ptc/diag.h"
#include "ptc/templates.h"

typedef struct ptc_commit {
    char *manifest, *intent;    /* paths of the two records */
    char *pending;              /* the manifest while it is being written */
    FILE *pf;                   /* ... streamed: memory stays flat in N */
    size_t nfiles;
    int write_error;
    ptc_pathlist dirs;          /* directories that hold temporary files */
    int db_swap;                /* 0 none, 1 swap build table, 2 drop table */
    int committed;              /* the manifest is written: no way back */
    char *db_path;
} ptc_commit;

/* state_dir: where the records live (the database's directory). */
void ptc_commit_init(ptc_commit *c, const char *state_dir, const char *db_path);
void ptc_commit_free(ptc_commit *c);

/* Finishes or undoes an interrupted run.  0, or -1 after reporting. */
int  ptc_commit_recover(ptc_commit *c, ptc_diag *diag);

/* Records the directories that will hold temporary files (step 0) and
 * starts the pending manifest. */
int  ptc_commit_intent(ptc_commit *c, const ptc_pathlist *dirs, ptc_diag *diag);

/* Adds a finished temporary file and its final name. */
void ptc_commit_add(ptc_commit *c, const char *tmp, const char *final);

/* Step 1 for many files at once: one syncfs per file system holding one
 * of dirs, instead of an fsync per file. */
void ptc_commit_sync_dirs(const ptc_pathlist *dirs);

/* Steps 1-4.  On failure before the commit point, everything is rolled
 * back; -1 after reporting. */
int  ptc_commit_run(ptc_commit *c, ptc_diag *diag);

/* Deletes the temporary files added so far and the intent record (a run
 * that fails before committing). */
void ptc_commit_abort(ptc_commit *c);

/* Where the commit records (and the run lock) of a run writing the table
 * at db live: the database file's directory; for a PostgreSQL table, the
 * directory the default SQLite database would be in, under --root
 * (/mnt/kd): the tree is local to each host, so are its records.
 * Caller frees. */
char *ptc_commit_state_dir(const ptc_cfg *cfg, const char *db);

/* The local run lock: an flock on state_dir (which holds the commit
 * records too), so taking it creates nothing.  Returns the descriptor to
 * close to release it, or -1 with errno (EWOULDBLOCK when nonblock and
 * another run holds it). */
int  ptc_commit_lock(const char *state_dir, int nonblock);

/* The whole run lock: the local one and, for a PostgreSQL table shared
 * by several hosts, its advisory lock (ptc_db_run_lock).  1 held; 0 when
 * nonblock and a run holds it (who says which, as much as is known); -1
 * after reporting.  Waiting for another host's run, says so on stderr. */
typedef struct ptc_runlock { int fd; struct ptc_db *db; } ptc_runlock;
int  ptc_runlock_take(ptc_runlock *l, const char *state_dir, const char *db, int nonblock,
                      char *who, size_t wholen, ptc_diag *diag);
void ptc_runlock_release(ptc_runlock *l);      /* an untaken one accepted */

/* 1 if state_dir holds a complete commit record: a run stopped (or is
 * still renaming) after its commit point, so the tree may be half old and
 * half new.  For read-only commands to report. */
int  ptc_commit_pending(const char *state_dir);

/* Finishes such a run (its table at db) unless a live run holds the run
 * lock and is finishing it itself.  0: nothing pending (any more); 1: a
 * live run holds the run lock; -1: it could not be finished (reported). */
int  ptc_commit_finish(const char *state_dir, const char *db, ptc_diag *diag);

#endif
