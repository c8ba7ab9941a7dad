/* The phoneprov table (src/run/db.c), its one owner, as a specification:
 * how a run builds and swaps it, how every other command reads it back, in
 * a real SQLite file. */
#include "testutil.h"
#include "ptc/db.h"
#include "ptc/fsutil.h"

#include <sqlite3.h>

typedef struct dbfile {
    char dir[64], path[128];
    ptc_diag d;
    FILE *f;
    char *out;
    size_t outlen;
} dbfile;

static void mkdb(dbfile *D)
{
    memset(D, 0, sizeof *D);
    strcpy(D->dir, "/tmp/ptc-db-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(D->dir));
    snprintf(D->path, sizeof D->path, "%s/asterisk-odbc.sqlite3", D->dir);
    D->f = open_memstream(&D->out, &D->outlen);
    ptc_diag_init(&D->d, D->f);
}

static void rmdb(dbfile *D)
{
    fclose(D->f);
    free(D->out);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", D->dir);
    ck_assert_int_eq(system(cmd), 0);
}

static ptc_db_row row(const char *ext, const char *name, const char *acct, int line, const char *mac)
{
    return (ptc_db_row){
        .ext = ext, .ext_len = (int)strlen(ext), .cid_name = name, .cid_name_len = (int)strlen(name),
        .cid_num = ext, .cid_num_len = (int)strlen(ext), .account = acct, .account_len = (int)strlen(acct),
        .line = line, .mac_addr = mac, .template_ = "yealink", .template_len = 7,
        .model = "t46", .model_len = 3, .vendor = "yealink", .vendor_len = 7, .sip_driver = "pjsip",
    };
}

/* A run's table: phoneprov_build filled, then swapped in. */
static void build(dbfile *D, int keep, const ptc_db_row *rows, size_t n)
{
    ptc_db *db = ptc_db_open(D->path, 1000, &D->d);
    ck_assert_ptr_nonnull(db);
    ck_assert_int_eq(ptc_db_build_begin(db, keep, &D->d), 0);
    for (size_t i = 0; i < n; i++) ck_assert_int_eq(ptc_db_build_add(db, &rows[i], &D->d), 0);
    ck_assert_int_eq(ptc_db_build_end(db, &D->d), 0);
    ck_assert_int_eq(ptc_db_swap(db, 0, &D->d), 0);
    ck_assert(!ptc_db_has_table(db, "phoneprov_build"));
    ptc_db_close(db);
}

static const ptc_db_row *two_phones(void)
{
    static ptc_db_row r[3];
    r[0] = row("201", "Boss", "201", 1, "00:0b:82:00:00:01");
    r[1] = row("211", "Boss 2", "211", 2, "00:0b:82:00:00:01");
    r[2] = row("202", "Desk", "acct202", 1, "00:0B:82:00:00:02");
    return r;
}

/* ---- what sqlite3 sees --------------------------------------------------------- */

static void sql_text(const char *path, const char *q, char *out, size_t n)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    ck_assert_int_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(h, q, -1, &st, NULL), SQLITE_OK);
    out[0] = '\0';
    size_t k = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        k += (size_t)snprintf(out + k, n - k, "%s%s", k ? "|" : "", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(h);
}

START_TEST(the_original_schema_and_rows)
{
    dbfile D;
    mkdb(&D);
    build(&D, 0, two_phones(), 3);
    char got[2048];
    sql_text(D.path, "SELECT sql FROM sqlite_master WHERE name='phoneprov'", got, sizeof got);
    ck_assert_str_eq(got, "CREATE TABLE \"phoneprov\" (\n"
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
                          ")");
    sql_text(D.path, "SELECT id || ',' || ext || ',' || cid_name || ',' || account || ',' || line || ',' || mac_addr "
                     "FROM phoneprov ORDER BY id", got, sizeof got);
    ck_assert_str_eq(got, "1,201,Boss,201,1,00:0b:82:00:00:01|2,211,Boss 2,211,2,00:0b:82:00:00:01|"
                          "3,202,Desk,acct202,1,00:0B:82:00:00:02");
    rmdb(&D);
}
END_TEST

/* ---- reading it back: rows, phones, the hash of a rerun ------------------------ */

static int count_row(const ptc_db_row *r, void *ctx)
{
    long *ids = ctx;
    ids[r->id] = r->line;
    ids[0]++;
    return 0;
}

START_TEST(rows_in_id_order)
{
    dbfile D;
    mkdb(&D);
    build(&D, 0, two_phones(), 3);
    long ids[8] = {0};
    ck_assert_int_eq(ptc_db_read(D.path, 0, count_row, ids, &D.d), 0);
    ck_assert_int_eq(ids[0], 3);
    ck_assert_int_eq(ids[2], 2);                                 /* row 2 is line 2 */
    rmdb(&D);
}
END_TEST

