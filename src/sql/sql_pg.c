/* ptc_sql on PostgreSQL (libpq).
 *
 * Statements are prepared server-side once.  A statement that returns rows
 * runs in single-row mode, so a 100,000-row table is never held whole in
 * memory; a PTC_SQL_BATCH statement (the table's inserts, the audit's
 * upserts) is pipelined and synced every BATCH_SYNC executions: one round
 * trip per few hundred rows, not one per row.  The server's answers to a
 * sync fit its socket buffer, so a blocking connection cannot deadlock.
 *
 * Text parameters are sent in binary format (the bytes and a length: no
 * copy to NUL-terminate, no quoting), integers as text.  Notices (DROP ...
 * IF EXISTS) are not printed. */
#include "sql_int.h"
#include "ptc/buf.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_SYNC 256
/* The run lock's advisory key (pg_locks: classid, objid). */
#define LOCK_CLASS 7370
#define LOCK_OBJ   1

typedef struct pg_stmt {
    char name[24];
    int nparams;
    const char *vals[PTC_SQL_MAX_PARAMS];
    int lens[PTC_SQL_MAX_PARAMS], fmts[PTC_SQL_MAX_PARAMS];
    char ints[PTC_SQL_MAX_PARAMS][24];
    PGresult *row;              /* the current row (single-row mode) */
    int state;                  /* 0 ready, 1 rows coming, 2 done */
    unsigned queued;            /* batch: sent since the last sync */
} pg_stmt;

typedef struct pg_conn {
    PGconn *h;
    ptc_sql_stmt *busy;         /* a statement whose rows are still coming */
    int batch_failed;
} pg_conn;

static PGconn *conn_of(ptc_sql *c) { return ((pg_conn *)c->h)->h; }

static void quiet_notice(void *arg, const char *msg) { (void)arg; (void)msg; }

static int pg_open(ptc_sql *c, const char *loc, int flags, int timeout_ms, const char *app,
                   char *why, size_t whylen)
{
    (void)flags;
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", timeout_ms < 1000 ? 1 : timeout_ms / 1000);
    const char *keys[] = {"dbname", "fallback_application_name", "connect_timeout", NULL};
    const char *vals[] = {loc, app ? app : "ptc", timeout, NULL};
    pg_conn *p = ptc_xcalloc(1, sizeof *p);
    p->h = PQconnectdbParams(keys, vals, 1);
    c->h = p;
    if (!p->h || PQstatus(p->h) != CONNECTION_OK) {
        ptc_sql_set_err(c, "%s", p->h ? PQerrorMessage(p->h) : "out of memory");
        snprintf(why, whylen, "%s: cannot connect: %s", loc, c->err);
        return -1;
    }
    PQsetNoticeProcessor(p->h, quiet_notice, NULL);
    return 0;
}

static void pg_close(ptc_sql *c)
{
    pg_conn *p = c->h;
    PQfinish(p->h);
    free(p);
    c->h = NULL;
}

/* Reads what a sync answers: records the first error. */
static void batch_sync(ptc_sql *c, pg_stmt *s)
{
    pg_conn *p = c->h;
    if (PQpipelineSync(p->h) != 1) {
        if (!p->batch_failed) ptc_sql_set_err(c, "%s", PQerrorMessage(p->h));
        p->batch_failed = 1;
        return;
    }
    for (;;) {
        PGresult *r = PQgetResult(p->h);
        if (!r) continue;               /* between one query's results and the next */
        ExecStatusType t = PQresultStatus(r);
        if (t == PGRES_FATAL_ERROR && !p->batch_failed) {
            ptc_sql_set_err(c, "%s", PQresultErrorMessage(r));
            p->batch_failed = 1;
        }
        PQclear(r);
        if (t == PGRES_PIPELINE_SYNC) break;
        if (PQstatus(p->h) != CONNECTION_OK) {
            if (!p->batch_failed) ptc_sql_set_err(c, "%s", PQerrorMessage(p->h));
            p->batch_failed = 1;
            break;
        }
    }
    s->queued = 0;
}

static void drain(PGconn *h)
{
    PGresult *r;
    while ((r = PQgetResult(h))) PQclear(r);
}

/* Makes the connection ready for another command: ends a batch (-1 when it
 * failed) and reads the rest of a statement's rows. */
