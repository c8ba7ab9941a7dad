/* ptc_status: every phone of the phoneprov table with what the fetch audit
 * says of it (`ptc status`, the web interface's status page).
 *
 *   never   no fetch recorded
 *   stale   a file it fetched has changed since (mtime now > mtime then),
 *           or is gone: the phone has not picked up its new configuration
 *   ok      otherwise
 *
 * Ownership: a ptc_status owns its phones, their fetch states and the
 * counters; ptc_status_free (NULL accepted).  Options are borrowed.
 */
#ifndef PTC_STATUS_H
#define PTC_STATUS_H

#include "ptc/audit.h"
#include "ptc/db.h"
#include "ptc/diag.h"

enum { PTC_STATUS_OK, PTC_STATUS_NEVER, PTC_STATUS_STALE };

typedef struct ptc_status_phone {
    ptc_db_phone ph;
    ptc_fetch_state fetch;
    int state;                  /* PTC_STATUS_* */
} ptc_status_phone;

typedef struct ptc_status {
    ptc_status_phone *v;        /* in table order */
    size_t n;
    unsigned count[3];          /* by state */
    int have_audit;             /* 0: no audit database yet */
    int commit_pending;         /* a run stopped after its commit point */
    long long serve_stat[PTC_SERVE_STAT_N];    /* ptc serve's counters */
    unsigned fetch_hours[24];   /* ptc_audit_reader_hours at the time of reading */
} ptc_status;

typedef struct ptc_status_opts {
    const char *phone_db, *audit_db;
    const char *state_dir;      /* the commit records (ptc_commit_state_dir) */
    const char *base;           /* the provisioning tree, to open */
} ptc_status_opts;

/* Reads the table and the audit.  A missing audit database is not an
 * error (have_audit 0); a missing table or a broken database is (-1,
 * reported). */
int  ptc_status_read(const ptc_status_opts *o, ptc_status *out, ptc_diag *diag);
void ptc_status_free(ptc_status *s);

#endif
