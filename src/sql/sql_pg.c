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
 * IF EXISTS) are not printed.
 *
 * libpq is loaded (dlopen) the first time a PostgreSQL location is used,
 * not linked: it brings a dozen libraries (TLS, Kerberos, LDAP) whose
 * loading doubled the start-up time of every ptc command, SQLite ones
 * included (4.9 -> 9.5 ms a command). */
#include "sql_int.h"
#include "ptc/buf.h"

#include <dlfcn.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_SYNC 256
/* The run lock's advisory key (pg_locks: classid, objid). */
#define LOCK_CLASS 7370
#define LOCK_OBJ   1

/* ---- libpq, loaded on first use -------------------------------------------- */

#define PQ_FUNCS(X) \
    X(PQclear) X(PQconnectdbParams) X(PQconninfoFree) X(PQconninfoParse) X(PQdescribePrepared) \
    X(PQenterPipelineMode) X(PQerrorMessage) X(PQexec) X(PQexecParams) X(PQexitPipelineMode) \
    X(PQfinish) X(PQfreemem) X(PQgetResult) X(PQgetisnull) X(PQgetlength) X(PQgetvalue) \
    X(PQnfields) X(PQnparams) X(PQntuples) X(PQpipelineSync) X(PQprepare) X(PQresultErrorMessage) \
    X(PQresultStatus) X(PQsendQueryPrepared) X(PQsetNoticeProcessor) X(PQsetSingleRowMode) \
    X(PQstatus) X(PQcmdStatus)

static struct {
#define X(f) __typeof__(f) *f;
    PQ_FUNCS(X)
#undef X
} pq;
static pthread_once_t pq_once = PTHREAD_ONCE_INIT;
static char pq_error[256];

static void pq_load_once(void)
{
    void *h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(pq_error, sizeof pq_error, "PostgreSQL needs libpq (Debian: apt-get install libpq5): %s", dlerror());
        return;
    }
#define X(f) if (!(*(void **)&pq.f = dlsym(h, #f))) \
        snprintf(pq_error, sizeof pq_error, "libpq.so.5 lacks %s (libpq 14 or later is needed)", #f);
    PQ_FUNCS(X)
#undef X
}

/* 0 with libpq ready, or -1 with why. */
static int pq_load(char *why, size_t whylen)
{
    pthread_once(&pq_once, pq_load_once);
    if (!pq_error[0]) return 0;
    snprintf(why, whylen, "%s", pq_error);
    return -1;
}

int ptc_sql_pg_check(const char *loc, char *why, size_t whylen)
{
    if (pq_load(why, whylen) != 0) return -1;
    char *err = NULL;
    PQconninfoOption *opts = pq.PQconninfoParse(loc, &err);
    if (!opts) {
        /* libpq's message may quote the string: say ours without it. */
        snprintf(why, whylen, "not a valid PostgreSQL connection string%s%s", err ? ": " : "",
                 err ? strtok(err, "\n") : "");
        pq.PQfreemem(err);
        return -1;
    }
    int rc = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (strcmp(o->keyword, "password") == 0 && o->val && o->val[0]) {
            snprintf(why, whylen, "a password in the PostgreSQL connection string would show in `ps`, "
                     "in shell history and in messages: put it in ~/.pgpass (or the file PGPASSFILE names)");
            rc = -1;
        }
    }
    pq.PQconninfoFree(opts);
    return rc;
}

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
    if (pq_load(why, whylen) != 0) return -1;
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", timeout_ms < 1000 ? 1 : timeout_ms / 1000);
    const char *keys[] = {"dbname", "fallback_application_name", "connect_timeout", NULL};
    const char *vals[] = {loc, app ? app : "ptc", timeout, NULL};
    pg_conn *p = ptc_xcalloc(1, sizeof *p);
    p->h = pq.PQconnectdbParams(keys, vals, 1);
    c->h = p;
    if (!p->h || pq.PQstatus(p->h) != CONNECTION_OK) {
        ptc_sql_set_err(c, "%s", p->h ? pq.PQerrorMessage(p->h) : "out of memory");
        snprintf(why, whylen, "%s: cannot connect: %s", loc, c->err);
        return -1;
    }
    pq.PQsetNoticeProcessor(p->h, quiet_notice, NULL);
    return 0;
}

static void pg_close(ptc_sql *c)
{
    pg_conn *p = c->h;
    pq.PQfinish(p->h);
    free(p);
    c->h = NULL;
}

