/* The phoneprov table in SQLite. */
#include "ptc/db.h"
#include "ptc/buf.h"
#include "ptc/fsutil.h"
#include "ptc/mac.h"
#include "ptc/map.h"

#include "ptc/sql.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ptc_db {
    ptc_sql *c;
    ptc_sql_stmt *insert;
    long next_id;               /* ids are given, not left to the database:
                                 * the same rows on SQLite and PostgreSQL */
};

/* The columns, in the one order every statement uses. */
#define COLS "id, ext, cid_name, cid_num, account, line, mac_addr, template, model, vendor, sip_driver"

/* SQLite: the original's CREATE text, byte for byte: sqlite_master keeps it
 * (with the name rewritten by RENAME), and so does `.schema`. */
static const char create_build[] =
    "CREATE TABLE 'phoneprov_build' (\n"
    "  'id' INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,\n"
    "  'ext' TEXT DEFAULT '',\n"
    "  'cid_name' TEXT DEFAULT '',\n"
    "  'cid_num' TEXT DEFAULT '',\n"
    "  'account' TEXT DEFAULT '',\n"
    "  'line' INTEGER DEFAULT 1,\n"
    "  'mac_addr' TEXT DEFAULT '',\n"
    "  'template' TEXT DEFAULT '',\n"
    "  'model' TEXT DEFAULT '',\n"
    "  'vendor' TEXT DEFAULT '',\n"
    "  'sip_driver' TEXT DEFAULT ''\n"
    ")";

/* PostgreSQL: the same columns with PostgreSQL's types (docs/scale.md), an
 * index for Asterisk's lookups by MAC, and the version `ptc serve` polls.
 * The table itself is kept across runs (its grants, its OID: Asterisk's
 * realtime connection and any view on it stay valid); its rows are
 * replaced in one transaction. */
const char ptc_db_pg_schema[] =
    "CREATE TABLE IF NOT EXISTS phoneprov (\n"
    "  id         integer PRIMARY KEY,\n"
    "  ext        text DEFAULT '',\n"
    "  cid_name   text DEFAULT '',\n"
    "  cid_num    text DEFAULT '',\n"
    "  account    text DEFAULT '',\n"
    "  line       integer DEFAULT 1,\n"
    "  mac_addr   text DEFAULT '',\n"
    "  template   text DEFAULT '',\n"
    "  model      text DEFAULT '',\n"
    "  vendor     text DEFAULT '',\n"
    "  sip_driver text DEFAULT ''\n"
    ");\n"
    "CREATE INDEX IF NOT EXISTS phoneprov_mac_addr ON phoneprov (mac_addr);\n"
    "CREATE TABLE IF NOT EXISTS phoneprov_version (version bigint NOT NULL);\n"
    "INSERT INTO phoneprov_version SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM phoneprov_version);\n";

static int is_pg(const ptc_db *db) { return ptc_sql_kind(db->c) == PTC_SQL_PG; }
static const char *kind_word(const ptc_sql *c) { return ptc_sql_kind(c) == PTC_SQL_PG ? "postgresql" : "sqlite"; }

static int fail(ptc_db *db, ptc_diag *diag, const char *what)
{
    ptc_diag_plain(diag, PTC_ERROR, kind_word(db->c), "%s: %s: %s", ptc_sql_where(db->c), what,
                   ptc_sql_errmsg(db->c));
    return -1;
}

static int exec(ptc_db *db, const char *sql, ptc_diag *diag)
{
    if (ptc_sql_exec(db->c, sql) == 0) return 0;
    ptc_diag_plain(diag, PTC_ERROR, kind_word(db->c), "%s: %s", ptc_sql_where(db->c), ptc_sql_errmsg(db->c));
    return -1;
}

/* "ptc on HOST pid N": what pg_stat_activity (and a waiting run) shows.
 * Made once: ptc serve's threads ask for it too. */
static char app_name_buf[128];

static void make_app_name(void)
{
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    snprintf(app_name_buf, sizeof app_name_buf, "ptc on %s pid %ld", host[0] ? host : "?", (long)getpid());
}

