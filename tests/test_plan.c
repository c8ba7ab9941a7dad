/* The plan (src/run/plan.c): the checks that make a phone list safe to
 * write, which `ptc run` stops at and `ptc lint` reports word for word.
 * Each test plans a whole list as the run does and reads the messages.
 * The last tests take the library entry point (ptc_run with check_only)
 * the web interface uses to check a list before it is saved. */
#include "testutil.h"
#include "ptc/cmd.h"
#include "ptc/comp.h"
#include "ptc/plan.h"
#include "ptc/rec.h"
#include "ptc/run.h"

typedef struct planned {
    char *out;                  /* the messages, first line of each */
    size_t outlen;
    unsigned errors, missing;
    unsigned prov, include_new, include_same;
} planned;

/* Plans list with every phone on template tmpl (text form, no caret). */
static void plan_list(planned *P, const char *tmpl, const char *list, int notes)
{
    memset(P, 0, sizeof *P);
    FILE *f = open_memstream(&P->out, &P->outlen);
    ptc_diag d;
    ptc_diag_init(&d, f);
    ptc_src *ts = ptc_src_from_mem("t.conf", tmpl, strlen(tmpl));
    ptc_prog *prog = ptc_comp_source(ts, &d);
    ck_assert_ptr_nonnull(prog);
    ptc_src *src = ptc_src_from_mem("m.conf", list, strlen(list));
    ptc_phone_env env = {"/mnt/kd/phoneprov", "192.0.2.1"};
    ptc_phone ph;
    ptc_phone_init(&ph);
    ptc_plan p;
    ptc_plan_init(&p, src, &d);
    p.notes = notes;
    uint32_t pos = 0, off, len;
    unsigned line = 0;
    ptc_rec r;
    while (ptc_rec_next_line(src, &pos, &off, &len, &line)) {
        if (ptc_rec_parse(src, off, len, line, &r, &d) != 0) continue;
        ptc_plan_password(&p, &r);
        if (ptc_plan_mac(&p, &r) != 0) continue;
        ptc_phone_bind(&ph, prog, src, &r, &env);
        for (int ctx = PTC_CTX_GENERAL + 1; ctx < PTC_CTX_COUNT; ctx++) {
            const char *path;
            size_t file;
            if (!ptc_prog_has(prog, ctx)) continue;
            switch (ptc_plan_output(&p, &r, &ph, &env, ctx, &path, &file)) {
            case PTC_PLAN_PROV: P->prov++; break;
            case PTC_PLAN_INCLUDE_NEW: P->include_new++; break;
            case PTC_PLAN_INCLUDE_SAME: P->include_same++; break;
            case PTC_PLAN_REFUSED: break;
            }
        }
        ptc_plan_account(&p, &r, &ph);
    }
    P->errors = d.errors;
    P->missing = p.missing;
    ptc_plan_free(&p);
    ptc_phone_free(&ph);
    ptc_src_free(src);
    ptc_prog_free(prog);
    ptc_src_free(ts);
    fclose(f);
}

/* 1 when a message line of the output is exactly want. */
static int said(const planned *P, const char *want)
{
    size_t n = strlen(want);
    for (const char *s = P->out; s && *s; ) {
        const char *e = strchr(s, '\n');
        size_t k = e ? (size_t)(e - s) : strlen(s);
        if (k == n && memcmp(s, want, n) == 0) return 1;
        s = e ? e + 1 : NULL;
    }
    return 0;
}

#define ck_said(P, want) ck_assert_msg(said(P, want), "no line\n%s\nin:\n%s", want, (P)->out)

static const char tmpl[] = "[general]\n[phoneprov]\n@EXT@\n[sip]\npeer=@ACCOUNT@\n[dialplan]\nexten => @EXT@,1,Dial(SIP/@ACCOUNT@)\n";

START_TEST(a_clean_list)
{
    planned P;
    plan_list(&P, tmpl, "t 000b82000001 201 pw\nt 000b82000002 202 pw\n", 0);
    ck_assert_uint_eq(P.errors, 0);
    ck_assert_uint_eq(P.prov, 2);               /* a provisioning file each */
    ck_assert_uint_eq(P.include_new, 2);        /* the sip and the dialplan file, once */
    ck_assert_uint_eq(P.include_same, 2);       /* ... shared by the second phone */
    ck_assert_uint_eq(P.outlen, 0);
    free(P.out);
}
END_TEST

START_TEST(every_phone_needs_a_password)
{
    planned P;
    plan_list(&P, tmpl, "t 000b82000001 201\nt 000b82000002 202 pw\nt 000b82000003 203\n", 1);
    ck_assert_uint_eq(P.missing, 2);
    ck_said(&P, "m.conf:1:19: error: no password for 00:0b:82:00:00:01 (extension 201) [no-password]");
    ck_said(&P, "m.conf:3: note: `ptc run -a` generates missing passwords and writes them into the phone list "
                "[no-password]");
    free(P.out);
}
END_TEST