static int pg_idle(ptc_sql *c)
{
    pg_conn *p = c->h;
    if (c->batch) {
        ptc_sql_stmt *bst = c->batch;
        pg_stmt *s = bst->h;
        if (s->queued) batch_sync(c, s);
        PQexitPipelineMode(p->h);
        c->batch = NULL;
    }
    if (p->busy) {
        pg_stmt *s = p->busy->h;
        PQclear(s->row);
        s->row = NULL;
        drain(p->h);
        s->state = 2;
        p->busy = NULL;
    }
    if (p->batch_failed) {
        p->batch_failed = 0;
        return -1;
    }
    return 0;
}

static int result_ok(ptc_sql *c, PGresult *r)
{
    ExecStatusType t = PQresultStatus(r);
    int ok = t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK;
    if (!ok) ptc_sql_set_err(c, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(conn_of(c)));
    PQclear(r);
    return ok ? 0 : -1;
}

static int pg_exec(ptc_sql *c, const char *sql)
{
    if (pg_idle(c) != 0) return -1;
    return result_ok(c, PQexec(conn_of(c), sql));
}

static int pg_has_table(ptc_sql *c, const char *name)
{
    if (pg_idle(c) != 0) return -1;
    const char *vals[1] = {name};
    PGresult *r = PQexecParams(conn_of(c), "SELECT to_regclass($1::text) IS NOT NULL", 1, NULL, vals,
                               NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        result_ok(c, r);
        return -1;
    }
    int found = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return found;
}

static int pg_prepare(ptc_sql_stmt *st, const char *sql)
{
    ptc_sql *c = st->c;
    if (pg_idle(c) != 0) return -1;
    pg_stmt *s = ptc_xcalloc(1, sizeof *s);
    snprintf(s->name, sizeof s->name, "ptc_%u", ++c->next_stmt);
    PGconn *h = conn_of(c);
    if (result_ok(c, PQprepare(h, s->name, sql, 0, NULL)) != 0) goto bad;
    PGresult *d = PQdescribePrepared(h, s->name);
    if (PQresultStatus(d) != PGRES_COMMAND_OK) { result_ok(c, d); goto bad; }
    s->nparams = PQnparams(d);
    PQclear(d);
    if (s->nparams > PTC_SQL_MAX_PARAMS) { ptc_sql_set_err(c, "too many parameters"); goto bad; }
    st->h = s;
    return 0;
bad:
    free(s);
    return -1;
}

static void pg_bind_text(ptc_sql_stmt *st, int i, const char *v, int n)
{
    pg_stmt *s = st->h;
    s->vals[i - 1] = v;
    s->lens[i - 1] = v ? (n < 0 ? (int)strlen(v) : n) : 0;
    s->fmts[i - 1] = 1;
}

static void pg_bind_int64(ptc_sql_stmt *st, int i, int64_t v)
{
    pg_stmt *s = st->h;
    snprintf(s->ints[i - 1], sizeof s->ints[i - 1], "%lld", (long long)v);
    s->vals[i - 1] = s->ints[i - 1];
    s->lens[i - 1] = 0;
    s->fmts[i - 1] = 0;
}

static int send(ptc_sql_stmt *st)
{
    pg_stmt *s = st->h;
    if (PQsendQueryPrepared(conn_of(st->c), s->name, s->nparams, s->vals, s->lens, s->fmts, 0) == 1) return 0;
    ptc_sql_set_err(st->c, "%s", PQerrorMessage(conn_of(st->c)));
    return -1;
}

static int step_batch(ptc_sql_stmt *st)
{
    ptc_sql *c = st->c;
    pg_conn *p = c->h;
    pg_stmt *s = st->h;
    if (c->batch != st) {
        if (pg_idle(c) != 0) return -1;
        if (PQenterPipelineMode(p->h) != 1) {
            ptc_sql_set_err(c, "%s", PQerrorMessage(p->h));
            return -1;
        }
        c->batch = st;
    }
    if (p->batch_failed) return -1;
    if (send(st) != 0) { p->batch_failed = 1; return -1; }
    if (++s->queued >= BATCH_SYNC) batch_sync(c, s);
    return p->batch_failed ? -1 : PTC_SQL_DONE;
}

