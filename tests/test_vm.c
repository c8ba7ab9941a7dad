/* The VM (runtime/vm.c) with phone binding (src/run/phone.c): what a template
 * produces for a phone.
 *
 * Golden files: tests/golden/vm/NAME.conf (a template), NAME.phone (phone
 * list lines, as in massdeployment.conf) and NAME.out, the expected result:
 *
 *   === phone 1: <the phone-list line>
 *   --- [general]
 *   model=..  vendor=..  (the MODEL and VENDOR slots)
 *   KEY=VALUE for every key the template set, then prov_path and prov_file
 *   (with their defaults), sql=yes|no driver=..
 *   --- [CONTEXT]
 *   the context's output bytes, for each context the template has
 *
 * PTC_UPDATE_GOLDEN=1 rewrites the .out files (review the diff!).
 *
 * Also: the 07-callerid conformance vector's expected files, and direct
 * tests of the dispatch loop. */
#include "testutil.h"
#include "ptc/vm.h"
#include "ptc/phone.h"
#include "ptc/rec.h"
#include "ptc/comp.h"
#include "ptc/buf.h"
#include "ptc/fsutil.h"

#include <limits.h>
#include <unistd.h>

static const ptc_phone_env env = { "/mnt/kd/phoneprov", "10.0.0.1" };

static ptc_prog *compile_src(ptc_src *src)
{
    ptc_diag d;
    ptc_diag_init(&d, stderr);
    d.show_warnings = 0;                        /* contexts.conf has [bogus] */
    ptc_prog *p = ptc_comp_source(src, &d);
    ck_assert_msg(p != NULL, "%s does not compile", src->name);
    return p;
}

static ptc_prog *compile_str(const char *text)
{
    ptc_src *src = ptc_src_from_mem("t.conf", text, strlen(text));
    ptc_prog *p = compile_src(src);
    ptc_src_free(src);
    return p;
}

/* Runs ctx for the phone into out (appending). */
static void run_ctx(const ptc_prog *p, int ctx, const ptc_phone *ph, ptc_buf *out)
{
    ptc_sink s;
    ptc_sink_init_mem(&s);
    ptc_vm_run(p, ctx, &ph->rec, &s);
    ck_assert_int_eq(ptc_sink_finish(&s), 0);
    ptc_buf_put(out, s.buf.data, s.buf.len);
    ptc_sink_free(&s);
}

static void render_phone(const ptc_prog *p, ptc_phone *ph, ptc_buf *out)
{
    ptc_buf_puts(out, "--- [general]\n");
    ptc_buf_printf(out, "model=%.*s\n", (int)ph->rec.n[PTC_SLOT_MODEL], ph->rec.v[PTC_SLOT_MODEL]);
    ptc_buf_printf(out, "vendor=%.*s\n", (int)ph->rec.n[PTC_SLOT_VENDOR], ph->rec.v[PTC_SLOT_VENDOR]);
    for (int k = 0; k < PTC_KEY_COUNT; k++) {
        if (k == PTC_KEY_MODEL || k == PTC_KEY_VENDOR) continue;
        if (!(ph->keys.set & (1u << k)) && k != PTC_KEY_PROV_PATH && k != PTC_KEY_PROV_FILE) continue;
        ptc_buf_printf(out, "%s=%s\n", ptc_key_names[k], ptc_phone_key(ph, k, &env));
    }
    ptc_buf_printf(out, "sql=%s driver=%s\n", ph->sql_enable ? "yes" : "no", ph->sip_driver);
    for (int c = 1; c < PTC_CTX_COUNT; c++) {
        if (!ptc_prog_has(p, c)) continue;
        ptc_buf_printf(out, "--- [%s]\n", ptc_ctx_names[c]);
        run_ctx(p, c, ph, out);
    }
}

