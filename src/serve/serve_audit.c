/* The fetch audit: the last fetch per phone and file, in SQLite or, shared
 * by several `ptc serve`, in PostgreSQL (ptc_sql: the SQL below is the one
 * text for both; a fetch replaces the recorded one only when it is newer,
 * so servers flushing in any order keep the latest).
 *
 * Request threads only queue (a hash map keyed by MAC and the path of the
 * file served, so a phone polling every minute costs one row); the server's
 * background thread writes the queue in one transaction a second.  A commit
 * per request would cap the server at the disk's fsync rate.  WAL lets
 * `ptc status` read while we write.
 *
 * Everything a client controls is bounded: the key is the file actually
 * served (the caller spells it one way), the User-Agent is cut to
 * AUDIT_UA_MAX bytes, and while SQLite is busy at most AUDIT_QUEUE_MAX
 * entries wait in memory; more are dropped and counted.  The server's
 * counters (misses, throttled clients, dropped lines) go to
 * phoneprov_serve_stats in the same transaction, as sums, never a row per
 * request. */
#include "ptc/serve.h"
#include "ptc/buf.h"
#include "ptc/sql.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS        16384
#define AUDIT_UA_MAX    256
#define AUDIT_QUEUE_MAX 65536
#define BUSY_MS         250     /* the background thread must not stall */

const char ptc_serve_audit_schema[] =
    "CREATE TABLE IF NOT EXISTS phoneprov_fetch (\n"
    "  mac_addr      TEXT NOT NULL,     -- 12 lower-case hex digits\n"
    "  path          TEXT NOT NULL,     -- below /phoneprov/, no query\n"
    "  fetched_at    BIGINT NOT NULL,   -- unix seconds\n"
    "  client_addr   TEXT NOT NULL,\n"
    "  method        TEXT NOT NULL,\n"
    "  status        INTEGER NOT NULL,  -- 200, or 304 (not modified)\n"
    "  bytes         BIGINT NOT NULL,\n"
    "  user_agent    TEXT,\n"
    "  firmware      TEXT,              -- from the User-Agent\n"
    "  file_mtime_ns BIGINT NOT NULL,   -- the served file's mtime then\n"
    "  PRIMARY KEY (mac_addr, path)\n"
    ");\n"
    "CREATE TABLE IF NOT EXISTS phoneprov_serve_stats (\n"
    "  name          TEXT PRIMARY KEY,  -- misses, throttled, denied, ...\n"
    "  value         BIGINT NOT NULL,   -- a sum over every ptc serve run\n"
    "  updated_at    BIGINT NOT NULL    -- unix seconds\n"
    ");\n";

typedef struct q_ent {
    struct q_ent *next;
    uint64_t h;
    ptc_serve_fetch f;          /* strings point into strs */
    char *strs;
} q_ent;

struct ptc_serve_audit {
    ptc_sql *db;
    char *where;                /* to connect again after a PostgreSQL failure */
    pthread_mutex_t mu;         /* the queue */
    pthread_mutex_t flush_mu;   /* one writer at a time */
    q_ent *bucket[NBUCKETS];
    size_t queued;
    size_t writing;             /* entries taken by the flush under way */
    uint64_t dropped;           /* fetches not queued: the queue was full */
    uint64_t counts[PTC_SERVE_STAT_N];  /* deltas not yet written */
};

const char *const ptc_serve_stat_names[PTC_SERVE_STAT_N] = {
    "denied", "head_timeouts", "misses", "throttled", "log_dropped", "audit_dropped",
};

static uint64_t key_hash(const char *mac, const char *path)
{
    return ptc_hash64(mac, 12) ^ (ptc_hash64(path, strlen(path)) * 1099511628211u);
}

