/* The parser (grammar/parser.y): the IR it builds and every diagnostic it
 * gives, with exact text (file:line:col, source line, caret).
 *
 * The IR is rendered as text, one context a line:
 *   global: "menu_name=x" | "y"
 *   [sip]x2: "a" @EXT1 "b" | ONLY<201> "c" | EXCEPT<a,b> -
 * (xN: the number of headers that opened it; `-` a line with no segments). */
#include "testutil.h"
#include "ptc/parse.h"
#include "ptc/comp.h"
#include "ptc/buf.h"

typedef struct parsed {
    ptc_src *src;
    ptc_ir *ir;
    ptc_diag d;
    FILE *f;
    char *diag;                 /* the diagnostics printed */
    size_t diaglen;
} parsed;

static void parse_mem(parsed *P, const char *text, size_t len)
{
    memset(P, 0, sizeof *P);
    P->f = open_memstream(&P->diag, &P->diaglen);
    ptc_diag_init(&P->d, P->f);
    P->src = ptc_src_from_mem("t.conf", text, len);
    P->ir = ptc_parse(P->src, &P->d);
    ck_assert_ptr_nonnull(P->ir);
    fflush(P->f);
}

static void parse_str(parsed *P, const char *text)
{
    parse_mem(P, text, strlen(text));
}

static void parsed_free(parsed *P)
{
    ptc_ir_free(P->ir);
    ptc_src_free(P->src);
    fclose(P->f);
    free(P->diag);
}

static void render_lines(ptc_buf *b, const ptc_ir *ir, const ptc_ir_line *l)
{
    const char *t = ir->src->text;
    for (int first = 1; l; l = l->next, first = 0) {
        if (!first) ptc_buf_puts(b, " |");
        if (l->guard != PTC_GUARD_NONE) {
            ptc_buf_puts(b, l->guard == PTC_GUARD_ONLY ? " ONLY<" : " EXCEPT<");
            for (const ptc_ir_ext *e = l->exts; e; e = e->next)
                ptc_buf_printf(b, "%.*s%s", (int)e->len, t + e->off, e->next ? "," : "");
            ptc_buf_putc(b, '>');
        }
        if (!l->segs) ptc_buf_puts(b, " -");
        for (const ptc_ir_seg *s = l->segs; s; s = s->next) {
            if (s->kind == PTC_SEG_TEXT) ptc_buf_printf(b, " \"%.*s\"", (int)s->len, t + s->off);
            else ptc_buf_printf(b, " @%s", ptc_slot_names[s->slot]);
        }
    }
}

static char *render_ir(const ptc_ir *ir)
{
    ptc_buf b = PTC_BUF_INIT;
    if (ir->global_first) {
        ptc_buf_puts(&b, "global:");
        render_lines(&b, ir, ir->global_first);
        ptc_buf_putc(&b, '\n');
    }
    for (int c = 0; c < PTC_CTX_COUNT; c++) {
        const ptc_ir_context *cx = &ir->ctx[c];
        if (!cx->present) { ck_assert_ptr_null(cx->first); continue; }
        ptc_buf_printf(&b, "[%s]x%u:", ptc_ctx_names[c], cx->parts);
        render_lines(&b, ir, cx->first);
        ptc_buf_putc(&b, '\n');
    }
    return (char *)ptc_buf_cstr(&b);
}

#define ASSERT_IR(P, want) do {                                                \
        char *got_ = render_ir((P)->ir);                                      \
        ck_assert_str_eq(got_, (want));                                       \
        free(got_);                                                           \
    } while (0)

/* ---- IR shape ------------------------------------------------------------- */

START_TEST(contexts_and_lines)
{
    parsed P;
    parse_str(&P, "[general]\nvendor=x\n[dialplan]\nexten => @EXT@,1\n[phoneprov]\nu=@USERNAME2@\n");
    ck_assert_uint_eq(P.d.errors + P.d.warnings, 0);
    ASSERT_IR(&P, "[general]x1: \"vendor=x\"\n"
                  "[dialplan]x1: \"exten => \" @EXT1 \",1\"\n"
                  "[phoneprov]x1: \"u=\" @ACCOUNT2\n");
    parsed_free(&P);
}
END_TEST