/* The next result of a statement whose rows are coming. */
static int next_row(ptc_sql_stmt *st)
{
    pg_conn *p = st->c->h;
    pg_stmt *s = st->h;
    PQclear(s->row);
    s->row = NULL;
    PGresult *r = PQgetResult(p->h);
    ExecStatusType t = PQresultStatus(r);
    if (t == PGRES_SINGLE_TUPLE) { s->row = r; return PTC_SQL_ROW; }
    int rc = t == PGRES_TUPLES_OK || t == PGRES_COMMAND_OK ? PTC_SQL_DONE : -1;
    if (rc < 0) ptc_sql_set_err(st->c, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(p->h));
    PQclear(r);
    drain(p->h);
    s->state = 2;
    p->busy = NULL;
    return rc;
}

static int pg_step(ptc_sql_stmt *st)
{
    pg_stmt *s = st->h;
    if (st->flags & PTC_SQL_BATCH) return step_batch(st);
    if (s->state == 2) return PTC_SQL_DONE;
    if (s->state == 0) {
        if (pg_idle(st->c) != 0 || send(st) != 0) return -1;
        PQsetSingleRowMode(conn_of(st->c));
        ((pg_conn *)st->c->h)->busy = st;
        s->state = 1;
    }
    return next_row(st);
}

static const char *pg_text(ptc_sql_stmt *st, int i, int *len)
{
    pg_stmt *s = st->h;
    if (!s->row || i >= PQnfields(s->row) || PQgetisnull(s->row, 0, i)) return NULL;
    *len = PQgetlength(s->row, 0, i);
    return PQgetvalue(s->row, 0, i);
}

static int pg_is_null(ptc_sql_stmt *st, int i)
{
    pg_stmt *s = st->h;
    return !s->row || i >= PQnfields(s->row) || PQgetisnull(s->row, 0, i);
}

static void pg_reset(ptc_sql_stmt *st)
{
    pg_conn *p = st->c->h;
    pg_stmt *s = st->h;
    if (p->busy == st) pg_idle(st->c);
    PQclear(s->row);
    s->row = NULL;
    s->state = 0;
}

static int pg_finalize(ptc_sql_stmt *st)
{
    ptc_sql *c = st->c;
    pg_conn *p = c->h;
    pg_stmt *s = st->h;
    int rc = 0;
    if (c->batch == st || p->busy == st) rc = pg_idle(c);
    PQclear(s->row);
    char sql[48];
    snprintf(sql, sizeof sql, "DEALLOCATE %s", s->name);
    if (PQstatus(p->h) == CONNECTION_OK) PQclear(PQexec(p->h, sql));
    free(s);
    return rc;
}

/* Who holds the run lock, as the server knows them. */
static void lock_holder(ptc_sql *c, char *who, size_t wholen)
{
    static const char sql[] =
        "SELECT coalesce(nullif(a.application_name, ''), 'a client'), a.pid, "
        "coalesce(host(a.client_addr), 'the local socket'), to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS') "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.classid = 7370 AND l.objid = 1 AND l.granted LIMIT 1";
    PGresult *r = PQexec(conn_of(c), sql);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        snprintf(who, wholen, "%s (server pid %s, connected from %s since %s)", PQgetvalue(r, 0, 0),
                 PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3));
    else
        snprintf(who, wholen, "another session");
    PQclear(r);
}

static int pg_run_lock(ptc_sql *c, int nonblock, int quiet, char *who, size_t wholen)
{
    if (pg_idle(c) != 0) return -1;
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%d, %d)", LOCK_CLASS, LOCK_OBJ);
    PGresult *r = PQexec(conn_of(c), sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) { result_ok(c, r); return -1; }
    int got = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (got) return 1;
    lock_holder(c, who, wholen);
    if (nonblock) return 0;
    if (!quiet) fprintf(stderr, "ptc: waiting for %s, which is writing the phone table at %s\n", who, c->where);
    snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(%d, %d)", LOCK_CLASS, LOCK_OBJ);
    return result_ok(c, PQexec(conn_of(c), sql)) == 0 ? 1 : -1;
}

const ptc_sql_ops ptc_sql_pg_ops = {
    .kind = PTC_SQL_PG, .open = pg_open, .close = pg_close, .exec = pg_exec, .begin_sql = "BEGIN",
    .has_table = pg_has_table, .prepare = pg_prepare, .bind_text = pg_bind_text, .bind_int64 = pg_bind_int64,
    .step = pg_step, .text = pg_text, .is_null = pg_is_null, .reset = pg_reset, .finalize = pg_finalize,
    .run_lock = pg_run_lock,
};