/* Reads what a sync answers: records the first error. */
static void batch_sync(ptc_sql *c, pg_stmt *s)
{
    pg_conn *p = c->h;
    if (pq.PQpipelineSync(p->h) != 1) {
        if (!p->batch_failed) ptc_sql_set_err(c, "%s", pq.PQerrorMessage(p->h));
        p->batch_failed = 1;
        return;
    }
    for (;;) {
        PGresult *r = pq.PQgetResult(p->h);
        if (!r) continue;               /* between one query's results and the next */
        ExecStatusType t = pq.PQresultStatus(r);
        if (t == PGRES_FATAL_ERROR && !p->batch_failed) {
            ptc_sql_set_err(c, "%s", pq.PQresultErrorMessage(r));
            p->batch_failed = 1;
        }
        pq.PQclear(r);
        if (t == PGRES_PIPELINE_SYNC) break;
        if (pq.PQstatus(p->h) != CONNECTION_OK) {
            if (!p->batch_failed) ptc_sql_set_err(c, "%s", pq.PQerrorMessage(p->h));
            p->batch_failed = 1;
            break;
        }
    }
    s->queued = 0;
}

static void drain(PGconn *h)
{
    PGresult *r;
    while ((r = pq.PQgetResult(h))) pq.PQclear(r);
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
        pq.PQexitPipelineMode(p->h);
        c->batch = NULL;
    }
    if (p->busy) {
        pg_stmt *s = p->busy->h;
        pq.PQclear(s->row);
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
    ExecStatusType t = pq.PQresultStatus(r);
    int ok = t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK;
    if (!ok) ptc_sql_set_err(c, "%s", r ? pq.PQresultErrorMessage(r) : pq.PQerrorMessage(conn_of(c)));
    pq.PQclear(r);
    return ok ? 0 : -1;
}

static int pg_exec(ptc_sql *c, const char *sql)
{
    if (pg_idle(c) != 0) return -1;
    PGresult *r = pq.PQexec(conn_of(c), sql);
    /* COMMIT of a transaction an earlier error aborted "succeeds" as a
     * ROLLBACK: that is a failure here. */
    if (strcmp(sql, "COMMIT") == 0 && pq.PQresultStatus(r) == PGRES_COMMAND_OK &&
        strcmp(pq.PQcmdStatus(r), "ROLLBACK") == 0) {
        ptc_sql_set_err(c, "the transaction was rolled back by an earlier error");
        pq.PQclear(r);
        return -1;
    }
    return result_ok(c, r);
}

static int pg_has_table(ptc_sql *c, const char *name)
{
    if (pg_idle(c) != 0) return -1;
    const char *vals[1] = {name};
    PGresult *r = pq.PQexecParams(conn_of(c), "SELECT to_regclass($1::text) IS NOT NULL", 1, NULL, vals,
                               NULL, NULL, 0);
    if (pq.PQresultStatus(r) != PGRES_TUPLES_OK || pq.PQntuples(r) != 1) {
        result_ok(c, r);
        return -1;
    }
    int found = pq.PQgetvalue(r, 0, 0)[0] == 't';
    pq.PQclear(r);
    return found;
}

static int pg_prepare(ptc_sql_stmt *st, const char *sql)
{
    ptc_sql *c = st->c;
    if (pg_idle(c) != 0) return -1;
    pg_stmt *s = ptc_xcalloc(1, sizeof *s);
    snprintf(s->name, sizeof s->name, "ptc_%u", ++c->next_stmt);
    PGconn *h = conn_of(c);
    if (result_ok(c, pq.PQprepare(h, s->name, sql, 0, NULL)) != 0) goto bad;
    PGresult *d = pq.PQdescribePrepared(h, s->name);
    if (pq.PQresultStatus(d) != PGRES_COMMAND_OK) { result_ok(c, d); goto bad; }
    s->nparams = pq.PQnparams(d);
    pq.PQclear(d);
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
    if (pq.PQsendQueryPrepared(conn_of(st->c), s->name, s->nparams, s->vals, s->lens, s->fmts, 0) == 1) return 0;
    ptc_sql_set_err(st->c, "%s", pq.PQerrorMessage(conn_of(st->c)));
    return -1;
}