START_TEST(repeated_context_is_joined)
{
    parsed P;
    parse_str(&P, "[general]\n[sip]\na\n[phoneprov]\np\n[sip]\nb\n[sip]\n[sip]\nc\n");
    ck_assert_uint_eq(P.d.errors + P.d.warnings, 0);
    ASSERT_IR(&P, "[general]x1:\n"
                  "[sip]x4: \"a\" | \"b\" | \"c\"\n"
                  "[phoneprov]x1: \"p\"\n");
    parsed_free(&P);
}
END_TEST

START_TEST(repeated_header_right_after_its_part)
{
    parsed P;
    parse_str(&P, "[general]\n[sip]\na\n[sip]\nb\n");
    ASSERT_IR(&P, "[general]x1:\n[sip]x2: \"a\" | \"b\"\n");
    parsed_free(&P);
}
END_TEST

START_TEST(global_section_lines)
{
    parsed P;
    parse_str(&P, "# comment\nmenu_name=Acme desk\n\nstray text\n[general]\nk=v\n");
    ASSERT_IR(&P, "global: \"menu_name=Acme desk\" | \"stray text\"\n"
                  "[general]x1: \"k=v\"\n");
    ck_assert_ptr_eq(P.ir->global_first->next, P.ir->global_last);
    parsed_free(&P);
}
END_TEST

START_TEST(headers_are_recorded_in_order)
{
    parsed P;
    parse_str(&P, "[general]\n[foo]\n[sip] trailing\n");
    const ptc_ir_header *h = P.ir->headers;
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(h->ctx, PTC_CTX_GENERAL);
    ck_assert_uint_eq(h->off, 0);
    ck_assert_uint_eq(h->name_off, 1); ck_assert_uint_eq(h->name_len, 7);
    h = h->next;
    ck_assert_int_eq(h->ctx, -1);
    ck_assert_uint_eq(h->off, 10);
    h = h->next;
    ck_assert_int_eq(h->ctx, PTC_CTX_SIP);
    ck_assert_uint_eq(h->name_len, 3);
    ck_assert_ptr_null(h->next);
    ck_assert_ptr_eq(h, P.ir->headers_last);
    parsed_free(&P);
}
END_TEST

START_TEST(unknown_context_warns_and_ignores_lines)
{
    parsed P;
    parse_str(&P, "[general]\nv=1\n[bogus]\nignored\nalso\n[sip]\nkept\n");
    ck_assert_uint_eq(P.d.errors, 0);
    ck_assert_uint_eq(P.d.warnings, 1);
    ck_assert_str_eq(P.diag,
        "t.conf:3:2: warning: unknown context [bogus]: its lines are ignored [unknown-context]\n"
        "    [bogus]\n"
        "     ^\n");
    ck_assert_uint_eq(P.ir->nlines_ignored, 2);
    ASSERT_IR(&P, "[general]x1: \"v=1\"\n[sip]x1: \"kept\"\n");
    parsed_free(&P);
}
END_TEST

START_TEST(unknown_context_ends_previous_context)
{
    parsed P;
    parse_str(&P, "[general]\n[sip]\na\n[Sip]\nb\n");
    ck_assert_uint_eq(P.d.warnings, 1);
    ASSERT_IR(&P, "[general]x1:\n[sip]x1: \"a\"\n");
    parsed_free(&P);
}
END_TEST

START_TEST(guard_ext_lists)
{
    parsed P;
    parse_str(&P, "[general]\n[sip]\n#<201>a\n#<!500!>b\n#<!a!b!c!>c\n#<!*72!70#!>d\n#<*72>e\n#<!x!!y!>f\n");
    ck_assert_uint_eq(P.d.errors + P.d.warnings, 0);
    ASSERT_IR(&P, "[general]x1:\n"
                  "[sip]x1: ONLY<201> \"a\" | EXCEPT<500> \"b\" | EXCEPT<a,b,c> \"c\" |"
                  " EXCEPT<*72,70#> \"d\" | ONLY<*72> \"e\" | EXCEPT<x,y> \"f\"\n");
    parsed_free(&P);
}
END_TEST