/* The golden rendering of NAME: every phone of NAME.phone through NAME.conf. */
static void check_golden(const char *name)
{
    char conf[PATH_MAX + 64], phones[PATH_MAX + 64], outp[PATH_MAX + 64];
    snprintf(conf, sizeof conf, "%s/tests/golden/vm/%s.conf", repo_dir(), name);
    snprintf(phones, sizeof phones, "%s/tests/golden/vm/%s.phone", repo_dir(), name);
    snprintf(outp, sizeof outp, "%s/tests/golden/vm/%s.out", repo_dir(), name);
    ptc_src *tsrc = ptc_src_load(conf, NULL);
    ck_assert_msg(tsrc != NULL, "cannot read %s", conf);
    ptc_src *list = ptc_src_load(phones, NULL);
    ck_assert_msg(list != NULL, "cannot read %s", phones);
    ptc_prog *p = compile_src(tsrc);

    ptc_buf got = PTC_BUF_INIT;
    ptc_phone ph;
    ptc_phone_init(&ph);
    ptc_diag d;
    ptc_diag_init(&d, stderr);
    uint32_t pos = 0, off, len;
    unsigned line = 0, n = 0;
    while (ptc_rec_next_line(list, &pos, &off, &len, &line)) {
        ptc_rec r;
        ck_assert_msg(ptc_rec_parse(list, off, len, line, &r, &d) == 0, "%s:%u: bad phone line", phones, line);
        ptc_phone_bind(&ph, p, list, &r, &env);
        ptc_buf_printf(&got, "=== phone %u: %.*s\n", ++n, (int)len, list->text + off);
        render_phone(p, &ph, &got);
    }
    ck_assert_uint_gt(n, 0);

    const char *upd = getenv("PTC_UPDATE_GOLDEN");
    if (upd && *upd == '1') {
        FILE *f = fopen(outp, "w");
        ck_assert_ptr_nonnull(f);
        fwrite(got.data, 1, got.len, f);
        fclose(f);
    }
    ptc_buf want = PTC_BUF_INIT;
    ck_assert_msg(ptc_read_file(outp, &want) == 0, "cannot read %s", outp);
    ck_assert_msg(want.len == got.len && memcmp(want.data, got.data, got.len) == 0,
                  "%s differs; got:\n%s", outp, ptc_buf_cstr(&got));
    ptc_buf_free(&want);
    ptc_buf_free(&got);
    ptc_phone_free(&ph);
    ptc_prog_free(p);
    ptc_src_free(list);
    ptc_src_free(tsrc);
}

#define GOLDEN(name) START_TEST(golden_##name) { check_golden(#name); } END_TEST

GOLDEN(text)                /* text kept as is, empty lines dropped, space lines kept */
GOLDEN(variables)           /* every variable, indexed 1..6 with defaults, USERNAME */
GOLDEN(filters)             /* xml, url, upper, lower, raw, chains; not a variable: text */
GOLDEN(filters_default)     /* escape=xml: [phoneprov] only, raw opts out, never twice */
GOLDEN(guards)              /* #<ext>, #<!a!b!>, *72 and 70#, whole-string match */
GOLDEN(escapes)             /* \# and \[ at line start and after a guard */
GOLDEN(unknown_words)       /* @FOO@, @ext@, @@ kept; @FOO@EXT@ finds @EXT@ */
GOLDEN(literal_values)      /* values inserted literally, never rescanned */
GOLDEN(general_defaults)    /* model, vendor, prov_path, prov_file defaults */
GOLDEN(general_keys)        /* key = value, cut at first space, last wins */
GOLDEN(general_order)       /* macaddress_case, then model, then vendor, then the rest */
GOLDEN(general_accounts)    /* auto_account_prefix/suffix/case */
GOLDEN(general_guarded)     /* guarded keys per extension */
GOLDEN(contexts)            /* every output context, joined parts, unknown ignored */

/* ---- 07-callerid: the original tool's own output -------------------------- */

