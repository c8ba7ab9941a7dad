/* The phoneprov table in SQLite. */
#include "ptc/db.h"
#include "ptc/buf.h"
#include "ptc/fsutil.h"
#include "ptc/mac.h"
#include "ptc/map.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ptc_db {
    sqlite3 *h;
    sqlite3_stmt *insert;
    char *path;
};

/* The original's CREATE text, byte for byte: sqlite_master keeps it (with the
 * name rewritten by RENAME), and so does `.schema`. */
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

static int fail(ptc_db *db, ptc_diag *diag, const char *what)
{
    ptc_diag_plain(diag, PTC_ERROR, "sqlite", "%s: %s: %s", db->path, what, sqlite3_errmsg(db->h));
    return -1;
}

static int exec(ptc_db *db, const char *sql, ptc_diag *diag)
{
    char *err = NULL;
    if (sqlite3_exec(db->h, sql, NULL, NULL, &err) == SQLITE_OK) return 0;
    ptc_diag_plain(diag, PTC_ERROR, "sqlite", "%s: %s", db->path, err ? err : "error");
    sqlite3_free(err);
    return -1;
}

ptc_db *ptc_db_open(const char *path, int timeout_ms, ptc_diag *diag)
{
    ptc_db *db = ptc_xcalloc(1, sizeof *db);
    db->path = ptc_xstrdup(path);
    /* One connection, one thread: no mutexes on every call. */
    if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        fail(db, diag, "cannot open database");
        goto bad;
    }
    sqlite3_busy_timeout(db->h, timeout_ms);
    /* A corrupt file fails here rather than half-way through a run. */
    if (exec(db, "SELECT count(*) FROM sqlite_master", diag) != 0) goto bad;
    return db;
bad:
    ptc_db_close(db);
    return NULL;
}

void ptc_db_close(ptc_db *db)
{
    if (!db) return;
    sqlite3_finalize(db->insert);
    sqlite3_close(db->h);
    free(db->path);
    free(db);
}

