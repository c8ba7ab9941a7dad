/* ptc_db: the SQLite `phoneprov` table.
 *
 * The table is rebuilt as `phoneprov_build`, with the original tool's exact
 * CREATE text, and swapped in with DROP + ALTER ... RENAME in one
 * transaction: readers see the old table or the new one, never a mix.  The
 * swap is idempotent so an interrupted commit can be finished later.  All
 * values are bound parameters.
 */
#ifndef PTC_DB_H
#define PTC_DB_H

#include <stdint.h>
#include "ptc/diag.h"

typedef struct ptc_db ptc_db;

typedef struct ptc_db_row {
    const char *ext, *cid_name, *cid_num, *account;
    int line;
    const char *mac_addr, *template_, *model, *vendor, *sip_driver;
    int ext_len, cid_name_len, cid_num_len, account_len, template_len, model_len, vendor_len;
} ptc_db_row;

/* Opens (creating) path; waits up to timeout_ms for a lock held by another
 * process.  NULL after reporting. */
ptc_db *ptc_db_open(const char *path, int timeout_ms, ptc_diag *diag);
void    ptc_db_close(ptc_db *db);

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
/* The hash of the current phoneprov table into *h and its row count into
 * *rows; -1 when there is no such table or it is not the original's. */
int ptc_db_table_hash(ptc_db *db, uint64_t *h, long *rows);

/* 1 when a table of that name exists. */
int ptc_db_has_table(ptc_db *db, const char *name);

/* Reads the phoneprov table of path read-only, in id order: calls each(row,
 * ctx) per row (its strings valid for the call; mac_addr as written).  A
 * missing file or table is an error.  0, or -1 after reporting. */
int ptc_db_read(const char *path, int (*each)(const ptc_db_row *row, void *ctx), void *ctx, ptc_diag *diag);

#endif