static q_ent *ent_new(const ptc_serve_fetch *f, uint64_t h)
{
    const char *ua = f->user_agent ? f->user_agent : "";
    size_t lp = strlen(f->path) + 1, la = strlen(f->addr) + 1, lm = strlen(f->method) + 1;
    size_t lu = strnlen(ua, AUDIT_UA_MAX);
    /* Cut at a character boundary, not inside a UTF-8 sequence. */
    while (lu && lu < strlen(ua) && ((unsigned char)ua[lu] & 0xc0) == 0x80) lu--;
    lu++;
    q_ent *e = ptc_xcalloc(1, sizeof *e);
    e->h = h;
    e->f = *f;
    e->strs = ptc_xmalloc(lp + la + lm + lu);
    char *p = e->strs;
    memcpy(p, f->path, lp); e->f.path = p; p += lp;
    memcpy(p, f->addr, la); e->f.addr = p; p += la;
    memcpy(p, f->method, lm); e->f.method = p; p += lm;
    memcpy(p, ua, lu - 1); p[lu - 1] = '\0'; e->f.user_agent = p;
    return e;
}

static void ent_free(q_ent *e)
{
    if (!e) return;
    free(e->strs);
    free(e);
}

/* With mu held: e replaces the entry for its key unless keep_newer and the
 * queued one is newer; a new key past AUDIT_QUEUE_MAX is dropped and
 * counted.  Takes e either way. */
static void insert_locked(ptc_serve_audit *a, q_ent *e, int keep_newer)
{
    q_ent **pp = &a->bucket[e->h % NBUCKETS];
    for (; *pp; pp = &(*pp)->next) {
        q_ent *o = *pp;
        if (o->h == e->h && memcmp(o->f.mac, e->f.mac, 12) == 0 && strcmp(o->f.path, e->f.path) == 0) {
            if (keep_newer) { ent_free(e); return; }
            e->next = o->next;
            *pp = e;
            ent_free(o);
            return;
        }
    }
    if (a->queued >= AUDIT_QUEUE_MAX) {
        a->dropped++;
        ent_free(e);
        return;
    }
    e->next = NULL;
    *pp = e;
    a->queued++;
}

/* Addresses and User-Agents: not for every local user.  SQLite gives its
 * -wal and -shm files the database file's mode. */
static void make_private(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0) return;
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 0027)) fchmod(fd, st.st_mode & 0750);
    close(fd);
}

/* The tables, if missing.  Two servers starting at once would race on
 * PostgreSQL's CREATE TABLE IF NOT EXISTS (a unique violation in its
 * catalog): there the creation takes a transaction-scoped advisory lock. */
static int make_tables(ptc_sql *db, int pg)
{
    if (!pg) return ptc_sql_exec(db, ptc_serve_audit_schema);
    ptc_buf sql = PTC_BUF_INIT;
    ptc_buf_printf(&sql, "BEGIN; SELECT pg_advisory_xact_lock(7370, 2); %sCOMMIT", ptc_serve_audit_schema);
    int rc = ptc_sql_exec(db, ptc_buf_cstr(&sql));
    if (rc != 0) ptc_sql_exec(db, "ROLLBACK");
    ptc_buf_free(&sql);
    return rc;
}

