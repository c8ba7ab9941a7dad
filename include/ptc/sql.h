/* ptc_sql: one small interface over the two databases ptc keeps its tables
 * in: SQLite (a file, the default, AstLinux's) and PostgreSQL (libpq, for
 * several PBXs and provisioning servers sharing one inventory).
 *
 * The owners of the tables (src/run/db.c: phoneprov; src/serve/serve_audit.c:
 * the fetch audit) write their SQL once, with $1..$N parameters, against this
 * interface.  What differs between the two lives behind it: how a writing
 * transaction starts (BEGIN IMMEDIATE / BEGIN), the catalogs (has_table),
 * batching (a PostgreSQL batch statement is pipelined, one round trip per
 * few hundred rows instead of one per row) and the run lock (an advisory
 * lock on PostgreSQL).  The DDL that must differ (SQLite keeps the original
 * tool's CREATE text byte for byte) stays with each owner, next to the other.
 *
 * A location is a file path (SQLite), or a PostgreSQL connection string:
 * a URI (postgresql://USER@HOST/DB?sslmode=...) or key=value pairs
 * ("host=... dbname=...").  A password in it is refused: it would show in
 * `ps` and in messages; libpq reads it from ~/.pgpass or PGPASSFILE.
 *
 * Ownership: a connection is closed with ptc_sql_close, a statement with
 * ptc_sql_finalize (both accept NULL); a statement must be finalized before
 * its connection is closed.  Bound strings are borrowed until the next
 * step; column text is valid until the next step, reset or finalize.
 * One connection is used by one thread at a time.
 */
#ifndef PTC_SQL_H
#define PTC_SQL_H

#include <stddef.h>
#include <stdint.h>

typedef struct ptc_sql ptc_sql;
typedef struct ptc_sql_stmt ptc_sql_stmt;

enum { PTC_SQL_SQLITE, PTC_SQL_PG };

/* ptc_sql_open flags */
#define PTC_SQL_READONLY 1      /* SQLite: open read-only (PostgreSQL: no effect) */
#define PTC_SQL_CREATE   2      /* SQLite: create the file if missing */

/* ptc_sql_prepare flags */
#define PTC_SQL_BATCH    1      /* many executions, no rows back: PostgreSQL
                                 * pipelines them; errors surface at the next
                                 * other call on the connection (or finalize) */

/* ptc_sql_step results (else -1: the error is in ptc_sql_errmsg) */
enum { PTC_SQL_DONE = 0, PTC_SQL_ROW = 1 };

/* 1 when loc names a PostgreSQL database rather than a file. */
int ptc_sql_is_pg(const char *loc);
/* 0 when loc may be used; -1 with the reason in why (a PostgreSQL string
 * that does not parse, or carries a password). */
int ptc_sql_check(const char *loc, char *why, size_t whylen);

/* Connects; app names the program to the server (pg_stat_activity), may be
 * NULL; timeout_ms: how long SQLite waits for another writer's lock (and
 * PostgreSQL for the connection).  NULL with the reason in why. */
ptc_sql *ptc_sql_open(const char *loc, int flags, int timeout_ms, const char *app, char *why, size_t whylen);
void     ptc_sql_close(ptc_sql *c);
int      ptc_sql_kind(const ptc_sql *c);
/* The location as given (never holds a password: ptc_sql_check). */
const char *ptc_sql_where(const ptc_sql *c);
/* The last error's text (a batch's first failure included). */
const char *ptc_sql_errmsg(ptc_sql *c);

/* Runs one or more statements without parameters or rows.  0 or -1. */
int ptc_sql_exec(ptc_sql *c, const char *sql);
/* A transaction that writes: BEGIN IMMEDIATE on SQLite (the write lock now,
 * not at the first write), BEGIN on PostgreSQL.  0 or -1. */
int ptc_sql_begin(ptc_sql *c);
int ptc_sql_commit(ptc_sql *c);
/* Rolls back when a transaction is open; errors are ignored. */
void ptc_sql_rollback(ptc_sql *c);
/* 1 when a table (or view) of that name exists; -1 on error. */
int ptc_sql_has_table(ptc_sql *c, const char *name);

ptc_sql_stmt *ptc_sql_prepare(ptc_sql *c, const char *sql, int flags);
/* Parameters from 1; s NULL binds NULL, n < 0: up to the NUL. */
void ptc_sql_bind_text(ptc_sql_stmt *st, int i, const char *s, int n);
void ptc_sql_bind_int64(ptc_sql_stmt *st, int i, int64_t v);
/* Executes (the first call after a bind or reset) or moves to the next row. */
int  ptc_sql_step(ptc_sql_stmt *st);
/* Column i (from 0) of the current row: "" (length 0) for NULL. */
const char *ptc_sql_text(ptc_sql_stmt *st, int i, int *len);
int64_t     ptc_sql_int64(ptc_sql_stmt *st, int i);
int         ptc_sql_is_null(ptc_sql_stmt *st, int i);
/* Ready to be executed again; bindings are kept. */
void ptc_sql_reset(ptc_sql_stmt *st);
/* 0, or -1 when a batch's execution failed (ptc_sql_errmsg says why). */
int  ptc_sql_finalize(ptc_sql_stmt *st);

/* The first column of the first row of sql (no parameters) as an integer;
 * dflt when there is no row, it is NULL, or the query fails. */
int64_t ptc_sql_query_int(ptc_sql *c, const char *sql, int64_t dflt);

/* ---- the run lock across hosts --------------------------------------------- */

/* On PostgreSQL, takes the session advisory lock that serialises `ptc run`
 * on every host writing this database's phone table: returns 1 with it held
 * (until ptc_sql_close), 0 when nonblock and another session holds it (who,
 * as the server knows them, in who), -1 on error.  Waiting, it says once on
 * stderr whom it waits for unless quiet.  On SQLite: 1 (the file's own
 * lock and ptc_commit_lock serialise). */
int ptc_sql_run_lock(ptc_sql *c, int nonblock, int quiet, char *who, size_t wholen);

#endif
