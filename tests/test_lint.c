/* ptc_lint: suggestions, classification, and the template and phone-list
 * checks through the library API (the CLI fixtures in tests/cli/lint.sh
 * cover every message's exact text).  Runs from the repository root. */
#include "testutil.h"
#include "ptc/lint.h"
#include "ptc/lang.h"

#define FIXTURES "tests/fixtures/lint"

/* A linter whose diagnostics land in a string (text format, no colour). */
typedef struct cap {
    char *text;
    size_t len;
    FILE *f;
    ptc_diag diag;
    ptc_cfg cfg;
    ptc_lint L;
} cap;

static void cap_open(cap *c)
{
    memset(c, 0, sizeof *c);
    c->f = open_memstream(&c->text, &c->len);
    ck_assert_ptr_nonnull(c->f);
    ptc_diag_init(&c->diag, c->f);
    ptc_lint_init(&c->L, &c->diag, NULL);
}

/* Flushes and returns what was reported so far. */
static const char *cap_text(cap *c)
{
    fflush(c->f);
    return c->text ? c->text : "";
}

static void cap_close(cap *c)
{
    ptc_lint_free(&c->L);
    fclose(c->f);
    free(c->text);
}

static ptc_src *mem(const char *name, const char *text)
{
    return ptc_src_from_mem(name, text, strlen(text));
}

START_TEST(suggest_typos)
{
    const char *const keys[] = {"prov_file", "auto_account_suffix", "auto_account_prefix", NULL};
    const char *const ctxs[] = {"general", "sip", "pjsip", "phoneprov", NULL};
    ck_assert_str_eq(ptc_diag_suggest("EXTT", 4, ptc_var_spellings), "EXT");
    ck_assert_str_eq(ptc_diag_suggest("ext", 3, ptc_var_spellings), "EXT");
    ck_assert_str_eq(ptc_diag_suggest("MAC_ADRESS", 10, ptc_var_spellings), "MAC_ADDR");
    ck_assert_str_eq(ptc_diag_suggest("ETX", 3, ptc_var_spellings), "EXT");
    ck_assert_str_eq(ptc_diag_suggest("account_suffix", 14, keys), "auto_account_suffix");
    ck_assert_str_eq(ptc_diag_suggest("Prov_File", 9, keys), "prov_file");
    ck_assert_str_eq(ptc_diag_suggest("phoneprv", 8, ctxs), "phoneprov");
}
END_TEST

START_TEST(suggest_nothing_far)
{
    const char *const names[] = {"three", "one", NULL};
    ck_assert_ptr_null(ptc_diag_suggest("nothere", 7, names));
    ck_assert_ptr_null(ptc_diag_suggest("host", 4, ptc_var_spellings));
    ck_assert_ptr_null(ptc_diag_suggest("FOOBAR", 6, ptc_var_spellings));
    ck_assert_ptr_null(ptc_diag_suggest("x", 1, NULL));
}
END_TEST

START_TEST(classify)
{
    ptc_src *t = mem("t", "# c\nmenu_name=x y z\n[general]\n");
    ptc_src *l = mem("l", "# template mac ext pw\none 00:11:22:33:44:55 201 pw\n");
    ptc_src *u = mem("u", "hello world\n  # a b c d\n");
    ptc_src *e = mem("e", "");
    ck_assert_int_eq(ptc_lint_classify(t), PTC_LINT_TEMPLATE);
    ck_assert_int_eq(ptc_lint_classify(l), PTC_LINT_LIST);
    ck_assert_int_eq(ptc_lint_classify(u), PTC_LINT_UNKNOWN);
    ck_assert_int_eq(ptc_lint_classify(e), PTC_LINT_UNKNOWN);
    ptc_src_free(t);
    ptc_src_free(l);
    ptc_src_free(u);
    ptc_src_free(e);
}
END_TEST