START_TEST(callerid_matches_conformance_vector)
{
    char path[PATH_MAX + 128];
    const char *dir = shared_dir();
    snprintf(path, sizeof path, "%s/conformance/07-callerid/input/templates/cid.conf", dir);
    ptc_src *tsrc = ptc_src_load(path, NULL);
    ck_assert_msg(tsrc != NULL, "cannot read %s", path);
    snprintf(path, sizeof path, "%s/conformance/07-callerid/input/massdeployment.conf", dir);
    ptc_src *list = ptc_src_load(path, NULL);
    ck_assert_ptr_nonnull(list);
    ptc_prog *p = compile_src(tsrc);
    ptc_phone ph;
    ptc_phone_init(&ph);
    ptc_diag d;
    ptc_diag_init(&d, stderr);
    ptc_buf sip = PTC_BUF_INIT, prov = PTC_BUF_INIT, want = PTC_BUF_INIT;
    uint32_t pos = 0, off, len;
    unsigned line = 0, n = 0;
    while (ptc_rec_next_line(list, &pos, &off, &len, &line)) {
        ptc_rec r;
        ck_assert_int_eq(ptc_rec_parse(list, off, len, line, &r, &d), 0);
        ptc_phone_bind(&ph, p, list, &r, &env);
        /* [phoneprov] -> phoneprov/cid/<prov_file> */
        prov.len = 0;
        run_ctx(p, PTC_CTX_PHONEPROV, &ph, &prov);
        snprintf(path, sizeof path, "%s/conformance/07-callerid/expected/tree/phoneprov/%s/%s",
                 dir, ptc_phone_key(&ph, PTC_KEY_VENDOR, &env), ptc_phone_key(&ph, PTC_KEY_PROV_FILE, &env));
        want.len = 0;
        ck_assert_msg(ptc_read_file(path, &want) == 0, "cannot read %s", path);
        ck_assert_msg(want.len == prov.len && memcmp(want.data, prov.data, prov.len) == 0,
                      "%s: got [%s]", path, ptc_buf_cstr(&prov));
        /* [sip], each phone followed by an empty line */
        run_ctx(p, PTC_CTX_SIP, &ph, &sip);
        ptc_buf_putc(&sip, '\n');
        n++;
    }
    ck_assert_uint_eq(n, 5);
    snprintf(path, sizeof path, "%s/conformance/07-callerid/expected/tree/asterisk/includes/astlinux-phoneprov-sip.conf", dir);
    want.len = 0;
    ck_assert_int_eq(ptc_read_file(path, &want), 0);
    ck_assert_uint_ge(want.len, sip.len);
    ck_assert_msg(memcmp(want.data + want.len - sip.len, sip.data, sip.len) == 0,
                  "sip entries differ: got [%s]", ptc_buf_cstr(&sip));
    ptc_buf_free(&sip);
    ptc_buf_free(&prov);
    ptc_buf_free(&want);
    ptc_phone_free(&ph);
    ptc_prog_free(p);
    ptc_src_free(list);
    ptc_src_free(tsrc);
}
END_TEST

/* One phone from a massdeployment line, bound to template text; returns the
 * output of ctx. */
static char *phone_output(const char *tmpl, const char *phone_line, int ctx)
{
    ptc_prog *p = compile_str(tmpl);
    ptc_src *list = ptc_src_from_mem("list.conf", phone_line, strlen(phone_line));
    ptc_diag d;
    ptc_diag_init(&d, stderr);
    ptc_rec r;
    ck_assert_int_eq(ptc_rec_parse(list, 0, (uint32_t)strlen(phone_line), 1, &r, &d), 0);
    ptc_phone ph;
    ptc_phone_init(&ph);
    ptc_phone_bind(&ph, p, list, &r, &env);
    ptc_buf out = PTC_BUF_INIT;
    run_ctx(p, ctx, &ph, &out);
    ptc_phone_free(&ph);
    ptc_src_free(list);
    ptc_prog_free(p);
    return (char *)ptc_buf_cstr(&out);
}

#define ASSERT_OUTPUT(tmpl, phone, ctx, want) do {                             \
        char *got_ = phone_output((tmpl), (phone), (ctx));                    \
        ck_assert_str_eq(got_, (want));                                       \
        free(got_);                                                           \
    } while (0)