static int step_batch(ptc_sql_stmt *st)
{
    ptc_sql *c = st->c;
    pg_conn *p = c->h;
    pg_stmt *s = st->h;
    if (c->batch != st) {
        if (pg_idle(c) != 0) return -1;
        if (pq.PQenterPipelineMode(p->h) != 1) {
            ptc_sql_set_err(c, "%s", pq.PQerrorMessage(p->h));
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
    pq.PQclear(s->row);
    s->row = NULL;
    PGresult *r = pq.PQgetResult(p->h);
    ExecStatusType t = pq.PQresultStatus(r);
    if (t == PGRES_SINGLE_TUPLE) { s->row = r; return PTC_SQL_ROW; }
    int rc = t == PGRES_TUPLES_OK || t == PGRES_COMMAND_OK ? PTC_SQL_DONE : -1;
    if (rc < 0) ptc_sql_set_err(st->c, "%s", r ? pq.PQresultErrorMessage(r) : pq.PQerrorMessage(p->h));
    pq.PQclear(r);
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
        pq.PQsetSingleRowMode(conn_of(st->c));
        ((pg_conn *)st->c->h)->busy = st;
        s->state = 1;
    }
    return next_row(st);
}

static const char *pg_text(ptc_sql_stmt *st, int i, int *len)
{
    pg_stmt *s = st->h;
    if (!s->row || i >= pq.PQnfields(s->row) || pq.PQgetisnull(s->row, 0, i)) return NULL;
    *len = pq.PQgetlength(s->row, 0, i);
    return pq.PQgetvalue(s->row, 0, i);
}

/* PostgreSQL sends text (the statements ask for no binary results). */
static int64_t pg_col_int64(ptc_sql_stmt *st, int i)
{
    int n;
    const char *s = pg_text(st, i, &n);
    return s ? strtoll(s, NULL, 10) : 0;
}

static int pg_is_null(ptc_sql_stmt *st, int i)
{
    pg_stmt *s = st->h;
    return !s->row || i >= pq.PQnfields(s->row) || pq.PQgetisnull(s->row, 0, i);
}

static void pg_reset(ptc_sql_stmt *st)
{
    pg_conn *p = st->c->h;
    pg_stmt *s = st->h;
    if (p->busy == st) pg_idle(st->c);
    pq.PQclear(s->row);
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
    pq.PQclear(s->row);
    char sql[48];
    snprintf(sql, sizeof sql, "DEALLOCATE %s", s->name);
    /* (Not while another statement pipelines: it goes with the session.) */
    if (!c->batch && !p->busy && pq.PQstatus(p->h) == CONNECTION_OK) pq.PQclear(pq.PQexec(p->h, sql));
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
    PGresult *r = pq.PQexec(conn_of(c), sql);
    if (pq.PQresultStatus(r) == PGRES_TUPLES_OK && pq.PQntuples(r) == 1)
        snprintf(who, wholen, "%s (server pid %s, connected from %s since %s)", pq.PQgetvalue(r, 0, 0),
                 pq.PQgetvalue(r, 0, 1), pq.PQgetvalue(r, 0, 2), pq.PQgetvalue(r, 0, 3));
    else
        snprintf(who, wholen, "another session");
    pq.PQclear(r);
}

static int pg_run_lock(ptc_sql *c, int nonblock, int quiet, char *who, size_t wholen)
{
    if (pg_idle(c) != 0) return -1;
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%d, %d)", LOCK_CLASS, LOCK_OBJ);
    PGresult *r = pq.PQexec(conn_of(c), sql);
    if (pq.PQresultStatus(r) != PGRES_TUPLES_OK) { result_ok(c, r); return -1; }
    int got = pq.PQgetvalue(r, 0, 0)[0] == 't';
    pq.PQclear(r);
    if (got) return 1;
    lock_holder(c, who, wholen);
    if (nonblock) return 0;
    if (!quiet) fprintf(stderr, "ptc: waiting for %s, which is writing the phone table at %s\n", who, c->where);
    snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(%d, %d)", LOCK_CLASS, LOCK_OBJ);
    return result_ok(c, pq.PQexec(conn_of(c), sql)) == 0 ? 1 : -1;
}

const ptc_sql_ops ptc_sql_pg_ops = {
    .kind = PTC_SQL_PG, .open = pg_open, .close = pg_close, .exec = pg_exec, .begin_sql = "BEGIN",
    .has_table = pg_has_table, .prepare = pg_prepare, .bind_text = pg_bind_text, .bind_int64 = pg_bind_int64,
    .step = pg_step, .text = pg_text, .int64 = pg_col_int64, .is_null = pg_is_null, .reset = pg_reset, .finalize = pg_finalize,
    .run_lock = pg_run_lock,
};