static int has_table(sqlite3 *h, const char *name)
{
    sqlite3_stmt *st = NULL;
    int found = 0;
    if (sqlite3_prepare_v2(h, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return found;
}

int ptc_db_has_table(ptc_db *db, const char *name)
{
    return has_table(db->h, name);
}

int ptc_db_build_begin(ptc_db *db, int keep_existing, ptc_diag *diag)
{
    if (exec(db, "BEGIN IMMEDIATE; DROP TABLE IF EXISTS 'phoneprov_build'", diag) != 0) return -1;
    if (exec(db, create_build, diag) != 0) goto bad;
    if (keep_existing && ptc_db_has_table(db, "phoneprov") &&
        exec(db, "INSERT INTO 'phoneprov_build' SELECT id, ext, cid_name, cid_num, account, line, "
                 "mac_addr, template, model, vendor, sip_driver FROM 'phoneprov' ORDER BY id", diag) != 0)
        goto bad;
    if (sqlite3_prepare_v2(db->h,
            "INSERT INTO 'phoneprov_build' (ext, cid_name, cid_num, account, line, mac_addr, "
            "template, model, vendor, sip_driver) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
            -1, &db->insert, NULL) != SQLITE_OK) {
        fail(db, diag, "prepare");
        goto bad;
    }
    return 0;
bad:
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int ptc_db_build_add(ptc_db *db, const ptc_db_row *r, ptc_diag *diag)
{
    sqlite3_stmt *st = db->insert;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, r->ext, r->ext_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->cid_name, r->cid_name_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->cid_num, r->cid_num_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->account, r->account_len, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, r->line);
    sqlite3_bind_text(st, 6, r->mac_addr, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r->template_, r->template_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, r->model, r->model_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, r->vendor, r->vendor_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, r->sip_driver, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) return fail(db, diag, "insert");
    return 0;
}

int ptc_db_build_end(ptc_db *db, ptc_diag *diag)
{
    sqlite3_finalize(db->insert);
    db->insert = NULL;
    if (exec(db, "COMMIT", diag) != 0) {
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

int ptc_db_swap(ptc_db *db, int drop_when_no_build, ptc_diag *diag)
{
    if (exec(db, "BEGIN IMMEDIATE", diag) != 0) return -1;
    int rc;
    if (ptc_db_has_table(db, "phoneprov_build"))
        rc = exec(db, "DROP TABLE IF EXISTS 'phoneprov'; "
                      "ALTER TABLE 'phoneprov_build' RENAME TO 'phoneprov'", diag);
    else if (drop_when_no_build)
        rc = exec(db, "DROP TABLE IF EXISTS 'phoneprov'", diag);
    else
        rc = 0;
    if (rc == 0 && exec(db, "COMMIT", diag) == 0) return 0;
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int ptc_db_drop_build(ptc_db *db, ptc_diag *diag)
{
    return exec(db, "DROP TABLE IF EXISTS 'phoneprov_build'", diag);
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

/* A row as one line, "id<TAB>ext<TAB>...<TAB>sip_driver<TAB>\n", hashed
 * whole (the hash is not the same fed in other pieces). */
uint64_t ptc_db_row_hash(uint64_t h, long id, const ptc_db_row *r)
{
    size_t need = 2 * 24 + 12 + len_of(r->ext, r->ext_len) + len_of(r->cid_name, r->cid_name_len) +
                  len_of(r->cid_num, r->cid_num_len) + len_of(r->account, r->account_len) +
                  len_of(r->mac_addr, -1) + len_of(r->template_, r->template_len) +
                  len_of(r->model, r->model_len) + len_of(r->vendor, r->vendor_len) +
                  len_of(r->sip_driver, -1);
    char stack[512];
    char *buf = need <= sizeof stack ? stack : ptc_xmalloc(need);
    char *o = field_int(buf, id);
    o = field(o, r->ext, r->ext_len);
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
    h = ptc_hash64_update(h, buf, (size_t)(o - buf));
    if (buf != stack) free(buf);
    return h;
}

static const char *col(sqlite3_stmt *st, int i, int *n)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    *n = sqlite3_column_bytes(st, i);
    return s ? s : "";
}

/* Every row of phoneprov in id order, the one SELECT of the table: each
 * gets the row (ids from 1), its strings valid for the call; a nonzero
 * return stops the walk.  SQLITE_DONE, or the failing step's code. */
static int each_row(sqlite3 *h, int (*each)(const ptc_db_row *row, void *ctx), void *ctx)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(h, "SELECT id, ext, cid_name, cid_num, account, line, mac_addr, "
                           "template, model, vendor, sip_driver FROM phoneprov ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return SQLITE_ERROR;
    int step, n;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        ptc_db_row r;
        memset(&r, 0, sizeof r);
        r.id = (long)sqlite3_column_int64(st, 0);
        r.ext = col(st, 1, &r.ext_len);
        r.cid_name = col(st, 2, &r.cid_name_len);
        r.cid_num = col(st, 3, &r.cid_num_len);
        r.account = col(st, 4, &r.account_len);
        r.line = sqlite3_column_int(st, 5);
        r.mac_addr = col(st, 6, &n);
        r.template_ = col(st, 7, &r.template_len);
        r.model = col(st, 8, &r.model_len);
        r.vendor = col(st, 9, &r.vendor_len);
        r.sip_driver = col(st, 10, &n);
        if (each(&r, ctx) != 0) { step = SQLITE_DONE; break; }
    }
    sqlite3_finalize(st);
    return step;
}

typedef struct hashing { uint64_t h; long rows; } hashing;

static int hash_row(const ptc_db_row *row, void *ctx)
{
    hashing *H = ctx;
    H->h = ptc_db_row_hash(H->h, row->id, row);
    H->rows++;
    return 0;
}

int ptc_db_table_hash(ptc_db *db, uint64_t *h, long *rows)
{
    /* The table must be the one we create (its CREATE text as RENAME
     * leaves it), or a rebuild is due anyway. */
    ptc_buf want = PTC_BUF_INIT;
    ptc_buf_puts(&want, "CREATE TABLE \"phoneprov\" ");
    ptc_buf_puts(&want, strchr(create_build, '('));
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(db->h, "SELECT sql FROM sqlite_master WHERE type='table' AND name='phoneprov'",
                           -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
        goto out;
    const char *sql = (const char *)sqlite3_column_text(st, 0);
    if (!sql || strcmp(sql, ptc_buf_cstr(&want)) != 0) goto out;
    hashing H = {PTC_HASH64_INIT, 0};
    if (each_row(db->h, hash_row, &H) != SQLITE_DONE) goto out;
    *h = H.h;
    *rows = H.rows;
    rc = 0;
out:
    sqlite3_finalize(st);
    ptc_buf_free(&want);
    return rc;
}

int ptc_db_read(const char *path, int missing_ok, int (*each)(const ptc_db_row *row, void *ctx), void *ctx,
                ptc_diag *diag)
{
    sqlite3 *h = NULL;
    int rc = -1;
    if (missing_ok && !ptc_exists(path)) return 1;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) goto done;
    sqlite3_busy_timeout(h, 2000);
    if (missing_ok && !has_table(h, "phoneprov")) { rc = 1; goto done; }
    if (each_row(h, each, ctx) == SQLITE_DONE) rc = 0;
done:
    if (rc < 0)
        ptc_diag_plain(diag, PTC_ERROR, "sqlite", "phone table %s: %s", path, h ? sqlite3_errmsg(h) : "cannot open");
    sqlite3_close(h);
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
    if (!ptc_exists(path)) return 0;
    ptc_diag quiet;
    ptc_diag_init_null(&quiet);
    ptc_db *db = ptc_db_open(path, 30000, &quiet);
    uint64_t got;
    long n;
    int same = db && ptc_db_table_hash(db, &got, &n) == 0 && n == rows && got == h;
    ptc_db_close(db);
    return same;
}