static const char *app_name(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, make_app_name);
    return app_name_buf;
}

ptc_db *ptc_db_open(const char *path, int timeout_ms, ptc_diag *diag)
{
    char why[600];
    ptc_sql *c = ptc_sql_open(path, PTC_SQL_CREATE, timeout_ms, app_name(), why, sizeof why);
    if (!c) {
        ptc_diag_plain(diag, PTC_ERROR, ptc_sql_is_pg(path) ? "postgresql" : "sqlite", "%s", why);
        return NULL;
    }
    ptc_db *db = ptc_xcalloc(1, sizeof *db);
    db->c = c;
    /* A corrupt file fails here rather than half-way through a run. */
    if (!is_pg(db) && exec(db, "SELECT count(*) FROM sqlite_master", diag) != 0) {
        ptc_db_close(db);
        return NULL;
    }
    return db;
}

void ptc_db_close(ptc_db *db)
{
    if (!db) return;
    ptc_sql_finalize(db->insert);
    ptc_sql_close(db->c);
    free(db);
}

int ptc_db_exists(const char *path)
{
    if (!ptc_sql_is_pg(path)) return ptc_exists(path);
    char why[600];
    ptc_sql *c = ptc_sql_open(path, PTC_SQL_READONLY, 2000, app_name(), why, sizeof why);
    int has = c && ptc_sql_has_table(c, "phoneprov") == 1;
    ptc_sql_close(c);
    return has;
}

int ptc_db_has_table(ptc_db *db, const char *name)
{
    return ptc_sql_has_table(db->c, name) == 1;
}

int ptc_db_run_lock(ptc_db *db, int nonblock, char *who, size_t wholen, ptc_diag *diag)
{
    int rc = ptc_sql_run_lock(db->c, nonblock, 0, who, wholen);
    if (rc < 0) fail(db, diag, "cannot take the run lock");
    return rc;
}

static int create_build_table(ptc_db *db, ptc_diag *diag)
{
    if (exec(db, "DROP TABLE IF EXISTS phoneprov_build", diag) != 0) return -1;
    if (!is_pg(db)) return exec(db, create_build, diag);
    return exec(db, ptc_db_pg_schema, diag) != 0 ? -1
         : exec(db, "CREATE TABLE phoneprov_build (LIKE phoneprov INCLUDING DEFAULTS)", diag);
}