START_TEST(phones_grouped_by_mac)
{
    dbfile D;
    mkdb(&D);
    build(&D, 0, two_phones(), 3);
    ptc_db_phones P;
    ck_assert_int_eq(ptc_db_read_phones(D.path, 0, &P, &D.d), 0);
    ck_assert_uint_eq(P.n, 2);
    ck_assert_str_eq(P.v[0].mac, "000b82000001");
    ck_assert_str_eq(P.v[0].exts.data, "201,211");
    ck_assert_str_eq(P.v[0].account, "201");
    ck_assert_str_eq(P.v[0].sip_driver, "pjsip");
    ck_assert_str_eq(P.v[1].mac, "000b82000002");               /* lower case, any spelling */
    ck_assert_str_eq(P.v[1].mac_text, "00:0B:82:00:00:02");     /* ... and as written */
    ck_assert_str_eq(P.v[1].account, "acct202");
    ptc_db_phones_free(&P);
    ptc_db_phones_free(NULL);
    rmdb(&D);
}
END_TEST

START_TEST(missing_file_or_table)
{
    dbfile D;
    mkdb(&D);
    ptc_db_phones P;
    ck_assert_int_eq(ptc_db_read_phones(D.path, 1, &P, &D.d), 1);   /* no phones yet */
    ck_assert_uint_eq(P.n, 0);
    ck_assert_uint_eq(D.d.errors, 0);
    ptc_db *db = ptc_db_open(D.path, 1000, &D.d);                    /* a file, no table */
    ptc_db_close(db);
    ck_assert_int_eq(ptc_db_read_phones(D.path, 1, &P, &D.d), 1);
    ck_assert_int_eq(ptc_db_read_phones(D.path, 0, &P, &D.d), -1);
    fflush(D.f);
    char want[256];
    snprintf(want, sizeof want, "ptc: error: phone table %s: no such table: phoneprov [sqlite]\n", D.path);
    ck_assert_str_eq(D.out, want);
    rmdb(&D);
}
END_TEST

typedef struct hashing { uint64_t h; long n; } hashing;

static int hash_row(const ptc_db_row *r, void *ctx)
{
    hashing *H = ctx;
    H->h = ptc_db_row_hash(H->h, ++H->n, r);
    return 0;
}

START_TEST(a_rerun_with_the_same_rows_is_recognised)
{
    dbfile D;
    mkdb(&D);
    const ptc_db_row *r = two_phones();
    build(&D, 0, r, 3);
    hashing H = {PTC_HASH64_INIT, 0};
    for (int i = 0; i < 3; i++) hash_row(&r[i], &H);
    ck_assert_int_eq(ptc_db_table_is(D.path, H.h, H.n), 1);
    ck_assert_int_eq(ptc_db_table_is(D.path, H.h, H.n + 1), 0);
    ptc_db_row other[3] = {r[0], r[1], r[2]};
    other[2].cid_name = "Desk!";
    other[2].cid_name_len = 5;
    hashing G = {PTC_HASH64_INIT, 0};
    for (int i = 0; i < 3; i++) hash_row(&other[i], &G);
    ck_assert_int_eq(ptc_db_table_is(D.path, G.h, G.n), 0);
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none.sqlite3", D.dir);
    ck_assert_int_eq(ptc_db_table_is(missing, H.h, H.n), 0);
    ck_assert_int_eq(access(missing, F_OK), -1);                 /* and it is not created */
    rmdb(&D);
}
END_TEST

/* ---- a partial run keeps the rows; a run without SQL drops the table ------- */

START_TEST(partial_run_appends)
{
    dbfile D;
    mkdb(&D);
    build(&D, 0, two_phones(), 2);
    ptc_db_row more = row("203", "New", "203", 1, "00:0b:82:00:00:03");
    build(&D, 1, &more, 1);
    char got[512];
    sql_text(D.path, "SELECT id || ':' || ext FROM phoneprov ORDER BY id", got, sizeof got);
    ck_assert_str_eq(got, "1:201|2:211|3:203");
    rmdb(&D);
}
END_TEST

START_TEST(swap_without_build_drops_when_asked)
{
    dbfile D;
    mkdb(&D);
    build(&D, 0, two_phones(), 3);
    ptc_db *db = ptc_db_open(D.path, 1000, &D.d);
    ck_assert_int_eq(ptc_db_swap(db, 0, &D.d), 0);               /* idempotent: nothing to do */
    ck_assert(ptc_db_has_table(db, "phoneprov"));
    ck_assert_int_eq(ptc_db_swap(db, 1, &D.d), 0);               /* no template enables SQL */
    ck_assert(!ptc_db_has_table(db, "phoneprov"));
    ck_assert_int_eq(ptc_db_build_begin(db, 0, &D.d), 0);
    ck_assert_int_eq(ptc_db_build_end(db, &D.d), 0);
    ck_assert_int_eq(ptc_db_drop_build(db, &D.d), 0);            /* a rollback */
    ck_assert(!ptc_db_has_table(db, "phoneprov_build"));
    ptc_db_close(db);
    ptc_db_close(NULL);
    rmdb(&D);
}
END_TEST

static Suite *db_suite(void)
{
    Suite *s = suite_create("db");
    TCase *tc = tcase_create("write");
    tcase_add_test(tc, the_original_schema_and_rows);
    tcase_add_test(tc, partial_run_appends);
    tcase_add_test(tc, swap_without_build_drops_when_asked);
    suite_add_tcase(s, tc);
    tc = tcase_create("read");
    tcase_add_test(tc, rows_in_id_order);
    tcase_add_test(tc, phones_grouped_by_mac);
    tcase_add_test(tc, missing_file_or_table);
    tcase_add_test(tc, a_rerun_with_the_same_rows_is_recognised);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ptc_test_run(db_suite());
}