START_TEST(one_phone_per_mac_in_any_spelling)
{
    planned P;
    plan_list(&P, tmpl, "t 00:0b:82:00:00:01 201 pw\nt 000B82000001 202 pw\n", 1);
    ck_assert_uint_eq(P.errors, 1);
    ck_said(&P, "m.conf:2:3: error: MAC address 00:0B:82:00:00:01 is also on line 1 [duplicate-mac]");
    ck_assert_uint_eq(P.prov, 1);               /* the duplicate is not planned further */
    free(P.out);
}
END_TEST

START_TEST(one_phone_per_first_account)
{
    planned P;
    plan_list(&P, tmpl, "t 000b82000001 201 pw shared\nt 000b82000002 202 pw shared\n", 0);
    ck_assert_uint_eq(P.errors, 1);
    ck_said(&P, "m.conf:2:23: error: SIP account \"shared\" is also the account of line 1 [duplicate-account]");
    free(P.out);
}
END_TEST

START_TEST(one_extension_per_dialplan_file)
{
    planned P;
    plan_list(&P, tmpl, "t 000b82000001 201 pw a1\nt 000b82000002 201 pw a2\n", 1);
    ck_said(&P, "m.conf:2:16: error: extension 201 is also on line 1: the dialplan would have two "
                "`exten => 201` [duplicate-ext]");
    ck_said(&P, "m.conf:1: note: line 1 has extension 201 too [duplicate-ext]");
    free(P.out);
}
END_TEST

START_TEST(one_writer_per_file)
{
    planned P;
    plan_list(&P, "[general]\nprov_file=same.cfg\n[phoneprov]\nx\n",
              "t 000b82000001 201 pw\nt 000b82000002 202 pw\n", 0);
    ck_said(&P, "m.conf:2:1: error: provisioning file /mnt/kd/phoneprov/t/same.cfg is also written for line 1 "
                "[duplicate-file]");
    free(P.out);
    /* a//b and a/b are one file */
    plan_list(&P, "[general]\nprov_path=/srv//p\n#<202>prov_path=/srv/p/\nprov_file=x.cfg\n[phoneprov]\nx\n",
              "t 000b82000001 201 pw\nt 000b82000002 202 pw\n", 0);
    ck_assert_uint_eq(P.errors, 1);
    free(P.out);
    plan_list(&P, "[general]\nsip_file=astlinux-phoneprov-exten.conf\n[sip]\nx\n[dialplan]\ny\n",
              "t 000b82000001 201 pw\n", 0);
    ck_said(&P, "m.conf:1:1: error: /mnt/kd/asterisk/includes/astlinux-phoneprov-exten.conf gets both "
                "[sip] and [dialplan] (line 1) [duplicate-file]");
    free(P.out);
}
END_TEST

START_TEST(no_path_from_phone_data)
{
    planned P;
    plan_list(&P, "[general]\nprov_file=@CID_NAME@\n[phoneprov]\nx\n", "t 000b82000001 201/../../x pw\n", 0);
    ck_said(&P, "m.conf:1:1: error: refusing the [phoneprov] output path of this phone: a `/` from phone "
                "data would choose the directory [unsafe-path]");
    ck_assert_uint_eq(P.prov, 0);
    free(P.out);
}
END_TEST

/* ---- the library entry point: a whole list checked, nothing written -------- */

static int run_check(const char *list, ptc_diag *d, FILE *f, ptc_run_stats *st, const char *root)
{
    ptc_diag_init(d, f);
    ptc_cfg cfg;
    ck_assert_int_eq(ptc_cfg_load(&cfg, root, NULL, d), 0);
    ptc_cache cache;
    ptc_cache_init(&cache, NULL);
    char db[PATH_MAX];
    snprintf(db, sizeof db, "%s/mnt/kd/asterisk-odbc.sqlite3", root);
    ptc_run_opts o = {.list_path = "web", .list_text = list, .list_len = strlen(list), .db_path = db,
                      .sip_server_ipv4 = "192.0.2.1", .check_only = 1};
    int rc = ptc_run(&o, &cfg, &cache, d, st);
    ptc_cache_free(&cache);
    ptc_cfg_free(&cfg);
    return rc;
}