int ptc_db_build_begin(ptc_db *db, int keep_existing, ptc_diag *diag)
{
    if (ptc_sql_begin(db->c) != 0) return fail(db, diag, "cannot start a transaction");
    if (create_build_table(db, diag) != 0) goto bad;
    if (keep_existing && ptc_db_has_table(db, "phoneprov") &&
        exec(db, "INSERT INTO phoneprov_build (" COLS ") SELECT " COLS " FROM phoneprov ORDER BY id", diag) != 0)
        goto bad;
    db->next_id = (long)ptc_sql_query_int(db->c, "SELECT coalesce(max(id), 0) FROM phoneprov_build", 0) + 1;
    db->insert = ptc_sql_prepare(db->c, "INSERT INTO phoneprov_build (" COLS ") "
                                 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", PTC_SQL_BATCH);
    if (!db->insert) {
        fail(db, diag, "prepare");
        goto bad;
    }
    return 0;
bad:
    ptc_sql_rollback(db->c);
    return -1;
}

int ptc_db_build_add(ptc_db *db, const ptc_db_row *r, ptc_diag *diag)
{
    ptc_sql_stmt *st = db->insert;
    ptc_sql_reset(st);
    ptc_sql_bind_int64(st, 1, db->next_id++);
    ptc_sql_bind_text(st, 2, r->ext, r->ext_len);
    ptc_sql_bind_text(st, 3, r->cid_name, r->cid_name_len);
    ptc_sql_bind_text(st, 4, r->cid_num, r->cid_num_len);
    ptc_sql_bind_text(st, 5, r->account, r->account_len);
    ptc_sql_bind_int64(st, 6, r->line);
    ptc_sql_bind_text(st, 7, r->mac_addr, -1);
    ptc_sql_bind_text(st, 8, r->template_, r->template_len);
    ptc_sql_bind_text(st, 9, r->model, r->model_len);
    ptc_sql_bind_text(st, 10, r->vendor, r->vendor_len);
    ptc_sql_bind_text(st, 11, r->sip_driver, -1);
    if (ptc_sql_step(st) != PTC_SQL_DONE) return fail(db, diag, "insert");
    return 0;
}

int ptc_db_build_end(ptc_db *db, ptc_diag *diag)
{
    int rc = ptc_sql_finalize(db->insert);
    db->insert = NULL;
    if (rc != 0) {
        fail(db, diag, "insert");
        ptc_sql_rollback(db->c);
        return -1;
    }
    if (ptc_sql_commit(db->c) != 0) return fail(db, diag, "commit");
    return 0;
}

/* PostgreSQL: the build's rows replace the table's (or, with no build and
 * drop, the table is emptied: kept for its grants), and the version moves. */
static int pg_swap(ptc_db *db, int has_build, int drop_when_no_build, ptc_diag *diag)
{
    if (!has_build && !drop_when_no_build) return 0;
    if (!has_build && !ptc_db_has_table(db, "phoneprov")) return 0;
    if (has_build && (exec(db, ptc_db_pg_schema, diag) != 0 ||
                      exec(db, "DELETE FROM phoneprov; INSERT INTO phoneprov (" COLS ") SELECT " COLS
                               " FROM phoneprov_build ORDER BY id; DROP TABLE phoneprov_build", diag) != 0))
        return -1;
    if (!has_build && exec(db, "DELETE FROM phoneprov", diag) != 0) return -1;
    return exec(db, "UPDATE phoneprov_version SET version = version + 1; NOTIFY phoneprov", diag);
}

int ptc_db_swap(ptc_db *db, int drop_when_no_build, ptc_diag *diag)
{
    if (ptc_sql_begin(db->c) != 0) return fail(db, diag, "cannot start a transaction");
    int has_build = ptc_db_has_table(db, "phoneprov_build"), rc;
    if (is_pg(db))
        rc = pg_swap(db, has_build, drop_when_no_build, diag);
    else if (has_build)
        rc = exec(db, "DROP TABLE IF EXISTS 'phoneprov'; "
                      "ALTER TABLE 'phoneprov_build' RENAME TO 'phoneprov'", diag);
    else if (drop_when_no_build)
        rc = exec(db, "DROP TABLE IF EXISTS 'phoneprov'", diag);
    else
        rc = 0;
    if (rc == 0 && ptc_sql_commit(db->c) == 0) return 0;
    if (rc == 0) fail(db, diag, "commit");
    ptc_sql_rollback(db->c);
    return -1;
}

int ptc_db_drop_build(ptc_db *db, ptc_diag *diag)
{
    return exec(db, "DROP TABLE IF EXISTS phoneprov_build", diag);
}

static char *field(char *o, const char *s, int n)
{
    if (n < 0) n = s ? (int)strlen(s) : 0;
    if (n) memcpy(o, s, (size_t)n);
    o[n] = '\t';
    return o + n + 1;
}

static char *field_int(char *o, long v)
{
    char tmp[24];
    int n = 0, neg = v < 0;
    unsigned long u = neg ? 0UL - (unsigned long)v : (unsigned long)v;
    do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    if (neg) *o++ = '-';
    while (n) *o++ = tmp[--n];
    *o++ = '\t';
    return o;
}

static size_t len_of(const char *s, int n)
{
    return n >= 0 ? (size_t)n : s ? strlen(s) : 0;
}

/* A row without its id as one line, "ext<TAB>...<TAB>sip_driver<TAB>\n",
 * hashed whole (the hash is not the same fed in other pieces). */
uint64_t ptc_db_row_digest(const ptc_db_row *r)
{
    size_t need = 24 + 12 + len_of(r->ext, r->ext_len) + len_of(r->cid_name, r->cid_name_len) +
                  len_of(r->cid_num, r->cid_num_len) + len_of(r->account, r->account_len) +
                  len_of(r->mac_addr, -1) + len_of(r->template_, r->template_len) +
                  len_of(r->model, r->model_len) + len_of(r->vendor, r->vendor_len) +
                  len_of(r->sip_driver, -1);
    char stack[512];
    char *buf = need <= sizeof stack ? stack : ptc_xmalloc(need);
    char *o = field(buf, r->ext, r->ext_len);
    o = field(o, r->cid_name, r->cid_name_len);
    o = field(o, r->cid_num, r->cid_num_len);
    o = field(o, r->account, r->account_len);
    o = field_int(o, r->line);
    o = field(o, r->mac_addr, -1);
    o = field(o, r->template_, r->template_len);
    o = field(o, r->model, r->model_len);
    o = field(o, r->vendor, r->vendor_len);
    o = field(o, r->sip_driver, -1);
    *o++ = '\n';
    uint64_t d = ptc_hash64(buf, (size_t)(o - buf));
    if (buf != stack) free(buf);
    return d;
}

uint64_t ptc_db_row_hash_digest(uint64_t h, long id, uint64_t digest)
{
    uint64_t v[2] = {(uint64_t)id, digest};
    return ptc_hash64_update(h, v, sizeof v);
}

uint64_t ptc_db_row_hash(uint64_t h, long id, const ptc_db_row *r)
{
    return ptc_db_row_hash_digest(h, id, ptc_db_row_digest(r));
}

/* Every row of phoneprov in id order, the one SELECT of the table: each
 * gets the row (ids from 1), its strings valid for the call; a nonzero
 * return stops the walk.  0, or -1 when the query failed. */
static int each_row(ptc_sql *c, int (*each)(const ptc_db_row *row, void *ctx), void *ctx)
{
    ptc_sql_stmt *st = ptc_sql_prepare(c, "SELECT " COLS " FROM phoneprov ORDER BY id", 0);
    if (!st) return -1;
    int step, n;
    while ((step = ptc_sql_step(st)) == PTC_SQL_ROW) {
        ptc_db_row r;
        memset(&r, 0, sizeof r);
        r.id = (long)ptc_sql_int64(st, 0);
        r.ext = ptc_sql_text(st, 1, &r.ext_len);
        r.cid_name = ptc_sql_text(st, 2, &r.cid_name_len);
        r.cid_num = ptc_sql_text(st, 3, &r.cid_num_len);
        r.account = ptc_sql_text(st, 4, &r.account_len);
        r.line = (int)ptc_sql_int64(st, 5);
        r.mac_addr = ptc_sql_text(st, 6, &n);
        r.template_ = ptc_sql_text(st, 7, &r.template_len);
        r.model = ptc_sql_text(st, 8, &r.model_len);
        r.vendor = ptc_sql_text(st, 9, &r.vendor_len);
        r.sip_driver = ptc_sql_text(st, 10, &n);
        if (each(&r, ctx) != 0) { step = PTC_SQL_DONE; break; }
    }
    ptc_sql_finalize(st);
    return step == PTC_SQL_DONE ? 0 : -1;
}

typedef struct hashing { uint64_t h; long rows; } hashing;

static int hash_row(const ptc_db_row *row, void *ctx)
{
    hashing *H = ctx;
    H->h = ptc_db_row_hash(H->h, row->id, row);
    H->rows++;
    return 0;
}

/* SQLite: 1 when the table is the one we create (its CREATE text as RENAME
 * leaves it); otherwise a rebuild is due anyway. */
static int lite_table_is_ours(ptc_db *db)
{
    ptc_buf want = PTC_BUF_INIT;
    ptc_buf_puts(&want, "CREATE TABLE \"phoneprov\" ");
    ptc_buf_puts(&want, strchr(create_build, '('));
    ptc_sql_stmt *st = ptc_sql_prepare(db->c, "SELECT sql FROM sqlite_master WHERE type='table' "
                                       "AND name='phoneprov'", 0);
    int ours = st && ptc_sql_step(st) == PTC_SQL_ROW && strcmp(ptc_sql_text(st, 0, NULL), ptc_buf_cstr(&want)) == 0;
    ptc_sql_finalize(st);
    ptc_buf_free(&want);
    return ours;
}

int ptc_db_table_hash(ptc_db *db, uint64_t *h, long *rows)
{
    if (is_pg(db) ? ptc_db_has_table(db, "phoneprov") != 1 : !lite_table_is_ours(db)) return -1;
    hashing H = {PTC_HASH64_INIT, 0};
    if (each_row(db->c, hash_row, &H) != 0) return -1;
    *h = H.h;
    *rows = H.rows;
    return 0;
}

int ptc_db_read(const char *path, int missing_ok, int (*each)(const ptc_db_row *row, void *ctx), void *ctx,
                ptc_diag *diag)
{
    int pg = ptc_sql_is_pg(path);
    if (missing_ok && !pg && !ptc_exists(path)) return 1;
    char why[600];
    ptc_sql *c = ptc_sql_open(path, PTC_SQL_READONLY, 2000, app_name(), why, sizeof why);
    if (!c) {
        ptc_diag_plain(diag, PTC_ERROR, pg ? "postgresql" : "sqlite", "phone table %s", why);
        return -1;
    }
    int rc = -1;
    if (missing_ok) {
        int has = ptc_sql_has_table(c, "phoneprov");
        if (has == 0) rc = 1;
        if (has != 1) goto done;
    }
    rc = each_row(c, each, ctx);
done:
    if (rc < 0)
        ptc_diag_plain(diag, PTC_ERROR, kind_word(c), "phone table %s: %s", path, ptc_sql_errmsg(c));
    ptc_sql_close(c);
    return rc;
}

/* ---- phones: the table's rows grouped by MAC --------------------------------- */

typedef struct grouping {
    ptc_db_phones *out;
    size_t cap;
    ptc_map by_mac;             /* MAC value + 1 -> index + 1: exact, no collision */
} grouping;

static void add_ext(ptc_db_phone *p, const ptc_db_row *row)
{
    if (!row->ext_len) return;
    if (p->exts.len) ptc_buf_putc(&p->exts, ',');
    ptc_buf_put(&p->exts, row->ext, (size_t)row->ext_len);
    ptc_buf_cstr(&p->exts);
}

static int group_row(const ptc_db_row *row, void *ctx)
{
    grouping *G = ctx;
    char mac[13];
    if (!ptc_mac_norm(row->mac_addr, mac)) return 0;
    int fresh = 0;
    uint32_t *slot = ptc_map_put(&G->by_mac, ptc_mac_value(mac) + 1, &fresh);
    ptc_db_phones *S = G->out;
    if (fresh) {
        if (S->n == G->cap) {
            G->cap = G->cap ? G->cap * 2 : 64;
            S->v = ptc_xrealloc(S->v, G->cap * sizeof *S->v);
        }
        ptc_db_phone *p = &S->v[S->n++];
        memset(p, 0, sizeof *p);
        memcpy(p->mac, mac, 13);
        p->mac_text = ptc_xstrdup(row->mac_addr);
        p->account = ptc_xstrndup(row->account, (size_t)row->account_len);
        p->sip_driver = ptc_xstrdup(row->sip_driver);
        p->tmpl = ptc_xstrndup(row->template_, (size_t)row->template_len);
        p->model = ptc_xstrndup(row->model, (size_t)row->model_len);
        p->vendor = ptc_xstrndup(row->vendor, (size_t)row->vendor_len);
        *slot = (uint32_t)S->n;
    }
    add_ext(&S->v[*slot - 1], row);
    return 0;
}

int ptc_db_read_phones(const char *path, int missing_ok, ptc_db_phones *out, ptc_diag *diag)
{
    memset(out, 0, sizeof *out);
    grouping G = {out, 0, {0}};
    int rc = ptc_db_read(path, missing_ok, group_row, &G, diag);
    ptc_map_free(&G.by_mac);
    return rc;
}

void ptc_db_phone_clear(ptc_db_phone *p)
{
    if (!p) return;
    free(p->mac_text); free(p->account); free(p->sip_driver); free(p->tmpl);
    free(p->model); free(p->vendor);
    ptc_buf_free(&p->exts);
    memset(p, 0, sizeof *p);
}

void ptc_db_phones_free(ptc_db_phones *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) ptc_db_phone_clear(&s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- the rows of a bound phone ---------------------------------------------- */

int ptc_db_rows_of(const ptc_phone *ph, const char *mac_addr, const char *tmpl,
                   int (*each)(const ptc_db_row *row, void *ctx), void *ctx)
{
    const ptc_vm_rec *v = &ph->rec;
    for (int i = 0; i < PTC_MAX_LINES; i++) {
        if (!ptc_phone_line_is_distinct(ph, i)) continue;
        ptc_db_row row = {
            .ext = v->v[PTC_SLOT_EXT1 + i], .ext_len = (int)v->n[PTC_SLOT_EXT1 + i],
            .cid_name = v->v[PTC_SLOT_CID_NAME1 + i], .cid_name_len = (int)v->n[PTC_SLOT_CID_NAME1 + i],
            .cid_num = v->v[PTC_SLOT_CID_NUM1 + i], .cid_num_len = (int)v->n[PTC_SLOT_CID_NUM1 + i],
            .account = v->v[PTC_SLOT_ACCOUNT1 + i], .account_len = (int)v->n[PTC_SLOT_ACCOUNT1 + i],
            .line = i + 1, .mac_addr = mac_addr,
            .template_ = tmpl, .template_len = (int)strlen(tmpl),
            .model = v->v[PTC_SLOT_MODEL], .model_len = (int)v->n[PTC_SLOT_MODEL],
            .vendor = v->v[PTC_SLOT_VENDOR], .vendor_len = (int)v->n[PTC_SLOT_VENDOR],
            .sip_driver = ph->sip_driver,
        };
        int rc = each(&row, ctx);
        if (rc) return rc;
    }
    return 0;
}

int ptc_db_table_is(const char *path, uint64_t h, long rows)
{
    if (!ptc_sql_is_pg(path) && !ptc_exists(path)) return 0;
    ptc_diag quiet;
    ptc_diag_init_null(&quiet);
    ptc_db *db = ptc_db_open(path, 30000, &quiet);
    uint64_t got;
    long n;
    int same = db && ptc_db_table_hash(db, &got, &n) == 0 && n == rows && got == h;
    ptc_db_close(db);
    return same;
}

/* ---- watching ----------------------------------------------------------------- */


struct ptc_db_watch {
    char *path;
    pthread_mutex_t mu;
    ptc_sql *c;                 /* PostgreSQL: kept between polls */
};

ptc_db_watch *ptc_db_watch_new(const char *path)
{
    ptc_db_watch *w = ptc_xcalloc(1, sizeof *w);
    w->path = ptc_xstrdup(path);
    pthread_mutex_init(&w->mu, NULL);
    return w;
}

static uint64_t mtime_ns(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    return (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
}

static uint64_t pg_version(ptc_db_watch *w)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!w->c) {
            char why[600];
            if (!(w->c = ptc_sql_open(w->path, 0, 2000, app_name(), why, sizeof why))) return 0;
        }
        int64_t v = ptc_sql_query_int(w->c, "SELECT max(version) + 1 FROM phoneprov_version", -1);
        if (v >= 0) return (uint64_t)v;
        /* No table yet (0), or a broken connection: made again once. */
        if (ptc_sql_has_table(w->c, "phoneprov_version") == 0) return 0;
        ptc_sql_close(w->c);
        w->c = NULL;
    }
    return 0;
}

uint64_t ptc_db_watch_version(ptc_db_watch *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t v;
    if (ptc_sql_is_pg(w->path)) v = pg_version(w);
    else {
        char wal[4096];
        snprintf(wal, sizeof wal, "%s-wal", w->path);
        uint64_t a = mtime_ns(w->path), b = mtime_ns(wal);
        v = a > b ? a : b;
    }
    pthread_mutex_unlock(&w->mu);
    return v;
}

void ptc_db_watch_free(ptc_db_watch *w)
{
    if (!w) return;
    ptc_sql_close(w->c);
    pthread_mutex_destroy(&w->mu);
    free(w->path);
    free(w);
}