START_TEST(template_unknown_key_text)
{
    cap c;
    cap_open(&c);
    ptc_lint_template(&c.L, mem("y.conf", "[general]\naccount_suffix=_@MAC4@\n"), "y", NULL);
    ck_assert_str_eq(cap_text(&c),
        "y.conf:2:1: warning: unknown [general] key `account_suffix` is ignored; "
        "did you mean `auto_account_suffix`? [unknown-key]\n"
        "    account_suffix=_@MAC4@\n"
        "    ^\n");
    ck_assert_uint_eq(c.diag.warnings, 1);
    ck_assert_uint_eq(c.diag.errors, 0);
    cap_close(&c);
}
END_TEST

START_TEST(template_disabled_code)
{
    cap c;
    char *off[] = {"unknown-key", NULL};
    cap_open(&c);
    c.L.disabled = off;
    ptc_lint_template(&c.L, mem("y.conf", "[general]\naccount_suffix=x\nsql_enable=1\n"), "y", NULL);
    /* Turned off: neither printed nor counted; other checks still run. */
    ck_assert_uint_eq(c.diag.warnings, 0);
    ck_assert_uint_eq(c.diag.errors, 1);
    ck_assert_ptr_nonnull(strstr(cap_text(&c), "[bad-value]"));
    ck_assert_ptr_null(strstr(cap_text(&c), "unknown-key"));
    cap_close(&c);
}
END_TEST

START_TEST(template_lines_used)
{
    cap c;
    cap_open(&c);
    /* [general] does not count; the output contexts' highest index does. */
    ptc_lint_tmpl *a = ptc_lint_template(&c.L, mem("a.conf",
        "[general]\nprov_file=@EXT4@-@MAC@.cfg\n[sip]\n\\[@ACCOUNT@]\n[phoneprov]\nx=@USERNAME3@ @MAC@\n"),
        "a", NULL);
    ptc_lint_tmpl *b = ptc_lint_template(&c.L, mem("b.conf", "[general]\n[phoneprov]\nmac=@MAC@\n"), "b", NULL);
    ck_assert_uint_eq(a->lines_used, 3);
    ck_assert_uint_eq(b->lines_used, 0);
    ck_assert_ptr_nonnull(a->prog);
    ck_assert_str_eq(cap_text(&c), "");
    cap_close(&c);
}
END_TEST

START_TEST(template_xml_slots)
{
    cap c;
    cap_open(&c);
    ptc_lint_tmpl *t = ptc_lint_template(&c.L, mem("x.conf",
        "[general]\n[phoneprov]\n<a>@CID_NAME2@</a>\n<b>@EXT@ @USERNAME@</b>\n"), "x", NULL);
    ck_assert(t->xml_slots & (1ull << PTC_SLOT_CID_NAME2));
    ck_assert(t->xml_slots & (1ull << PTC_SLOT_ACCOUNT1));
    ck_assert(!(t->xml_slots & (1ull << PTC_SLOT_EXT1)));
    ck_assert_uint_eq(c.diag.warnings, 2);      /* one at each value, */
    ck_assert_uint_eq(c.diag.notes, 1);         /* one note */
    cap_close(&c);

    /* Escaped by a filter, or by the template's default: no warning, and
     * the phone list's xml-break has nothing to look at; raw opts out. */
    cap_open(&c);
    t = ptc_lint_template(&c.L, mem("y.conf",
        "[general]\n[phoneprov]\n<a>@CID_NAME2:xml@</a>\n<b>@USERNAME:upper:xml@</b>\n"), "y", NULL);
    ck_assert_uint_eq(t->xml_slots, 0);
    ck_assert_uint_eq(c.diag.warnings, 0);
    cap_close(&c);
    cap_open(&c);
    t = ptc_lint_template(&c.L, mem("z.conf",
        "[general]\nescape=xml\n[phoneprov]\n<a>@CID_NAME2@</a>\n<b>@USERNAME:raw@</b>\n"), "z", NULL);
    ck_assert(!(t->xml_slots & (1ull << PTC_SLOT_CID_NAME2)));
    ck_assert(t->xml_slots & (1ull << PTC_SLOT_ACCOUNT1));
    ck_assert_uint_eq(c.diag.warnings, 1);
    ck_assert_str_eq(cap_text(&c), "z.conf:5:4: warning: [phoneprov] is XML, and @USERNAME@ is inserted as typed: "
                     "write @USERNAME:xml@ (or escape=xml in [general]) [xml-unescaped]\n"
                     "    <b>@USERNAME:raw@</b>\n       ^\n"
                     "z.conf:5: note: a `&` or `<` in a CallerID name, password or account would make the phone's "
                     "file invalid XML; ptc lint on the phone list finds such values [xml-unescaped]\n");
    cap_close(&c);
}
END_TEST