START_TEST(guard_location_and_line_offset)
{
    parsed P;
    parse_str(&P, "[general]\n[sip]\n#<!5!6!>x\n");
    const ptc_ir_line *l = P.ir->ctx[PTC_CTX_SIP].first;
    ck_assert_uint_eq(l->off, 16);
    ck_assert_uint_eq(l->guard_off, 16);
    ck_assert_uint_eq(l->guard_len, 8);
    ck_assert_uint_eq(l->exts->off, 19);
    ck_assert_uint_eq(l->exts->next->off, 21);
    ck_assert_uint_eq(l->segs->off, 24);
    parsed_free(&P);
}
END_TEST

START_TEST(guard_with_nothing_after_has_no_segments)
{
    parsed P;
    parse_str(&P, "[general]\n[sip]\n#<201>\n#<202># comment\nz\n");
    ASSERT_IR(&P, "[general]x1:\n[sip]x1: ONLY<201> - | ONLY<202> - | \"z\"\n");
    parsed_free(&P);
}
END_TEST

START_TEST(segments_of_escapes_and_at_signs)
{
    parsed P;
    parse_str(&P, "[general]\n[sip]\n\\[@ACCOUNT@]\n\\#x\na@@b\n@FOO@EXT@\n");
    ASSERT_IR(&P, "[general]x1:\n[sip]x1: \"[\" @ACCOUNT1 \"]\" | \"#\" \"x\" |"
                  " \"a\" \"@\" \"@\" \"b\" | \"@\" \"FOO\" @EXT1\n");
    parsed_free(&P);
}
END_TEST

START_TEST(line_offset_skips_comments_before_it)
{
    parsed P;
    parse_str(&P, "[general]\n[sip]\n# c\n\nabc\n");
    ck_assert_uint_eq(P.ir->ctx[PTC_CTX_SIP].first->off, 21);
    parsed_free(&P);
}
END_TEST

START_TEST(missing_final_newline_keeps_last_line)
{
    parsed P;
    parse_str(&P, "[general]\n[sip]\nlast");
    ck_assert_uint_eq(P.d.errors, 0);
    ASSERT_IR(&P, "[general]x1:\n[sip]x1: \"last\"\n");
    parsed_free(&P);
}
END_TEST

START_TEST(empty_template_parses)
{
    parsed P;
    parse_str(&P, "");
    ck_assert_uint_eq(P.d.errors, 0);
    ASSERT_IR(&P, "");
    parsed_free(&P);
}
END_TEST

/* ---- errors --------------------------------------------------------------- */

START_TEST(error_unterminated_header)
{
    parsed P;
    parse_str(&P, "# t\n\n[general\nvendor=x\n");
    ck_assert_uint_eq(P.d.errors, 1);
    ck_assert_str_eq(P.diag,
        "t.conf:3:9: error: unterminated context header: expected `]` [syntax]\n"
        "    [general\n"
        "            ^\n");
    parsed_free(&P);
}
END_TEST

START_TEST(error_unterminated_header_at_end_of_file)
{
    parsed P;
    parse_str(&P, "[general]\n[sip");
    ck_assert_uint_eq(P.d.errors, 1);
    ck_assert_str_eq(P.diag,
        "t.conf:2:5: error: unterminated context header: expected `]` [syntax]\n"
        "    [sip\n"
        "        ^\n");
    parsed_free(&P);
}
END_TEST

START_TEST(error_empty_header)
{
    parsed P;
    parse_str(&P, "[general]\n[]\n");
    ck_assert_uint_eq(P.d.errors, 1);
    ck_assert_str_eq(P.diag,
        "t.conf:2:2: error: empty context header: expected a name between `[` and `]` [syntax]\n"
        "    []\n"
        "     ^\n");
    parsed_free(&P);
}
END_TEST

START_TEST(error_empty_header_with_trailing_text)
{
    parsed P;
    parse_str(&P, "[] x\n[general]\n");
    ck_assert_uint_eq(P.d.errors, 1);
    ck_assert_str_eq(P.diag,
        "t.conf:1:2: error: empty context header: expected a name between `[` and `]` [syntax]\n"
        "    [] x\n"
        "     ^\n");
    ck_assert(P.ir->ctx[PTC_CTX_GENERAL].present);
    parsed_free(&P);
}
END_TEST