START_TEST(cid_cases_from_the_language_doc)
{
    const char *t = "[general]\n[phoneprov]\nn=[@CID_NAME@] [@CID_NUM@]\n";
    ASSERT_OUTPUT(t, "c 00:00:00:00:00:01 201/Alice_DECT<101> pw", PTC_CTX_PHONEPROV, "n=[Alice DECT] [101]\n");
    ASSERT_OUTPUT(t, "c 00:00:00:00:00:01 802/<102> pw", PTC_CTX_PHONEPROV, "n=[802] [102]\n");
    ASSERT_OUTPUT(t, "c 00:00:00:00:00:01 803/Bob_<12>_Smith pw", PTC_CTX_PHONEPROV, "n=[Bob] [12]\n");
    ASSERT_OUTPUT(t, "c 00:00:00:00:00:01 806/Name__ pw", PTC_CTX_PHONEPROV, "n=[Name ] [806]\n");
    ASSERT_OUTPUT(t, "c 00:00:00:00:00:01 808/x<12 pw", PTC_CTX_PHONEPROV, "n=[x] [808]\n");
    ASSERT_OUTPUT(t, "c 00:00:00:00:00:01 809/<_55_> pw", PTC_CTX_PHONEPROV, "n=[809] [55]\n");
    ASSERT_OUTPUT(t, "c 00:00:00:00:00:01 810/a/b pw", PTC_CTX_PHONEPROV, "n=[a/b] [810]\n");
    ASSERT_OUTPUT(t, "c 00:00:00:00:00:01 811/ pw", PTC_CTX_PHONEPROV, "n=[811] [811]\n");
    ASSERT_OUTPUT(t, "c 00:00:00:00:00:01 812/Q<*7#> pw", PTC_CTX_PHONEPROV, "n=[Q] [*7#]\n");
}
END_TEST

START_TEST(crlf_template)
{
    const char *t = "[general]\r\nvendor=acme\r\nprov_file=@EXT@.cfg\r\n[phoneprov]\r\nv=@VENDOR@\r\n";
    ASSERT_OUTPUT(t, "c 00:00:00:00:00:01 100 pw", PTC_CTX_PHONEPROV, "v=acme\r\n");
}
END_TEST

START_TEST(missing_password_is_empty)
{
    ASSERT_OUTPUT("[general]\n[sip]\nsecret=[@PASSWORD@] [@PASSWORD2@]\n",
                  "c 00:00:00:00:00:01 100;101", PTC_CTX_SIP, "secret=[] []\n");
}
END_TEST

/* ---- the dispatch loop itself --------------------------------------------- */

static void set_all(ptc_vm_rec *r, const char *v)
{
    for (int s = 0; s < PTC_SLOT_COUNT; s++) ptc_vm_set(r, s, v, strlen(v));
}

START_TEST(absent_context_emits_nothing)
{
    ptc_prog *p = compile_str("[general]\n[sip]\nx\n");
    ptc_vm_rec r;
    set_all(&r, "1");
    ptc_sink s;
    ptc_sink_init_mem(&s);
    ptc_vm_run(p, PTC_CTX_PHONEPROV, &r, &s);
    ptc_vm_run(p, PTC_CTX_GENERAL, &r, &s);     /* [general] emits no text */
    ck_assert_uint_eq(s.buf.len, 0);
    ptc_sink_free(&s);
    ptc_prog_free(p);
}
END_TEST

START_TEST(slot_values_are_never_rescanned)
{
    ptc_prog *p = compile_str("[general]\n[sip]\n<@EXT@|@PASSWORD@>\n");
    ptc_vm_rec r;
    set_all(&r, "");
    ptc_vm_set(&r, PTC_SLOT_EXT1, "@PASSWORD@", 10);
    ptc_vm_set(&r, PTC_SLOT_PASSWORD1, "&\\1|@EXT@", 9);
    ptc_sink s;
    ptc_sink_init_mem(&s);
    ptc_vm_run(p, PTC_CTX_SIP, &r, &s);
    ck_assert_mem_str(s.buf.data, s.buf.len, "<@PASSWORD@|&\\1|@EXT@>\n");
    ptc_sink_free(&s);
    ptc_prog_free(p);
}
END_TEST