/* Connects and makes the tables.  0, or -1 with why. */
static int connect_audit(ptc_serve_audit *a, char *why, size_t whylen)
{
    int pg = ptc_sql_is_pg(a->where);
    if (!pg) make_private(a->where);
    char err[600];
    if (!(a->db = ptc_sql_open(a->where, PTC_SQL_CREATE, BUSY_MS, "ptc serve (audit)", err, sizeof err))) {
        snprintf(why, whylen, "cannot open audit database %s", err);
        return -1;
    }
    /* WAL: `ptc status` reads while we write.  NORMAL: an audit row lost to
     * a power cut is acceptable, an fsync per flush is not needed. */
    if ((!pg && ptc_sql_exec(a->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;") != 0) ||
        make_tables(a->db, pg) != 0) {
        snprintf(why, whylen, "audit database %s: %s", a->where, ptc_sql_errmsg(a->db));
        ptc_sql_close(a->db);
        a->db = NULL;
        return -1;
    }
    return 0;
}

ptc_serve_audit *ptc_serve_audit_open(const char *path, char *why, size_t whylen)
{
    ptc_serve_audit *a = ptc_xcalloc(1, sizeof *a);
    a->where = ptc_xstrdup(path);
    if (connect_audit(a, why, whylen) != 0) {
        free(a->where);
        free(a);
        return NULL;
    }
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->flush_mu, NULL);
    return a;
}

void ptc_serve_audit_record(ptc_serve_audit *a, const ptc_serve_fetch *f)
{
    q_ent *e = ent_new(f, key_hash(f->mac, f->path));
    pthread_mutex_lock(&a->mu);
    insert_locked(a, e, 0);
    pthread_mutex_unlock(&a->mu);
}

/* Adds the counters' deltas to phoneprov_serve_stats (inside the caller's
 * transaction). */
static int write_counts(ptc_serve_audit *a, const uint64_t *counts)
{
    static const char sql[] =
        "INSERT INTO phoneprov_serve_stats (name, value, updated_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (name) DO UPDATE SET value = phoneprov_serve_stats.value + excluded.value, "
        "updated_at = excluded.updated_at";
    ptc_sql_stmt *st = NULL;
    int rc = 0;
    for (int i = 0; i < PTC_SERVE_STAT_N && rc == 0; i++) {
        if (!counts[i]) continue;
        if (!st && !(st = ptc_sql_prepare(a->db, sql, PTC_SQL_BATCH))) return -1;
        ptc_sql_reset(st);
        ptc_sql_bind_text(st, 1, ptc_serve_stat_names[i], -1);
        ptc_sql_bind_int64(st, 2, (int64_t)counts[i]);
        ptc_sql_bind_int64(st, 3, (int64_t)time(NULL));
        rc = ptc_sql_step(st) == PTC_SQL_DONE ? 0 : -1;
    }
    return ptc_sql_finalize(st) != 0 ? -1 : rc;
}

/* A fetch replaces the one recorded for its phone and file unless that is
 * newer (another server's, flushed first). */
static const char upsert_fetch[] =
    "INSERT INTO phoneprov_fetch (mac_addr, path, fetched_at, client_addr, method, status, bytes, "
    "user_agent, firmware, file_mtime_ns) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
    "ON CONFLICT (mac_addr, path) DO UPDATE SET fetched_at = excluded.fetched_at, "
    "client_addr = excluded.client_addr, method = excluded.method, status = excluded.status, "
    "bytes = excluded.bytes, user_agent = excluded.user_agent, firmware = excluded.firmware, "
    "file_mtime_ns = excluded.file_mtime_ns WHERE excluded.fetched_at >= phoneprov_fetch.fetched_at";

static int write_fetches(ptc_serve_audit *a, q_ent *list)
{
    ptc_sql_stmt *st = ptc_sql_prepare(a->db, upsert_fetch, PTC_SQL_BATCH);
    if (!st) return -1;
    int rc = 0;
    for (q_ent *e = list; e && rc == 0; e = e->next) {
        char fw[64];
        ptc_serve_ua_firmware(e->f.user_agent, fw, sizeof fw);
        ptc_sql_reset(st);
        ptc_sql_bind_text(st, 1, e->f.mac, 12);
        ptc_sql_bind_text(st, 2, e->f.path, -1);
        ptc_sql_bind_int64(st, 3, e->f.time);
        ptc_sql_bind_text(st, 4, e->f.addr, -1);
        ptc_sql_bind_text(st, 5, e->f.method, -1);
        ptc_sql_bind_int64(st, 6, e->f.status);
        ptc_sql_bind_int64(st, 7, (int64_t)e->f.bytes);
        ptc_sql_bind_text(st, 8, e->f.user_agent[0] ? e->f.user_agent : NULL, -1);
        ptc_sql_bind_text(st, 9, fw[0] ? fw : NULL, -1);
        ptc_sql_bind_int64(st, 10, e->f.file_mtime_ns);
        /* fw is read by the step (SQLite binds it static; PostgreSQL copies
         * it into the request) before the next entry overwrites it. */
        rc = ptc_sql_step(st) == PTC_SQL_DONE ? 0 : -1;
    }
    return ptc_sql_finalize(st) != 0 ? -1 : rc;
}

static int write_all(ptc_serve_audit *a, q_ent *list, const uint64_t *counts, char *why, size_t whylen)
{
    if (!a->db && connect_audit(a, why, whylen) != 0) return -1;
    int rc = -1;
    if (ptc_sql_begin(a->db) == 0 && write_fetches(a, list) == 0 && write_counts(a, counts) == 0 &&
        ptc_sql_commit(a->db) == 0)
        rc = 0;
    if (rc != 0) {
        snprintf(why, whylen, "audit write failed: %s", ptc_sql_errmsg(a->db));
        ptc_sql_rollback(a->db);
        /* A PostgreSQL server restarted or unreachable: connect again at
         * the next flush (SQLite's failures are a busy lock: keep it). */
        if (ptc_sql_kind(a->db) == PTC_SQL_PG) {
            ptc_sql_close(a->db);
            a->db = NULL;
        }
    }
    return rc;
}

int ptc_serve_audit_flush(ptc_serve_audit *a, char *why, size_t whylen)
{
    q_ent *list = NULL;
    int rc = 0;
    if (whylen) why[0] = '\0';
    pthread_mutex_lock(&a->flush_mu);
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < NBUCKETS; i++) {
        while (a->bucket[i]) {
            q_ent *e = a->bucket[i];
            a->bucket[i] = e->next;
            e->next = list;
            list = e;
        }
    }
    a->writing = a->queued;
    a->queued = 0;
    uint64_t counts[PTC_SERVE_STAT_N], any = 0;
    a->counts[PTC_SERVE_STAT_AUDIT_DROPPED] += a->dropped;
    a->dropped = 0;
    for (int i = 0; i < PTC_SERVE_STAT_N; i++) {
        counts[i] = a->counts[i];
        any |= counts[i];
        a->counts[i] = 0;
    }
    pthread_mutex_unlock(&a->mu);
    if (list || any) rc = write_all(a, list, counts, why, whylen);
    if (rc != 0) {
        /* Keep what failed for the next flush, unless a newer fetch of the
         * same file came in meanwhile. */
        pthread_mutex_lock(&a->mu);
        a->writing = 0;
        for (int i = 0; i < PTC_SERVE_STAT_N; i++) a->counts[i] += counts[i];
        while (list) {
            q_ent *e = list;
            list = e->next;
            insert_locked(a, e, 1);
        }
        pthread_mutex_unlock(&a->mu);
    }
    while (list) {
        q_ent *e = list;
        list = e->next;
        ent_free(e);
    }
    pthread_mutex_lock(&a->mu);
    a->writing = 0;
    pthread_mutex_unlock(&a->mu);
    pthread_mutex_unlock(&a->flush_mu);
    return rc;
}