START_TEST(error_nul_byte)
{
    parsed P;
    parse_mem(&P, "[general]\na\0b\n", 14);
    ck_assert_uint_eq(P.d.errors, 1);
    ck_assert_str_eq(P.diag,
        "t.conf:2:2: error: NUL byte in template text [syntax]\n"
        "    a?b\n"
        "     ^\n");
    parsed_free(&P);
}
END_TEST

START_TEST(error_nul_byte_at_line_start_and_in_header)
{
    parsed P;
    parse_mem(&P, "\0x\n[gen\0]\n", 10);
    ck_assert_uint_eq(P.d.errors, 2);
    ck_assert_str_eq(P.diag,
        "t.conf:1:1: error: NUL byte in template text [syntax]\n"
        "    ?x\n"
        "    ^\n"
        "t.conf:2:5: error: NUL byte in template text [syntax]\n"
        "    [gen?]\n"
        "        ^\n");
    parsed_free(&P);
}
END_TEST

START_TEST(error_caret_follows_tabs)
{
    parsed P;
    parse_mem(&P, "[general]\n\tab\0c\n", 16);
    ck_assert_str_eq(P.diag,
        "t.conf:2:4: error: NUL byte in template text [syntax]\n"
        "    \tab?c\n"
        "    \t  ^\n");
    parsed_free(&P);
}
END_TEST

START_TEST(every_error_in_a_file_is_reported)
{
    parsed P;
    parse_mem(&P, "# c\n\n[general\nvendor=x\n[]\na\0b\n[general]\n[sip] x\n[bogus]\nline\n[sip\nok\n", 66);
    ck_assert_uint_eq(P.d.errors, 4);
    ck_assert_uint_eq(P.d.warnings, 1);
    ck_assert_str_eq(P.diag,
        "t.conf:3:9: error: unterminated context header: expected `]` [syntax]\n"
        "    [general\n"
        "            ^\n"
        "t.conf:5:2: error: empty context header: expected a name between `[` and `]` [syntax]\n"
        "    []\n"
        "     ^\n"
        "t.conf:6:2: error: NUL byte in template text [syntax]\n"
        "    a?b\n"
        "     ^\n"
        "t.conf:9:2: warning: unknown context [bogus]: its lines are ignored [unknown-context]\n"
        "    [bogus]\n"
        "     ^\n"
        "t.conf:11:5: error: unterminated context header: expected `]` [syntax]\n"
        "    [sip\n"
        "        ^\n");
    /* recovery resumes at the next line: the good lines are all there */
    ASSERT_IR(&P, "global: \"vendor=x\"\n[general]x1:\n[sip]x1:\n");
    parsed_free(&P);
}
END_TEST

START_TEST(consecutive_bad_lines_each_reported)
{
    parsed P;
    parse_str(&P, "[a\n[b\n[c\n[general]\n");
    ck_assert_uint_eq(P.d.errors, 3);
    ck_assert_ptr_nonnull(strstr(P.diag, "t.conf:1:3: error"));
    ck_assert_ptr_nonnull(strstr(P.diag, "t.conf:2:3: error"));
    ck_assert_ptr_nonnull(strstr(P.diag, "t.conf:3:3: error"));
    parsed_free(&P);
}
END_TEST

START_TEST(error_in_json_format)
{
    parsed P;
    memset(&P, 0, sizeof P);
    P.f = open_memstream(&P.diag, &P.diaglen);
    ptc_diag_init(&P.d, P.f);
    P.d.format = PTC_FMT_JSON;
    P.src = ptc_src_from_mem("t.conf", "[general\n", 9);
    P.ir = ptc_parse(P.src, &P.d);
    fflush(P.f);
    ck_assert_str_eq(P.diag,
        "{\"file\":\"t.conf\",\"line\":1,\"column\":9,\"severity\":\"error\",\"code\":\"syntax\","
        "\"message\":\"unterminated context header: expected `]`\"}\n");
    parsed_free(&P);
}
END_TEST

/* ---- errors from the compiler (through ptc_comp_source) ------------------- */

static char *compile_diag(const char *text, ptc_prog **prog, unsigned *errors)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ptc_diag d;
    ptc_diag_init(&d, f);
    ptc_src *src = ptc_src_from_mem("t.conf", text, strlen(text));
    *prog = ptc_comp_source(src, &d);
    *errors = d.errors;
    fclose(f);
    ptc_src_free(src);
    return buf;
}

