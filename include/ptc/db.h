/* ptc_db: the `phoneprov` table, in SQLite or PostgreSQL (ptc_sql).
 *
 * The table is built as `phoneprov_build` and swapped in by one
 * transaction: readers see the old rows or the new ones, never a mix.  On
 * SQLite the build has the original tool's exact CREATE text and the swap
 * is DROP + ALTER ... RENAME; on PostgreSQL the table stays (its grants
 * and OID) and the swap replaces its rows and bumps phoneprov_version.  The
 * swap is idempotent so an interrupted commit can be finished later.  All
 * values are bound parameters.  This module is the table's one owner: every
 * other reader (serve, status, notify) calls it.  A path below is a
 * location: a file, or a PostgreSQL connection string (ptc/sql.h).
 *
 * Ownership: a ptc_db handle is closed with ptc_db_close (NULL accepted);
 * row strings are borrowed for the call they are passed to; a
 * ptc_db_phones owns its phones (ptc_db_phones_free).
 */
#ifndef PTC_DB_H
#define PTC_DB_H

#include <stdint.h>
#include "ptc/buf.h"
#include "ptc/diag.h"
#include "ptc/phone.h"

typedef struct ptc_db ptc_db;

typedef struct ptc_db_row {
    long id;                    /* as read back (a row being written has none) */
    const char *ext, *cid_name, *cid_num, *account;
    int line;
    const char *mac_addr, *template_, *model, *vendor, *sip_driver;
    int ext_len, cid_name_len, cid_num_len, account_len, template_len, model_len, vendor_len;
} ptc_db_row;

/* Opens (creating) path; waits up to timeout_ms for a lock held by another
 * process.  NULL after reporting. */
ptc_db *ptc_db_open(const char *path, int timeout_ms, ptc_diag *diag);
void    ptc_db_close(ptc_db *db);

/* PostgreSQL's schema of the table (docs/scale.md). */
extern const char ptc_db_pg_schema[];

/* Takes the lock that serialises runs writing this table from several
 * hosts (ptc_sql_run_lock: PostgreSQL's advisory lock, held until the
 * handle is closed).  1 held; 0 nonblock and busy (the holder in who); -1
 * after reporting. */
int ptc_db_run_lock(ptc_db *db, int nonblock, char *who, size_t wholen, ptc_diag *diag);

/* Starts phoneprov_build (dropping a leftover); with keep_existing, the
 * current phoneprov rows are copied in first (ptc run -p). */
int ptc_db_build_begin(ptc_db *db, int keep_existing, ptc_diag *diag);
int ptc_db_build_add(ptc_db *db, const ptc_db_row *row, ptc_diag *diag);
/* Commits phoneprov_build (still under its own name). */
int ptc_db_build_end(ptc_db *db, ptc_diag *diag);

/* Makes phoneprov_build the phoneprov table; with no build table, drops
 * phoneprov when drop_when_no_build (the original's behaviour when no
 * template enables SQL). */
int ptc_db_swap(ptc_db *db, int drop_when_no_build, ptc_diag *diag);
/* Drops a leftover phoneprov_build (roll back). */
int ptc_db_drop_build(ptc_db *db, ptc_diag *diag);
/* A running hash of table rows in id order (ids from 1), the same whether
 * fed from a run's plan or read back from the table: a rerun that would
 * write the same rows leaves the table (and the file) alone. */
uint64_t ptc_db_row_hash(uint64_t h, long id, const ptc_db_row *row);
/* ... made of two parts: the row's digest (its fields without the id),
 * which the generation index keeps for each phone, and the chaining of
 * digests in id order: row_hash(h, id, r) = row_hash_digest(h, id, digest(r)). */
uint64_t ptc_db_row_digest(const ptc_db_row *row);
uint64_t ptc_db_row_hash_digest(uint64_t h, long id, uint64_t digest);
/* The hash of the current phoneprov table into *h and its row count into
 * *rows; -1 when there is no such table or it is not the original's. */
int ptc_db_table_hash(ptc_db *db, uint64_t *h, long *rows);

/* The rows of phone ph (bound to template tmpl) as the original writes
 * them: one per distinct line, to each(row, ctx) until it returns nonzero
 * (that value is returned, else 0). */
int ptc_db_rows_of(const ptc_phone *ph, const char *mac_addr, const char *tmpl,
                   int (*each)(const ptc_db_row *row, void *ctx), void *ctx);
/* 1 when the phoneprov table in the database at path holds exactly rows
 * rows whose ptc_db_row_hash is h: a run that would write them leaves the
 * table alone.  0 otherwise (no file, no table, another table). */
int ptc_db_table_is(const char *path, uint64_t h, long rows);

/* 1 when the location holds a phoneprov table (a file for SQLite; the
 * table, for PostgreSQL); 0 otherwise, unreachable servers included. */
int ptc_db_exists(const char *path);

/* 1 when a table of that name exists. */
int ptc_db_has_table(ptc_db *db, const char *name);

/* Reads the phoneprov table of path read-only, in id order: calls each(row,
 * ctx) per row (its strings valid for the call; mac_addr as written) until
 * it returns nonzero.  0; 1 (nothing reported) for a missing file or table
 * when missing_ok, else that is an error; -1 after reporting.  This and
 * ptc_db_table_hash share the one SELECT of the table. */
int ptc_db_read(const char *path, int missing_ok, int (*each)(const ptc_db_row *row, void *ctx), void *ctx,
                ptc_diag *diag);

/* A phone as the table holds it: its rows (one per line) grouped by MAC. */
typedef struct ptc_db_phone {
    char mac[13];               /* 12 lower-case hex digits */
    char *mac_text;             /* as the table writes it */
    char *account;              /* line 1's SIP account */
    char *sip_driver, *tmpl, *model, *vendor;
    ptc_buf exts;               /* "201,211" (NUL-terminated), in line order */
} ptc_db_phone;

typedef struct ptc_db_phones {
    ptc_db_phone *v;            /* in order of first row */
    size_t n;
} ptc_db_phones;

/* Every phone of the table at path (ptc status, ptc notify, ptc web); rows
 * whose MAC is not one are skipped.  Returns as ptc_db_read. */
int  ptc_db_read_phones(const char *path, int missing_ok, ptc_db_phones *out, ptc_diag *diag);
/* Frees a phone's strings (NULL accepted); the set and its phones. */
void ptc_db_phone_clear(ptc_db_phone *p);
void ptc_db_phones_free(ptc_db_phones *s);

/* ---- watching for a new table (ptc serve) -------------------------------- */

/* A cheap number that changes whenever a run changes the table, polled
 * once a second: SQLite, the newest mtime (ns) of the file and its WAL (a
 * run commits into the WAL); PostgreSQL, phoneprov_version, which every
 * swap moves in its own transaction (one indexed row: no table scan), over
 * a connection kept between calls and made again when it breaks.  0 when
 * there is no table (yet).  Thread-safe. */
typedef struct ptc_db_watch ptc_db_watch;
ptc_db_watch *ptc_db_watch_new(const char *path);
uint64_t      ptc_db_watch_version(ptc_db_watch *w);
void          ptc_db_watch_free(ptc_db_watch *w);     /* NULL accepted */

#endif
