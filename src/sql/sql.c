/* ptc_sql: the location, the dispatch to a backend, what both share. */
#include "sql_int.h"
#include "ptc/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A connection string: a postgres URI, or key=value pairs starting with a
 * libpq keyword (a file name holding '=' stays a file). */
int ptc_sql_is_pg(const char *loc)
{
    if (!loc) return 0;
    if (strncmp(loc, "postgresql://", 13) == 0 || strncmp(loc, "postgres://", 11) == 0) return 1;
    size_t n = strspn(loc, "abcdefghijklmnopqrstuvwxyz_");
    return n > 0 && loc[n] == '=';
}

int ptc_sql_check(const char *loc, char *why, size_t whylen)
{
    return ptc_sql_is_pg(loc) ? ptc_sql_pg_check(loc, why, whylen) : 0;
}

void ptc_sql_set_err(ptc_sql *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    /* libpq's messages run over lines ("...\n\tIs the server running");
     * ours are one line: each run of white space becomes one space. */
    char *o = c->err;
    for (const char *p = c->err; *p; p++) {
        int ws = *p == '\n' || *p == '\t' || *p == '\r' || *p == ' ';
        if (!ws) *o++ = *p;
        else if (o > c->err && o[-1] != ' ') *o++ = ' ';
    }
    while (o > c->err && o[-1] == ' ') o--;
    *o = '\0';
}

ptc_sql *ptc_sql_open(const char *loc, int flags, int timeout_ms, const char *app, char *why, size_t whylen)
{
    if (ptc_sql_check(loc, why, whylen) != 0) return NULL;
    ptc_sql *c = ptc_xcalloc(1, sizeof *c);
    c->ops = ptc_sql_is_pg(loc) ? &ptc_sql_pg_ops : &ptc_sql_sqlite_ops;
    c->where = ptc_xstrdup(loc);
    if (c->ops->open(c, loc, flags, timeout_ms, app, why, whylen) != 0) {
        ptc_sql_close(c);
        return NULL;
    }
    return c;
}

void ptc_sql_close(ptc_sql *c)
{
    if (!c) return;
    if (c->h) c->ops->close(c);
    free(c->where);
    free(c);
}

int ptc_sql_kind(const ptc_sql *c) { return c->ops->kind; }
const char *ptc_sql_where(const ptc_sql *c) { return c->where; }
const char *ptc_sql_errmsg(ptc_sql *c) { return c->err[0] ? c->err : "unknown error"; }

int ptc_sql_exec(ptc_sql *c, const char *sql) { return c->ops->exec(c, sql); }

int ptc_sql_begin(ptc_sql *c)
{
    if (c->ops->exec(c, c->ops->begin_sql) != 0) return -1;
    c->in_tx = 1;
    return 0;
}

int ptc_sql_commit(ptc_sql *c)
{
    int rc = c->ops->exec(c, "COMMIT");
    if (rc != 0) ptc_sql_rollback(c);
    c->in_tx = 0;
    return rc;
}

void ptc_sql_rollback(ptc_sql *c)
{
    if (!c || !c->in_tx) return;
    char keep[PTC_SQL_ERR_MAX];
    memcpy(keep, c->err, sizeof keep);      /* the error that led here stays */
    c->ops->exec(c, "ROLLBACK");
    memcpy(c->err, keep, sizeof keep);
    c->in_tx = 0;
}

int ptc_sql_has_table(ptc_sql *c, const char *name) { return c->ops->has_table(c, name); }

ptc_sql_stmt *ptc_sql_prepare(ptc_sql *c, const char *sql, int flags)
{
    ptc_sql_stmt *st = ptc_xcalloc(1, sizeof *st);
    st->c = c;
    st->flags = flags;
    if (c->ops->prepare(st, sql) != 0) {
        free(st);
        return NULL;
    }
    return st;
}

void ptc_sql_bind_text(ptc_sql_stmt *st, int i, const char *s, int n)
{
    if (i >= 1 && i <= PTC_SQL_MAX_PARAMS) st->c->ops->bind_text(st, i, s, n);
}

void ptc_sql_bind_int64(ptc_sql_stmt *st, int i, int64_t v)
{
    if (i >= 1 && i <= PTC_SQL_MAX_PARAMS) st->c->ops->bind_int64(st, i, v);
}

int ptc_sql_step(ptc_sql_stmt *st) { return st->c->ops->step(st); }

const char *ptc_sql_text(ptc_sql_stmt *st, int i, int *len)
{
    int n = 0;
    const char *s = st->c->ops->text(st, i, &n);
    if (len) *len = s ? n : 0;
    return s ? s : "";
}

int64_t ptc_sql_int64(ptc_sql_stmt *st, int i) { return st->c->ops->int64(st, i); }

int ptc_sql_is_null(ptc_sql_stmt *st, int i) { return st->c->ops->is_null(st, i); }
void ptc_sql_reset(ptc_sql_stmt *st) { st->c->ops->reset(st); }

int ptc_sql_finalize(ptc_sql_stmt *st)
{
    if (!st) return 0;
    int rc = st->c->ops->finalize(st);
    free(st);
    return rc;
}

int64_t ptc_sql_query_int(ptc_sql *c, const char *sql, int64_t dflt)
{
    ptc_sql_stmt *st = ptc_sql_prepare(c, sql, 0);
    int64_t v = dflt;
    if (st && ptc_sql_step(st) == PTC_SQL_ROW && !ptc_sql_is_null(st, 0)) v = ptc_sql_int64(st, 0);
    ptc_sql_finalize(st);
    return v;
}

int ptc_sql_run_lock(ptc_sql *c, int nonblock, int quiet, char *who, size_t wholen)
{
    if (wholen) who[0] = '\0';
    return c->ops->run_lock(c, nonblock, quiet, who, wholen);
}
