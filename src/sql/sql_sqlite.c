/* ptc_sql on SQLite.  Parameters are written $1..$N in the shared SQL;
 * SQLite takes "$1" as a named parameter, so each statement maps number to
 * index once, when it is prepared. */
#include "sql_int.h"
#include "ptc/buf.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lite_stmt {
    sqlite3_stmt *h;
    int index[PTC_SQL_MAX_PARAMS + 1];  /* $n -> SQLite's index (0: absent) */
    int stepped;
} lite_stmt;

static sqlite3 *db_of(ptc_sql *c) { return c->h; }

static int lite_open(ptc_sql *c, const char *loc, int flags, int timeout_ms, const char *app,
                     char *why, size_t whylen)
{
    (void)app;
    sqlite3 *h = NULL;
    int f = (flags & PTC_SQL_READONLY) ? SQLITE_OPEN_READONLY
          : SQLITE_OPEN_READWRITE | ((flags & PTC_SQL_CREATE) ? SQLITE_OPEN_CREATE : 0);
    /* One connection, one thread: no mutexes on every call. */
    if (sqlite3_open_v2(loc, &h, f | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(why, whylen, "%s: cannot open database: %s", loc, h ? sqlite3_errmsg(h) : "out of memory");
        sqlite3_close(h);
        return -1;
    }
    sqlite3_busy_timeout(h, timeout_ms);
    c->h = h;
    return 0;
}

static void lite_close(ptc_sql *c) { sqlite3_close(db_of(c)); }

static int lite_exec(ptc_sql *c, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db_of(c), sql, NULL, NULL, &err) == SQLITE_OK) return 0;
    ptc_sql_set_err(c, "%s", err ? err : sqlite3_errmsg(db_of(c)));
    sqlite3_free(err);
    return -1;
}

static int lite_has_table(ptc_sql *c, const char *name)
{
    sqlite3_stmt *st = NULL;
    int found = -1;
    if (sqlite3_prepare_v2(db_of(c), "SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name=?1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        int s = sqlite3_step(st);
        found = s == SQLITE_ROW ? 1 : s == SQLITE_DONE ? 0 : -1;
    }
    if (found < 0) ptc_sql_set_err(c, "%s", sqlite3_errmsg(db_of(c)));
    sqlite3_finalize(st);
    return found;
}

static int lite_prepare(ptc_sql_stmt *st, const char *sql)
{
    lite_stmt *s = ptc_xcalloc(1, sizeof *s);
    if (sqlite3_prepare_v2(db_of(st->c), sql, -1, &s->h, NULL) != SQLITE_OK) {
        ptc_sql_set_err(st->c, "%s", sqlite3_errmsg(db_of(st->c)));
        free(s);
        return -1;
    }
    for (int i = 1; i <= PTC_SQL_MAX_PARAMS; i++) {
        char name[8];
        snprintf(name, sizeof name, "$%d", i);
        s->index[i] = sqlite3_bind_parameter_index(s->h, name);
    }
    st->h = s;
    return 0;
}

static void lite_bind_text(ptc_sql_stmt *st, int i, const char *v, int n)
{
    lite_stmt *s = st->h;
    if (!s->index[i]) return;
    if (v) sqlite3_bind_text(s->h, s->index[i], v, n, SQLITE_STATIC);
    else sqlite3_bind_null(s->h, s->index[i]);
}

static void lite_bind_int64(ptc_sql_stmt *st, int i, int64_t v)
{
    lite_stmt *s = st->h;
    if (s->index[i]) sqlite3_bind_int64(s->h, s->index[i], (sqlite3_int64)v);
}

static int lite_step(ptc_sql_stmt *st)
{
    lite_stmt *s = st->h;
    s->stepped = 1;
    int rc = sqlite3_step(s->h);
    if (rc == SQLITE_ROW) return PTC_SQL_ROW;
    if (rc == SQLITE_DONE) return PTC_SQL_DONE;
    ptc_sql_set_err(st->c, "%s", sqlite3_errmsg(db_of(st->c)));
    return -1;
}

static const char *lite_text(ptc_sql_stmt *st, int i, int *len)
{
    lite_stmt *s = st->h;
    const char *v = (const char *)sqlite3_column_text(s->h, i);
    *len = sqlite3_column_bytes(s->h, i);
    return v;
}

/* SQLite's own integer: no round trip through text on the table's every row. */
static int64_t lite_col_int64(ptc_sql_stmt *st, int i)
{
    return (int64_t)sqlite3_column_int64(((lite_stmt *)st->h)->h, i);
}

static int lite_is_null(ptc_sql_stmt *st, int i)
{
    return sqlite3_column_type(((lite_stmt *)st->h)->h, i) == SQLITE_NULL;
}

static void lite_reset(ptc_sql_stmt *st)
{
    sqlite3_reset(((lite_stmt *)st->h)->h);
}

static int lite_finalize(ptc_sql_stmt *st)
{
    lite_stmt *s = st->h;
    sqlite3_finalize(s->h);
    free(s);
    return 0;
}

static int lite_run_lock(ptc_sql *c, int nonblock, int quiet, char *who, size_t wholen)
{
    (void)c; (void)nonblock; (void)quiet; (void)who; (void)wholen;
    return 1;
}

const ptc_sql_ops ptc_sql_sqlite_ops = {
    .kind = PTC_SQL_SQLITE, .open = lite_open, .close = lite_close, .exec = lite_exec,
    .begin_sql = "BEGIN IMMEDIATE", .has_table = lite_has_table, .prepare = lite_prepare,
    .bind_text = lite_bind_text, .bind_int64 = lite_bind_int64, .step = lite_step, .text = lite_text, .int64 = lite_col_int64,
    .is_null = lite_is_null, .reset = lite_reset, .finalize = lite_finalize, .run_lock = lite_run_lock,
};