START_TEST(values_may_hold_nul_and_newline_bytes)
{
    ptc_prog *p = compile_str("[general]\n[sip]\n\\[@EXT@]\n");
    ptc_vm_rec r;
    set_all(&r, "");
    ptc_vm_set(&r, PTC_SLOT_EXT1, "a\0b\nc", 5);
    ptc_sink s;
    ptc_sink_init_mem(&s);
    ptc_vm_run(p, PTC_CTX_SIP, &r, &s);
    ck_assert_uint_eq(s.buf.len, 8);
    ck_assert(memcmp(s.buf.data, "[a\0b\nc]\n", 8) == 0);
    ptc_sink_free(&s);
    ptc_prog_free(p);
}
END_TEST

START_TEST(guard_compares_whole_extension)
{
    ptc_prog *p = compile_str("[general]\n[sip]\n#<500>a\n#<!500!>b\n#<50>c\n");
    ptc_vm_rec r;
    set_all(&r, "");
    const char *exts[] = { "500", "5000", "50", "" };
    const char *want[] = { "a\n", "b\n", "b\nc\n", "b\n" };
    for (int i = 0; i < 4; i++) {
        ptc_vm_set(&r, PTC_SLOT_EXT1, exts[i], strlen(exts[i]));
        ptc_sink s;
        ptc_sink_init_mem(&s);
        ptc_vm_run(p, PTC_CTX_SIP, &r, &s);
        ck_assert_mem_str(s.buf.data, s.buf.len, want[i]);
        ptc_sink_free(&s);
    }
    ptc_prog_free(p);
}
END_TEST

START_TEST(general_only_assigns_wanted_keys)
{
    ptc_prog *p = compile_str("[general]\nvendor=v-@EXT@ x\nmodel=m\nprov_file=@CID_NAME@.cfg\n");
    ptc_vm_rec r;
    set_all(&r, "");
    ptc_vm_set(&r, PTC_SLOT_EXT1, "7 8", 3);         /* a value with a space */
    ptc_vm_set(&r, PTC_SLOT_CID_NAME1, "a/b", 3);
    ptc_vm_keys k;
    memset(&k, 0, sizeof k);
    ptc_vm_general(p, &r, 1u << PTC_KEY_MODEL, &k);
    ck_assert_uint_eq(k.set, 1u << PTC_KEY_MODEL);
    ck_assert_str_eq(ptc_buf_cstr(&k.val[PTC_KEY_MODEL]), "m");
    ptc_vm_general(p, &r, 1u << PTC_KEY_VENDOR | 1u << PTC_KEY_PROV_FILE, &k);
    ck_assert_uint_eq(k.set, 1u << PTC_KEY_MODEL | 1u << PTC_KEY_VENDOR | 1u << PTC_KEY_PROV_FILE);
    /* the value ends at its first space, even one from a variable */
    ck_assert_str_eq(ptc_buf_cstr(&k.val[PTC_KEY_VENDOR]), "v-7");
    ck_assert_str_eq(ptc_buf_cstr(&k.val[PTC_KEY_PROV_FILE]), "a/b.cfg");
    /* a `/` from a variable marks the key */
    ck_assert_uint_eq(k.tainted, 1u << PTC_KEY_PROV_FILE);
    ptc_vm_keys_free(&k);
    ptc_prog_free(p);
}
END_TEST

START_TEST(general_last_passing_definition_wins)
{
    ptc_prog *p = compile_str("[general]\nvendor=a\n#<1>vendor=b\nvendor=c\n#<2>vendor=d\n");
    ptc_vm_rec r;
    set_all(&r, "");
    ptc_vm_set(&r, PTC_SLOT_EXT1, "1", 1);
    ptc_vm_keys k;
    memset(&k, 0, sizeof k);
    ptc_vm_general(p, &r, ~0u, &k);
    ck_assert_str_eq(ptc_buf_cstr(&k.val[PTC_KEY_VENDOR]), "c");
    ptc_vm_set(&r, PTC_SLOT_EXT1, "2", 1);
    ptc_vm_general(p, &r, ~0u, &k);
    ck_assert_str_eq(ptc_buf_cstr(&k.val[PTC_KEY_VENDOR]), "d");
    ptc_vm_keys_free(&k);
    ptc_prog_free(p);
}
END_TEST

