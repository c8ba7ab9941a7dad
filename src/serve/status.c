/* ptc_status: the phone table joined with the fetch audit
 * (include/ptc/status.h).  The table is read through its owner (db.c),
 * the audit through its reader (serve_audit.c). */
#include "ptc/status.h"
#include "ptc/sql.h"
#include "ptc/commit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void read_counters(ptc_audit_reader *adb, ptc_status *s)
{
    for (int i = 0; i < PTC_SERVE_STAT_N; i++)
        s->serve_stat[i] = ptc_audit_reader_stat(adb, ptc_serve_stat_names[i]);
}

static int state_of(const ptc_fetch_state *f)
{
    return !f->fetched ? PTC_STATUS_NEVER : f->stale.len ? PTC_STATUS_STALE : PTC_STATUS_OK;
}

int ptc_status_read(const ptc_status_opts *o, ptc_status *out, ptc_diag *diag)
{
    memset(out, 0, sizeof *out);
    ptc_db_phones t;
    if (ptc_db_read_phones(o->phone_db, 0, &t, diag) != 0) {
        ptc_db_phones_free(&t);
        return -1;
    }
    out->commit_pending = ptc_commit_pending(o->state_dir);
    char why[512];
    ptc_audit_reader *adb = ptc_audit_reader_open(o->audit_db, why, sizeof why);
    if (!adb && errno != ENOENT) {
        ptc_diag_plain(diag, PTC_ERROR, ptc_sql_is_pg(o->audit_db) ? "postgresql" : "sqlite", "%s", why);
        ptc_db_phones_free(&t);
        return -1;
    }
    out->have_audit = adb != NULL;
    out->v = ptc_xcalloc(t.n ? t.n : 1, sizeof *out->v);
    for (size_t i = 0; i < t.n; i++) {
        ptc_status_phone *p = &out->v[out->n++];
        p->ph = t.v[i];                 /* its strings move over */
        ptc_audit_reader_phone(adb, o->base, p->ph.mac, &p->fetch);
        p->state = state_of(&p->fetch);
        out->count[p->state]++;
    }
    free(t.v);
    read_counters(adb, out);
    ptc_audit_reader_hours(adb, (int64_t)time(NULL), out->fetch_hours);
    ptc_audit_reader_close(adb);
    return 0;
}

void ptc_status_free(ptc_status *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        ptc_db_phone_clear(&s->v[i].ph);
        ptc_buf_free(&s->v[i].fetch.stale);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}
