/* ptc_gen: the generation index, what lets a rerun with nothing to do
 * cost a stat per file instead of a whole run.
 *
 * A run that commits writes, in the bytecode cache's directory (a cache
 * too: the tree and /mnt/kd stay exactly the original tool's), the record
 * of what it produced (gen-HASH.idx, HASH naming the run's state directory
 * and table): a key over everything its output depends on (the
 * phone list's bytes, every template's bytes, the SIP server address, the
 * base directory, --root, the table's location, ptc's own binary), then,
 * in the order the run reported them, each phone done and each output file
 * with its size, mtime, inode and mode, then the table's rows (count and
 * hash) and the database file's own size, mtime and inode.  The next run
 * with -f, the same key and every file and the table as recorded (one stat
 * each; a PostgreSQL table is read back and hashed) is a no-change run: it
 * reports exactly what the full run would (every file unchanged, the same
 * dots, the same summary) without binding, rendering or reading back
 * anything.  Anything else, a file edited, replaced, removed or opened to
 * everyone behind ptc's back included, takes the full run, which restores
 * it.  A record that is missing, torn, corrupt or from another version is
 * a miss, never an error.
 *
 * The writer streams (memory stays flat in N); its record replaces the old
 * one only after the run committed, and the old one is removed before a
 * run changes anything, so a killed run leaves none.
 *
 * Ownership: a ptc_gen_writer is the run's (ptc_gen_writer_free, NULL
 * accepted); paths passed in are copied into the record.
 */
#ifndef PTC_GEN_H
#define PTC_GEN_H

#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include "ptc/cfg.h"
#include "ptc/run.h"
#include "ptc/src.h"

/* The key of a run of list under these options (o->db_path, the SIP
 * server address) and configuration (its templates directory, base
 * directory and root).  0 when an input cannot be read: no record. */
uint64_t ptc_gen_key(const ptc_run_opts *o, const ptc_cfg *cfg, const ptc_src *list);

/* The record's path for a run whose commit records are in state_dir and
 * whose table is db; NULL when there is no cache directory (caller frees). */
char *ptc_gen_path(const char *cache_dir, const char *state_dir, const char *db);

/* When o allows it (-f, not a dry run, partial or check), and the record at
 * path has this key and everything it lists is as recorded: reports the
 * run through o's hooks and st as the full run would, and returns 1.
 * Otherwise 0, having reported nothing. */
int ptc_gen_replay(const char *path, uint64_t key, const ptc_run_opts *o, const ptc_cfg *cfg,
                   ptc_run_stats *st);

typedef struct ptc_gen_writer {
    FILE *f;
    char *path, *tmp;
    int broken;                 /* something the record cannot describe */
} ptc_gen_writer;

/* Removes the old record and starts the new one (a temporary file); NULL
 * when it cannot be written (the run goes on without). */
ptc_gen_writer *ptc_gen_writer_new(const char *path, uint64_t key);
void ptc_gen_phone(ptc_gen_writer *w);                     /* w NULL accepted */
/* An output reported unchanged, changed or created, as it will be once the
 * run committed (st: of that file, its temporary one for a new file). */
void ptc_gen_file(ptc_gen_writer *w, const char *display, const struct stat *st);
/* The output cannot be described (a link written through): no record. */
void ptc_gen_spoil(ptc_gen_writer *w);
/* After the commit: the table (rows and their hash; any_sql) and the
 * database location (a file is stat'ed); puts the record in place. */
void ptc_gen_finish(ptc_gen_writer *w, int any_sql, long rows, uint64_t rows_hash, const char *db);
void ptc_gen_writer_free(ptc_gen_writer *w);   /* without finish: no record */

#endif