START_TEST(no_general_is_an_error)
{
    ptc_prog *p;
    unsigned errors;
    char *diag = compile_diag("menu_name=x\n[sip]\na\n", &p, &errors);
    ck_assert_ptr_null(p);
    ck_assert_uint_eq(errors, 1);
    ck_assert_str_eq(diag,
        "t.conf:1:1: error: no [general] context: a template needs one (it may be empty) [no-general]\n"
        "    menu_name=x\n"
        "    ^\n");
    free(diag);
}
END_TEST

START_TEST(no_general_in_empty_file)
{
    ptc_prog *p;
    unsigned errors;
    char *diag = compile_diag("", &p, &errors);
    ck_assert_ptr_null(p);
    ck_assert_uint_eq(errors, 1);
    ck_assert_ptr_nonnull(strstr(diag, "t.conf:1:1: error: no [general] context"));
    free(diag);
}
END_TEST

START_TEST(general_only_under_unknown_spelling_is_missing)
{
    ptc_prog *p;
    unsigned errors;
    char *diag = compile_diag("[General]\nvendor=x\n", &p, &errors);
    ck_assert_ptr_null(p);
    ck_assert_uint_eq(errors, 1);
    ck_assert_ptr_nonnull(strstr(diag, "warning: unknown context [General]"));
    ck_assert_ptr_nonnull(strstr(diag, "[no-general]"));
    free(diag);
}
END_TEST

START_TEST(syntax_errors_stop_before_compiling)
{
    ptc_prog *p;
    unsigned errors;
    char *diag = compile_diag("[sip\n", &p, &errors);
    ck_assert_ptr_null(p);
    ck_assert_uint_eq(errors, 1);            /* no extra "no [general]" */
    ck_assert_ptr_null(strstr(diag, "no-general"));
    free(diag);
}
END_TEST

START_TEST(empty_general_compiles)
{
    ptc_prog *p;
    unsigned errors;
    char *diag = compile_diag("[general]\n", &p, &errors);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(errors, 0);
    ck_assert_str_eq(diag, "");
    ptc_prog_free(p);
    free(diag);
}
END_TEST

static Suite *parse_suite(void)
{
    Suite *s = suite_create("parse");
    TCase *tc = tcase_create("ir");
    tcase_add_test(tc, contexts_and_lines);
    tcase_add_test(tc, repeated_context_is_joined);
    tcase_add_test(tc, repeated_header_right_after_its_part);
    tcase_add_test(tc, global_section_lines);
    tcase_add_test(tc, headers_are_recorded_in_order);
    tcase_add_test(tc, unknown_context_warns_and_ignores_lines);
    tcase_add_test(tc, unknown_context_ends_previous_context);
    tcase_add_test(tc, guard_ext_lists);
    tcase_add_test(tc, guard_location_and_line_offset);
    tcase_add_test(tc, guard_with_nothing_after_has_no_segments);
    tcase_add_test(tc, segments_of_escapes_and_at_signs);
    tcase_add_test(tc, line_offset_skips_comments_before_it);
    tcase_add_test(tc, missing_final_newline_keeps_last_line);
    tcase_add_test(tc, empty_template_parses);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, error_unterminated_header);
    tcase_add_test(tc, error_unterminated_header_at_end_of_file);
    tcase_add_test(tc, error_empty_header);
    tcase_add_test(tc, error_empty_header_with_trailing_text);
    tcase_add_test(tc, error_nul_byte);
    tcase_add_test(tc, error_nul_byte_at_line_start_and_in_header);
    tcase_add_test(tc, error_caret_follows_tabs);
    tcase_add_test(tc, every_error_in_a_file_is_reported);
    tcase_add_test(tc, consecutive_bad_lines_each_reported);
    tcase_add_test(tc, error_in_json_format);
    suite_add_tcase(s, tc);

    tc = tcase_create("compile-errors");
    tcase_add_test(tc, no_general_is_an_error);
    tcase_add_test(tc, no_general_in_empty_file);
    tcase_add_test(tc, general_only_under_unknown_spelling_is_missing);
    tcase_add_test(tc, syntax_errors_stop_before_compiling);
    tcase_add_test(tc, empty_general_compiles);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ptc_test_run(parse_suite());
}
