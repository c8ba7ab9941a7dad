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
 * A run whose inputs other than the list are the same (the same templates,
 * configuration, options and ptc) uses the record phone by phone: a phone
 * whose line is unchanged is planned from its recorded facts (its outputs'
 * paths, its first account, its rows' digests) without binding it; its
 * provisioning file, when one stat finds it as recorded, is reported
 * unchanged without rendering or reading it back; its share of an include
 * file is copied from the old include file, when that one is as recorded.
 * Only the phones that changed are bound and rendered.  Anything the plan
 * would have to report takes the full plan of that phone, so diagnostics
 * are the same.
 *
 * A stat is trusted only when the file is older than the record by more
 * than a clock tick (git's "racy" entries; src/run/gen_rec.h): the writer
 * waits (a tick, 20 ms at most) until its newest file has settled.
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
#include "ptc/lang.h"
#include "ptc/sink.h"
#include "ptc/map.h"
#include "ptc/run.h"
#include "ptc/src.h"

/* The key of a run of list under these options (o->db_path, the SIP
 * server address) and configuration (its templates directory, base
 * directory and root), and in *env_key the key of all that but the list.
 * 0 when an input cannot be read: no record. */
uint64_t ptc_gen_key(const ptc_run_opts *o, const ptc_cfg *cfg, const ptc_src *list, uint64_t *env_key);

/* The hash a phone's line is known by in the record. */
uint64_t ptc_gen_line_hash(const char *line, size_t n);

/* What the plan needs of a phone, kept so that an unchanged phone is
 * planned without binding it. */
typedef struct ptc_gen_facts {
    uint64_t line_hash;         /* ptc_gen_line_hash */
    uint64_t account_hash;      /* ptc_plan_account_of */
    int sql;                    /* its rows go in the table */
    int nrows;
    uint64_t digest[PTC_MAX_LINES];     /* ptc_db_row_digest of each row */
} ptc_gen_facts;

typedef struct ptc_gen_out {    /* one output of a recorded phone, in context order */
    int ctx;
    const char *path;           /* as planned */
    uint64_t st[4];             /* a provisioning file: size, mtime (ns), inode, mode */
    int file;                   /* an include file: its place in the old record,
                                 * -1 when that file is not as recorded */
    uint64_t off, len;          /* ... and the phone's bytes in it */
    const char *hdr;            /* ... its dialplan context line ("" for none) */
} ptc_gen_out;

typedef struct ptc_gen_entry {
    ptc_gen_facts facts;
    int nout;
    ptc_gen_out out[PTC_CTX_COUNT];
    ptc_buf text;               /* holds the paths and headers */
} ptc_gen_entry;

typedef struct ptc_gen_prev ptc_gen_prev;

/* The previous record at path, when it was written under env_key; NULL
 * otherwise (missing, torn, of another version or other inputs). */
ptc_gen_prev *ptc_gen_prev_open(const char *path, uint64_t env_key, const ptc_cfg *cfg);
/* The record of the phone whose line hashes to line_hash into *e (valid
 * until the next call with e): 1, or 0 when there is none. */
int ptc_gen_prev_get(ptc_gen_prev *p, uint64_t line_hash, ptc_gen_entry *e);
/* Appends bytes [off, off + len) of the old record's include file number
 * file to s: 0, or -1 with nothing appended (the caller renders them). */
int ptc_gen_prev_copy(ptc_gen_prev *p, int file, uint64_t off, uint64_t len, ptc_sink *s);
/* 1 when the table the old record ends with holds rows rows of hash h and
 * is as recorded (a file: one stat; PostgreSQL: read back). */
int ptc_gen_prev_table_is(ptc_gen_prev *p, uint64_t h, long rows, const char *db);
void ptc_gen_prev_free(ptc_gen_prev *p);        /* NULL accepted */
void ptc_gen_entry_free(ptc_gen_entry *e);      /* its text; NULL accepted */

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
    ptc_map spelled;            /* include paths numbered so far (their N lines) */
    ptc_buf line;               /* the line being written */
    uint32_t nspelled;
    uint64_t newest;            /* the newest mtime recorded (ns) */
    int whole_seconds;          /* ... and every mtime was a whole second */
} ptc_gen_writer;

/* Removes the old record and starts the new one (a temporary file); NULL
 * when it cannot be written (the run goes on without). */
ptc_gen_writer *ptc_gen_writer_new(const char *path, uint64_t key, uint64_t env_key);
/* A phone done, after its outputs (w NULL accepted). */
void ptc_gen_phone(ptc_gen_writer *w, const ptc_gen_facts *f);
/* The phone's share of include file number file (in the plan's order):
 * bytes [off, off + len) of it, through path (as the phone names it), with
 * dialplan context line hdr. */
void ptc_gen_include(ptc_gen_writer *w, int ctx, size_t file, uint64_t off, uint64_t len, const char *path,
                     const char *hdr);
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