START_TEST(tainted_key_refuses_output_path)
{
    ptc_prog *p = compile_str("[general]\nprov_file=@CID_NAME@.cfg\n[phoneprov]\nx\n");
    const char *line = "c 00:00:00:00:00:01 100/a/b pw";
    ptc_src *list = ptc_src_from_mem("list.conf", line, strlen(line));
    ptc_diag d;
    ptc_diag_init(&d, stderr);
    ptc_rec r;
    ck_assert_int_eq(ptc_rec_parse(list, 0, (uint32_t)strlen(line), 1, &r, &d), 0);
    ptc_phone ph;
    ptc_phone_init(&ph);
    ptc_phone_bind(&ph, p, list, &r, &env);
    const char *why = NULL;
    ck_assert_ptr_null(ptc_phone_output_path(&ph, PTC_CTX_PHONEPROV, &env, &why));
    ck_assert_str_eq(why, "a `/` from phone data would choose the directory");
    ptc_phone_free(&ph);
    ptc_src_free(list);
    ptc_prog_free(p);
}
END_TEST

START_TEST(sink_flushes_to_a_descriptor)
{
    ptc_prog *p = compile_str("[general]\n[sip]\nabc@EXT@\n");
    ptc_vm_rec r;
    set_all(&r, "9");
    FILE *f = tmpfile();
    ck_assert_ptr_nonnull(f);
    ptc_sink s;
    ptc_sink_init_fd(&s, fileno(f));
    s.flush_at = 2;                             /* flush after nearly every put */
    for (int i = 0; i < 3; i++) ptc_vm_run(p, PTC_CTX_SIP, &r, &s);
    ck_assert_int_eq(ptc_sink_finish(&s), 0);
    ck_assert_uint_eq(s.written, 15);
    char buf[32] = "";
    rewind(f);
    ck_assert_uint_eq(fread(buf, 1, sizeof buf - 1, f), 15);
    ck_assert_str_eq(buf, "abc9\nabc9\nabc9\n");
    fclose(f);
    ptc_sink_free(&s);
    ptc_prog_free(p);
}
END_TEST

static Suite *vm_suite(void)
{
    Suite *s = suite_create("vm");
    TCase *tc = tcase_create("golden");
    tcase_add_test(tc, golden_text);
    tcase_add_test(tc, golden_variables);
    tcase_add_test(tc, golden_filters);
    tcase_add_test(tc, golden_filters_default);
    tcase_add_test(tc, golden_guards);
    tcase_add_test(tc, golden_escapes);
    tcase_add_test(tc, golden_unknown_words);
    tcase_add_test(tc, golden_literal_values);
    tcase_add_test(tc, golden_general_defaults);
    tcase_add_test(tc, golden_general_keys);
    tcase_add_test(tc, golden_general_order);
    tcase_add_test(tc, golden_general_accounts);
    tcase_add_test(tc, golden_general_guarded);
    tcase_add_test(tc, golden_contexts);
    suite_add_tcase(s, tc);

    tc = tcase_create("phones");
    tcase_add_test(tc, callerid_matches_conformance_vector);
    tcase_add_test(tc, cid_cases_from_the_language_doc);
    tcase_add_test(tc, crlf_template);
    tcase_add_test(tc, missing_password_is_empty);
    tcase_add_test(tc, tainted_key_refuses_output_path);
    suite_add_tcase(s, tc);

    tc = tcase_create("dispatch");
    tcase_add_test(tc, absent_context_emits_nothing);
    tcase_add_test(tc, slot_values_are_never_rescanned);
    tcase_add_test(tc, values_may_hold_nul_and_newline_bytes);
    tcase_add_test(tc, guard_compares_whole_extension);
    tcase_add_test(tc, general_only_assigns_wanted_keys);
    tcase_add_test(tc, general_last_passing_definition_wins);
    tcase_add_test(tc, sink_flushes_to_a_descriptor);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ptc_test_run(vm_suite());
}