START_TEST(template_syntax_error_stops_checks)
{
    cap c;
    cap_open(&c);
    ptc_lint_tmpl *t = ptc_lint_template(&c.L, mem("s.conf", "[general]\n[sip\nfoo=@EXTT@\n"), "s", NULL);
    ck_assert_ptr_null(t->prog);
    ck_assert_uint_eq(c.diag.errors, 1);
    ck_assert_uint_eq(c.diag.warnings, 0);     /* no cascade from the broken header */
    cap_close(&c);
}
END_TEST

START_TEST(list_against_fixture_templates)
{
    cap c;
    cap_open(&c);
    c.L.templates_dir = FIXTURES "/tmpl";
    ptc_src *l = mem("m.conf",
        "two 00:04:13:00:00:01 201 pw1\n"
        "one 00:04:13:00:00:02 202/A&B pw2\n"
        "one 00:04:13:00:00:01 203 pw3\n");
    ptc_lint_list(&c.L, l);
    const char *out = cap_text(&c);
    ck_assert_ptr_nonnull(strstr(out, "m.conf:1:23: warning: template \"two\" uses 2 lines but this phone "
                                      "gives 1 extension: line 2 repeats line 1's extension and account [fewer-lines]\n"));
    ck_assert_ptr_nonnull(strstr(out, "m.conf:3:5: error: MAC address 00:04:13:00:00:01 is also on line 1 [duplicate-mac]\n"));
    ck_assert_ptr_nonnull(strstr(out, "m.conf:1: note: line 1 has MAC address 00:04:13:00:00:01 too [duplicate-mac]\n"));
    /* one.conf is not XML: a `&` in the CallerID name is fine there. */
    ck_assert_ptr_null(strstr(out, "xml-break"));
    ck_assert_uint_eq(c.diag.errors, 1);
    ck_assert_uint_eq(c.diag.warnings, 1);
    /* The two templates were loaded once each, and are clean. */
    ck_assert_uint_eq(c.L.nt, 2);
    ptc_src_free(l);
    cap_close(&c);
}
END_TEST

START_TEST(list_password_masked)
{
    cap c;
    cap_open(&c);
    c.L.templates_dir = FIXTURES "/tmpl";
    ptc_src *l = mem("m.conf", "xmlphone 00:04:13:00:00:01 201 s3cr&t\n");
    ptc_lint_list(&c.L, l);
    const char *out = cap_text(&c);
    ck_assert_ptr_nonnull(strstr(out, "[xml-break]"));
    ck_assert_ptr_null(strstr(out, "s3cr&t"));
    ck_assert_ptr_nonnull(strstr(out, "xmlphone 00:04:13:00:00:01 201 ******\n"));
    ptc_src_free(l);
    cap_close(&c);
}
END_TEST

START_TEST(free_null)
{
    ptc_lint_free(NULL);
    ptc_lint L;
    ptc_lint_init(&L, NULL, NULL);
    ptc_lint_free(&L);
    ptc_lint_free(&L);
}
END_TEST

static Suite *lint_suite(void)
{
    Suite *s = suite_create("lint");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, suggest_typos);
    tcase_add_test(tc, suggest_nothing_far);
    tcase_add_test(tc, classify);
    tcase_add_test(tc, template_unknown_key_text);
    tcase_add_test(tc, template_disabled_code);
    tcase_add_test(tc, template_lines_used);
    tcase_add_test(tc, template_xml_slots);
    tcase_add_test(tc, template_syntax_error_stops_checks);
    tcase_add_test(tc, list_against_fixture_templates);
    tcase_add_test(tc, list_password_masked);
    tcase_add_test(tc, free_null);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ptc_test_run(lint_suite());
}