size_t ptc_serve_audit_queued(ptc_serve_audit *a)
{
    if (!a) return 0;
    pthread_mutex_lock(&a->mu);
    size_t n = a->queued + a->writing;
    pthread_mutex_unlock(&a->mu);
    return n;
}

void ptc_serve_audit_count(ptc_serve_audit *a, int stat, uint64_t delta)
{
    if (!a || stat < 0 || stat >= PTC_SERVE_STAT_N || !delta) return;
    pthread_mutex_lock(&a->mu);
    a->counts[stat] += delta;
    pthread_mutex_unlock(&a->mu);
}

void ptc_serve_audit_close(ptc_serve_audit *a)
{
    if (!a) return;
    char why[256];
    if (ptc_serve_audit_flush(a, why, sizeof why) != 0)
        fprintf(stderr, "ptc serve: error: %s\n", why);
    for (size_t i = 0; i < NBUCKETS; i++) {
        while (a->bucket[i]) {
            q_ent *e = a->bucket[i];
            a->bucket[i] = e->next;
            ent_free(e);
        }
    }
    ptc_sql_close(a->db);
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->flush_mu);
    free(a->where);
    free(a);
}

/* ---- reading -------------------------------------------------------------- */

struct ptc_audit_reader {
    ptc_sql *db;
    ptc_sql_stmt *phone, *stat;
};