static char *make_root(void)
{
    static char root[] = "/tmp/ptc-plan-XXXXXX";
    strcpy(root, "/tmp/ptc-plan-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    char p[PATH_MAX];
    snprintf(p, sizeof p, "mkdir -p %s/mnt/kd/phoneprov/templates && printf '%%s' '%s' > %s/mnt/kd/phoneprov/templates/t.conf",
             root, "[general]\n[phoneprov]\nx\n", root);
    ck_assert_int_eq(system(p), 0);
    return root;
}

START_TEST(check_only_writes_nothing)
{
    char *root = make_root();
    ptc_diag d;
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    ptc_run_stats st;
    ck_assert_int_eq(run_check("t 000b82000001 201 pw\nt 000b82000002 202 pw\n", &d, f, &st, root), PTC_EXIT_OK);
    ck_assert_uint_eq(st.phones, 2);
    ck_assert_int_eq(st.planned, 1);
    ck_assert_uint_eq(st.created + st.changed + st.unchanged, 0);
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/mnt/kd/phoneprov/t", root);
    ck_assert_int_ne(access(p, F_OK), 0);                       /* not even a directory */
    snprintf(p, sizeof p, "%s/mnt/kd/asterisk-odbc.sqlite3", root);
    ck_assert_int_ne(access(p, F_OK), 0);
    /* The errors come back named after the list as given, with lines. */
    rewind(f);
    ck_assert_int_eq(run_check("t 000b82000001 201 pw\nt 000b82000001 202 pw\nmissing 000b82000003 203 pw\n",
                               &d, f, &st, root), PTC_EXIT_ERROR);
    fflush(f);
    ck_assert_msg(strstr(out, "web:2:3: error: MAC address 00:0b:82:00:00:01 is also on line 1 [duplicate-mac]"), "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "web:3:1: error: template \"missing\" not found: "));
    fclose(f);
    free(out);
    snprintf(p, sizeof p, "rm -rf %s", root);
    ck_assert_int_eq(system(p), 0);
}
END_TEST

/* ---- cancelled: the hook says so once, the run stops and writes nothing ---- */

typedef struct cancel_ctx {
    unsigned asked, at;         /* calls so far; the call that cancels */
    unsigned progress;          /* phones reported done */
} cancel_ctx;

static int cancel_once(void *ctx)
{
    cancel_ctx *c = ctx;
    return ++c->asked == c->at;         /* yes once, then no again */
}

static void count_progress(void *ctx, unsigned done, unsigned total)
{
    (void)total;
    ((cancel_ctx *)ctx)->progress = done;
}

START_TEST(a_cancel_stops_the_run_and_writes_nothing)
{
    char *root = make_root();
    static char list[200 * 32];
    size_t at = 0;
    for (int i = 1; i <= 200; i++)
        at += (size_t)snprintf(list + at, sizeof list - at, "t 000b82%06x %d pw%d\n", i, 200 + i, i);
    ck_assert_uint_lt(at, sizeof list);
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    ptc_diag d;
    ptc_diag_init(&d, f);
    ptc_cfg cfg;
    ck_assert_int_eq(ptc_cfg_load(&cfg, root, NULL, &d), 0);
    ptc_cache cache;
    ptc_cache_init(&cache, NULL);
    char db[PATH_MAX], cmd[PATH_MAX + 64];
    snprintf(db, sizeof db, "%s/mnt/kd/asterisk-odbc.sqlite3", root);
    cancel_ctx c = {.at = 3};
    ptc_run_opts o = {.list_path = "web", .list_text = list, .list_len = strlen(list), .db_path = db,
                      .sip_server_ipv4 = "192.0.2.1",
                      .hooks = {.cancel = cancel_once, .progress = count_progress, .ctx = &c}};
    ptc_run_stats st;
    ck_assert_int_ne(ptc_run(&o, &cfg, &cache, &d, &st), PTC_EXIT_OK);
    fflush(f);
    ck_assert_msg(strstr(out, "the run was cancelled before its commit point"), "%s", out);
    ck_assert_int_eq(st.committed, 0);
    ck_assert_uint_lt(c.progress, 200);         /* it stopped early */
    /* nothing of the run in the tree: no provisioning file, no table */
    snprintf(cmd, sizeof cmd, "test -z \"$(find %s/mnt/kd -type f ! -path '*/templates/*')\"", root);
    ck_assert_int_eq(system(cmd), 0);
    fclose(f);
    free(out);
    ptc_cache_free(&cache);
    ptc_cfg_free(&cfg);
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *plan_suite(void)
{
    Suite *s = suite_create("plan");
    TCase *tc = tcase_create("checks");
    tcase_add_test(tc, a_clean_list);
    tcase_add_test(tc, every_phone_needs_a_password);
    tcase_add_test(tc, one_phone_per_mac_in_any_spelling);
    tcase_add_test(tc, one_phone_per_first_account);
    tcase_add_test(tc, one_extension_per_dialplan_file);
    tcase_add_test(tc, one_writer_per_file);
    tcase_add_test(tc, no_path_from_phone_data);
    suite_add_tcase(s, tc);
    tc = tcase_create("library");
    tcase_add_test(tc, check_only_writes_nothing);
    tcase_add_test(tc, a_cancel_stops_the_run_and_writes_nothing);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ptc_test_run(plan_suite());
}
