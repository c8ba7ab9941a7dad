/* The two backends behind ptc_sql (include/ptc/sql.h): each fills a
 * ptc_sql_ops table; sql.c dispatches and keeps what they share. */
#ifndef PTC_SQL_INT_H
#define PTC_SQL_INT_H

#include "ptc/sql.h"

#define PTC_SQL_MAX_PARAMS 16
#define PTC_SQL_ERR_MAX    512

typedef struct ptc_sql_ops {
    int kind;
    /* Fills c->h; 0, or -1 with why. */
    int  (*open)(ptc_sql *c, const char *loc, int flags, int timeout_ms, const char *app,
                 char *why, size_t whylen);
    void (*close)(ptc_sql *c);
    int  (*exec)(ptc_sql *c, const char *sql);
    const char *begin_sql;
    int  (*has_table)(ptc_sql *c, const char *name);
    int  (*prepare)(ptc_sql_stmt *st, const char *sql);
    void (*bind_text)(ptc_sql_stmt *st, int i, const char *s, int n);
    void (*bind_int64)(ptc_sql_stmt *st, int i, int64_t v);
    int  (*step)(ptc_sql_stmt *st);
    const char *(*text)(ptc_sql_stmt *st, int i, int *len);
    int64_t (*int64)(ptc_sql_stmt *st, int i);
    int  (*is_null)(ptc_sql_stmt *st, int i);
    void (*reset)(ptc_sql_stmt *st);
    int  (*finalize)(ptc_sql_stmt *st);
    int  (*run_lock)(ptc_sql *c, int nonblock, int quiet, char *who, size_t wholen);
} ptc_sql_ops;

struct ptc_sql {
    const ptc_sql_ops *ops;
    void *h;                        /* sqlite3 * or PGconn * */
    char *where;
    int in_tx;
    unsigned next_stmt;             /* PostgreSQL prepared statement names */
    void *batch;                    /* PostgreSQL: the statement pipelining now */
    char err[PTC_SQL_ERR_MAX];
};

struct ptc_sql_stmt {
    ptc_sql *c;
    int flags;
    void *h;                        /* sqlite3_stmt *, or the PostgreSQL state */
};

extern const ptc_sql_ops ptc_sql_sqlite_ops, ptc_sql_pg_ops;

/* ptc_sql_check for a PostgreSQL string (sql_pg.c: libpq's parser). */
int ptc_sql_pg_check(const char *loc, char *why, size_t whylen);

/* Sets c->err (printf-style). */
void ptc_sql_set_err(ptc_sql *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