ptc_audit_reader *ptc_audit_reader_open(const char *path, char *why, size_t whylen)
{
    struct stat sb;
    int pg = ptc_sql_is_pg(path);
    if (!pg && stat(path, &sb) != 0) { snprintf(why, whylen, "%s: %s", path, strerror(errno)); return NULL; }
    char err[600];
    ptc_sql *db = ptc_sql_open(path, PTC_SQL_READONLY, 2000, "ptc (audit reader)", err, sizeof err);
    if (!db) {
        snprintf(why, whylen, "audit database %s", err);
        errno = EINVAL;
        return NULL;
    }
    if (pg && ptc_sql_has_table(db, "phoneprov_fetch") == 0) {
        /* No server has written to it yet: as a missing file. */
        snprintf(why, whylen, "%s: no phoneprov_fetch table", path);
        ptc_sql_close(db);
        errno = ENOENT;
        return NULL;
    }
    ptc_audit_reader *r = ptc_xcalloc(1, sizeof *r);
    r->db = db;
    if (!(r->phone = ptc_sql_prepare(db, "SELECT path, fetched_at, client_addr, firmware, file_mtime_ns, user_agent "
                                     "FROM phoneprov_fetch WHERE mac_addr = $1 ORDER BY fetched_at DESC, path", 0))) {
        snprintf(why, whylen, "audit database %s: %s", path, ptc_sql_errmsg(db));
        ptc_audit_reader_close(r);
        errno = EINVAL;
        return NULL;
    }
    /* Written by servers since the counters came: may be missing. */
    r->stat = ptc_sql_prepare(db, "SELECT value FROM phoneprov_serve_stats WHERE name = $1", 0);
    return r;
}

static void copy_col(ptc_sql_stmt *st, int i, char *out, size_t n)
{
    const char *v = ptc_sql_text(st, i, NULL);
    snprintf(out, n, "%s", *v ? v : "-");
}

void ptc_audit_reader_phone(ptc_audit_reader *r, const char *base, const char *mac, ptc_fetch_state *st)
{
    ptc_buf_reset(&st->stale);
    st->fetched = 0;
    st->when = 0;
    snprintf(st->addr, sizeof st->addr, "-");
    snprintf(st->firmware, sizeof st->firmware, "-");
    snprintf(st->user_agent, sizeof st->user_agent, "-");
    if (!r) return;
    ptc_sql_reset(r->phone);
    ptc_sql_bind_text(r->phone, 1, mac, 12);
    while (ptc_sql_step(r->phone) == PTC_SQL_ROW) {
        const char *path = ptc_sql_text(r->phone, 0, NULL);
        if (!st->fetched) {
            st->when = ptc_sql_int64(r->phone, 1);
            copy_col(r->phone, 2, st->addr, sizeof st->addr);
            copy_col(r->phone, 3, st->firmware, sizeof st->firmware);
            copy_col(r->phone, 5, st->user_agent, sizeof st->user_agent);
            st->fetched = 1;
        }
        int64_t then = ptc_sql_int64(r->phone, 4);
        ptc_buf full = PTC_BUF_INIT;
        ptc_buf_printf(&full, "%s/%s", base, path);
        struct stat sb;
        const char *what = NULL;
        if (stat(ptc_buf_cstr(&full), &sb) != 0) what = " (gone)";
        else if ((int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec > then) what = "";
        if (what) ptc_buf_printf(&st->stale, "%s%s%s", st->stale.len ? ", " : "", *path ? path : "?", what);
        ptc_buf_free(&full);
    }
}

long long ptc_audit_reader_stat(ptc_audit_reader *r, const char *name)
{
    if (!r || !r->stat) return 0;
    ptc_sql_reset(r->stat);
    ptc_sql_bind_text(r->stat, 1, name, -1);
    return ptc_sql_step(r->stat) == PTC_SQL_ROW ? (long long)ptc_sql_int64(r->stat, 0) : 0;
}

void ptc_audit_reader_hours(ptc_audit_reader *r, int64_t now, unsigned out[24])
{
    memset(out, 0, 24 * sizeof *out);
    ptc_sql_stmt *st = r ? ptc_sql_prepare(r->db, "SELECT ($1 - fetched_at) / 3600, count(*) FROM phoneprov_fetch "
                                           "WHERE fetched_at > $1 - 86400 AND fetched_at <= $1 GROUP BY 1", 0)
                         : NULL;
    if (!st) return;
    ptc_sql_bind_int64(st, 1, now);
    while (ptc_sql_step(st) == PTC_SQL_ROW) {
        int64_t ago = ptc_sql_int64(st, 0);
        if (ago >= 0 && ago < 24) out[23 - ago] = (unsigned)ptc_sql_int64(st, 1);
    }
    ptc_sql_finalize(st);
}

void ptc_audit_reader_close(ptc_audit_reader *r)
{
    if (!r) return;
    ptc_sql_finalize(r->phone);
    ptc_sql_finalize(r->stat);
    ptc_sql_close(r->db);
    free(r);
}
