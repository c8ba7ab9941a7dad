/* The template lexer (grammar/lexer.re): token streams for every line form.
 *
 * A stream is rendered as one string, e.g. "ONLY(201) TEXT(x) NL END", so a
 * test states the whole expected sequence at once.  CLOSE shows the whole
 * token (the `]` and what follows it on the line); every other token shows its
 * payload.  Bytes \r, \n, \t and \0 are shown escaped. */
#include "testutil.h"
#include "ptc/lex.h"
#include "ptc/lang.h"
#include "ptc/buf.h"

static void put_esc(ptc_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r') ptc_buf_puts(b, "\\r");
        else if (s[i] == '\n') ptc_buf_puts(b, "\\n");
        else if (s[i] == '\t') ptc_buf_puts(b, "\\t");
        else if (s[i] == '\0') ptc_buf_puts(b, "\\0");
        else ptc_buf_putc(b, s[i]);
    }
}

/* Lexes text[0..len) to the end; diagnostics go to diag_out (may be NULL:
 * then they are discarded).  Also checks that every token lies inside the
 * source and its payload inside the token.  Caller frees the result. */
static char *lex_dump_diag(const char *text, size_t len, char **diag_out, unsigned *warnings)
{
    char *dtext = NULL;
    size_t dlen = 0;
    FILE *f = open_memstream(&dtext, &dlen);
    ptc_diag d;
    ptc_diag_init(&d, f);
    ptc_src *src = ptc_src_from_mem("t.conf", text, len);
    ptc_lex lx;
    ptc_lex_init(&lx, src, &d);
    ptc_buf out = PTC_BUF_INIT;
    ptc_tok t;
    for (int guard = 0; guard < 1000; guard++) {
        ptc_tok_kind k = ptc_lex_next(&lx, &t);
        ck_assert_uint_le(t.off + t.len, len);
        if (k != PTC_TOK_NL && k != PTC_TOK_END && k != PTC_TOK_HDR_CLOSE) {
            ck_assert_uint_ge(t.val_off, t.off);
            ck_assert_uint_le(t.val_off + t.val_len, t.off + t.len);
        }
        if (out.len) ptc_buf_putc(&out, ' ');
        const char *v = src->text + t.val_off;
        switch (k) {
        case PTC_TOK_END:       ptc_buf_puts(&out, "END"); break;
        case PTC_TOK_NL:        ptc_buf_puts(&out, "NL"); break;
        case PTC_TOK_HDR_OPEN:  ptc_buf_puts(&out, "OPEN"); break;
        case PTC_TOK_NUL:       ptc_buf_puts(&out, "NUL"); break;
        case PTC_TOK_HDR_NAME:  ptc_buf_puts(&out, "NAME("); put_esc(&out, v, t.val_len); ptc_buf_putc(&out, ')'); break;
        case PTC_TOK_HDR_CLOSE: ptc_buf_puts(&out, "CLOSE("); put_esc(&out, src->text + t.off, t.len); ptc_buf_putc(&out, ')'); break;
        case PTC_TOK_GUARD_ONLY:   ptc_buf_puts(&out, "ONLY("); put_esc(&out, v, t.val_len); ptc_buf_putc(&out, ')'); break;
        case PTC_TOK_GUARD_EXCEPT: ptc_buf_puts(&out, "EXCEPT("); put_esc(&out, v, t.val_len); ptc_buf_putc(&out, ')'); break;
        case PTC_TOK_TEXT:      ptc_buf_puts(&out, "TEXT("); put_esc(&out, v, t.val_len); ptc_buf_putc(&out, ')'); break;
        case PTC_TOK_VAR:
            ck_assert_int_ge(t.slot, 0);
            ck_assert_int_lt(t.slot, PTC_SLOT_COUNT);
            ptc_buf_printf(&out, "VAR(%s", ptc_slot_names[t.slot]);
            if (t.filters) {
                char chain[64];
                ptc_filter_chain_text(t.filters, chain, sizeof chain);
                ptc_buf_printf(&out, ":%s", chain);
            }
            ptc_buf_putc(&out, ')');
            break;
        }
        if (k == PTC_TOK_END) break;
    }
    /* END is sticky. */
    ck_assert_int_eq(ptc_lex_next(&lx, &t), PTC_TOK_END);
    ck_assert_int_eq(ptc_lex_next(&lx, &t), PTC_TOK_END);
    if (warnings) *warnings = d.warnings;
    ck_assert_uint_eq(d.errors, 0);
    fclose(f);
    if (diag_out) *diag_out = dtext; else free(dtext);
    ptc_src_free(src);
    return (char *)ptc_buf_cstr(&out);
}

#define ASSERT_LEX_MEM(text, len, want) do {                                  \
        char *got_ = lex_dump_diag((text), (len), NULL, NULL);                \
        ck_assert_str_eq(got_, (want));                                       \
        free(got_);                                                           \
    } while (0)
#define ASSERT_LEX(text, want) ASSERT_LEX_MEM(text, strlen(text), want)

/* ---- context headers ------------------------------------------------------ */

START_TEST(header_tokens)
{
    ASSERT_LEX("[general]\n", "OPEN NAME(general) CLOSE(]) NL END");
    ASSERT_LEX("[dialplan6]\n[phoneprov]\n",
               "OPEN NAME(dialplan6) CLOSE(]) NL OPEN NAME(phoneprov) CLOSE(]) NL END");
}
END_TEST

START_TEST(header_trailing_text_belongs_to_close)
{
    ASSERT_LEX("[sip] ; peers @EXT@\nx\n", "OPEN NAME(sip) CLOSE(] ; peers @EXT@) NL TEXT(x) NL END");
}
END_TEST

START_TEST(header_name_is_verbatim)
{
    ASSERT_LEX("[ General ]\n", "OPEN NAME( General ) CLOSE(]) NL END");
}
END_TEST

START_TEST(header_unterminated_and_empty)
{
    ASSERT_LEX("[general\n", "OPEN NAME(general) NL END");
    ASSERT_LEX("[]\n", "OPEN CLOSE(]) NL END");
    ASSERT_LEX("[", "OPEN NL END");
}
END_TEST

START_TEST(bracket_inside_line_is_text)
{
    ASSERT_LEX("a[b]\n", "TEXT(a[b]) NL END");
    ASSERT_LEX(" [sip]\n", "TEXT( [sip]) NL END");
}
END_TEST

START_TEST(close_token_offsets)
{
    const char *s = "[sip] x\n";
    ptc_src *src = ptc_src_from_mem("t.conf", s, strlen(s));
    ptc_lex lx;
    ptc_tok t;
    ptc_lex_init(&lx, src, NULL);
    ck_assert_int_eq(ptc_lex_next(&lx, &t), PTC_TOK_HDR_OPEN);
    ck_assert_uint_eq(t.off, 0); ck_assert_uint_eq(t.len, 1);
    ck_assert_int_eq(ptc_lex_next(&lx, &t), PTC_TOK_HDR_NAME);
    ck_assert_uint_eq(t.val_off, 1); ck_assert_uint_eq(t.val_len, 3);
    ck_assert_int_eq(ptc_lex_next(&lx, &t), PTC_TOK_HDR_CLOSE);
    ck_assert_uint_eq(t.off, 4); ck_assert_uint_eq(t.len, 3);
    ck_assert_uint_eq(t.val_off, 4); ck_assert_uint_eq(t.val_len, 1);
    ck_assert_int_eq(ptc_lex_next(&lx, &t), PTC_TOK_NL);
    ck_assert_uint_eq(t.off, 7);
    ptc_src_free(src);
}
END_TEST

/* ---- comments and escapes ------------------------------------------------- */

START_TEST(comments_produce_no_tokens)
{
    ASSERT_LEX("# one\n#two\n#\n", "END");
    ASSERT_LEX("# c\ntext\n# c\n", "TEXT(text) NL END");
}
END_TEST

START_TEST(indented_hash_is_text)
{
    ASSERT_LEX("  # note\n", "TEXT(  # note) NL END");
    ASSERT_LEX("a#b\n", "TEXT(a#b) NL END");
}
END_TEST

START_TEST(escapes_at_line_start)
{
    ASSERT_LEX("\\#!version:1\n", "TEXT(#) TEXT(!version:1) NL END");
    ASSERT_LEX("\\[@ACCOUNT@]\n", "TEXT([) VAR(ACCOUNT1) TEXT(]) NL END");
    ASSERT_LEX("\\#\n", "TEXT(#) NL END");
}
END_TEST

START_TEST(backslash_elsewhere_is_text)
{
    ASSERT_LEX("\\x\n", "TEXT(\\x) NL END");
    ASSERT_LEX("a\\#b\n", "TEXT(a\\#b) NL END");
    ASSERT_LEX("\\\\#\n", "TEXT(\\\\#) NL END");
}
END_TEST

START_TEST(escape_token_covers_backslash)
{
    const char *s = "\\#x\n";
    ptc_src *src = ptc_src_from_mem("t.conf", s, strlen(s));
    ptc_lex lx;
    ptc_tok t;
    ptc_lex_init(&lx, src, NULL);
    ck_assert_int_eq(ptc_lex_next(&lx, &t), PTC_TOK_TEXT);
    ck_assert_uint_eq(t.off, 0); ck_assert_uint_eq(t.len, 2);
    ck_assert_uint_eq(t.val_off, 1); ck_assert_uint_eq(t.val_len, 1);
    ptc_src_free(src);
}
END_TEST

START_TEST(after_guard_escapes_and_comment)
{
    ASSERT_LEX("#<201>\\#a\n", "ONLY(201) TEXT(#) TEXT(a) NL END");
    ASSERT_LEX("#<201>\\[b\n", "ONLY(201) TEXT([) TEXT(b) NL END");
    /* `#` right after a guard: the rest is a comment, the line is empty */
    ASSERT_LEX("#<201>#c\nx\n", "ONLY(201) NL TEXT(x) NL END");
    /* `[` after a guard does not open a context */
    ASSERT_LEX("#<201>[d]\n", "ONLY(201) TEXT([d]) NL END");
    ASSERT_LEX("#<!1!>\\#e\n", "EXCEPT(1) TEXT(#) TEXT(e) NL END");
}
END_TEST

/* ---- guards --------------------------------------------------------------- */

START_TEST(positive_guard)
{
    ASSERT_LEX("#<201>nat=no\n", "ONLY(201) TEXT(nat=no) NL END");
    ASSERT_LEX("#<201>\n", "ONLY(201) NL END");
    ASSERT_LEX("#<201>@EXT@\n", "ONLY(201) VAR(EXT1) NL END");
}
END_TEST

START_TEST(negative_guard_single_and_many)
{
    ASSERT_LEX("#<!500!>x\n", "EXCEPT(500) TEXT(x) NL END");
    ASSERT_LEX("#<!500!501!502!>x\n", "EXCEPT(500!501!502) TEXT(x) NL END");
}
END_TEST

START_TEST(guards_with_star_and_hash)
{
    ASSERT_LEX("#<*72>fwd\n", "ONLY(*72) TEXT(fwd) NL END");
    ASSERT_LEX("#<70#>hash=yes\n", "ONLY(70#) TEXT(hash=yes) NL END");
    ASSERT_LEX("#<!*72!70#!>plain\n", "EXCEPT(*72!70#) TEXT(plain) NL END");
}
END_TEST

START_TEST(guard_offsets)
{
    const char *s = "#<!a!b!>x\n";
    ptc_src *src = ptc_src_from_mem("t.conf", s, strlen(s));
    ptc_lex lx;
    ptc_tok t;
    ptc_lex_init(&lx, src, NULL);
    ck_assert_int_eq(ptc_lex_next(&lx, &t), PTC_TOK_GUARD_EXCEPT);
    ck_assert_uint_eq(t.off, 0); ck_assert_uint_eq(t.len, 8);
    ck_assert_uint_eq(t.val_off, 3); ck_assert_uint_eq(t.val_len, 3);
    ptc_src_free(src);
}
END_TEST

START_TEST(empty_guard_warns_and_drops_line)
{
    char *diag = NULL;
    unsigned w = 0;
    char *got = lex_dump_diag("a\n#<>x\nb\n", 9, &diag, &w);
    ck_assert_str_eq(got, "TEXT(a) NL TEXT(b) NL END");
    ck_assert_uint_eq(w, 1);
    ck_assert_str_eq(diag,
        "t.conf:2:1: warning: empty guard `#<>` matches no extension: the line is a comment [guard-empty]\n"
        "    #<>x\n"
        "    ^\n");
    free(got);
    free(diag);
}
END_TEST

START_TEST(unterminated_guard_warns_and_drops_line)
{
    char *diag = NULL;
    unsigned w = 0;
    char *got = lex_dump_diag("#<500 text\nb\n", 13, &diag, &w);
    ck_assert_str_eq(got, "TEXT(b) NL END");
    ck_assert_uint_eq(w, 1);
    ck_assert_str_eq(diag,
        "t.conf:1:1: warning: guard without a closing `>` (or `!>`): the line is a comment [guard-unterminated]\n"
        "    #<500 text\n"
        "    ^\n");
    free(got);
    free(diag);
}
END_TEST

START_TEST(negative_guard_without_final_bang_is_unterminated)
{
    char *diag = NULL;
    unsigned w = 0;
    char *got = lex_dump_diag("#<!a!b>x\n", 9, &diag, &w);
    ck_assert_str_eq(got, "END");
    ck_assert_uint_eq(w, 1);
    ck_assert_str_eq(diag,
        "t.conf:1:1: warning: exception guard without its closing `!>` (as in `#<!201!202!>`): "
        "the line is a comment [guard-unterminated]\n"
        "    #<!a!b>x\n"
        "    ^\n");
    free(got);
    free(diag);
}
END_TEST

/* ---- merge variables ------------------------------------------------------ */

START_TEST(known_variables)
{
    ASSERT_LEX("@EXT@:@MAC@\n", "VAR(EXT1) TEXT(:) VAR(MAC) NL END");
    ASSERT_LEX("@USERNAME@ @USERNAME3@ @ACCOUNT6@\n",
               "VAR(ACCOUNT1) TEXT( ) VAR(ACCOUNT3) TEXT( ) VAR(ACCOUNT6) NL END");
    ASSERT_LEX("@CID_NUM6@@SIP_SERVER_IPV4@\n", "VAR(CID_NUM6) VAR(SIP_SERVER_IPV4) NL END");
}
END_TEST

START_TEST(variable_token_offsets)
{
    const char *s = "ab @EXT2@\n";
    ptc_src *src = ptc_src_from_mem("t.conf", s, strlen(s));
    ptc_lex lx;
    ptc_tok t;
    ptc_lex_init(&lx, src, NULL);
    ck_assert_int_eq(ptc_lex_next(&lx, &t), PTC_TOK_TEXT);
    ck_assert_int_eq(ptc_lex_next(&lx, &t), PTC_TOK_VAR);
    ck_assert_uint_eq(t.off, 3); ck_assert_uint_eq(t.len, 6);
    ck_assert_uint_eq(t.val_off, 4); ck_assert_uint_eq(t.val_len, 4);
    ck_assert_int_eq(t.slot, PTC_SLOT_EXT2);
    ptc_src_free(src);
}
END_TEST

START_TEST(unknown_variable_rescans_after_at)
{
    ASSERT_LEX("@FOO@EXT@\n", "TEXT(@) TEXT(FOO) VAR(EXT1) NL END");
    ASSERT_LEX("@EXT7@\n", "TEXT(@) TEXT(EXT7) TEXT(@) NL END");
}
END_TEST

START_TEST(double_at_is_text)
{
    ASSERT_LEX("a@@b\n", "TEXT(a) TEXT(@) TEXT(@) TEXT(b) NL END");
    ASSERT_LEX("@EXT@@default\n", "VAR(EXT1) TEXT(@) TEXT(default) NL END");
}
END_TEST

START_TEST(lowercase_variable_is_text)
{
    ASSERT_LEX("@ext@\n", "TEXT(@) TEXT(ext) TEXT(@) NL END");
    ASSERT_LEX("user@host\n", "TEXT(user) TEXT(@) TEXT(host) NL END");
}
END_TEST

/* ---- filters ------------------------------------------------------------- */

START_TEST(filters_on_variables)
{
    ASSERT_LEX("<a>@CID_NAME:xml@</a>\n", "TEXT(<a>) VAR(CID_NAME1:xml) TEXT(</a>) NL END");
    ASSERT_LEX("@MAC:upper@ @MAC:lower@ @PASSWORD2:url@ @EXT:raw@\n",
               "VAR(MAC:upper) TEXT( ) VAR(MAC:lower) TEXT( ) VAR(PASSWORD2:url) TEXT( ) VAR(EXT1:raw) NL END");
    ASSERT_LEX("@CID_NAME:upper:xml@\n", "VAR(CID_NAME1:upper:xml) NL END");
    /* The token covers the filters; its payload is the name. */
    const char *s = "x@EXT2:xml@\n";
    ptc_src *src = ptc_src_from_mem("t.conf", s, strlen(s));
    ptc_lex lx;
    ptc_tok t;
    ptc_lex_init(&lx, src, NULL);
    ck_assert_int_eq(ptc_lex_next(&lx, &t), PTC_TOK_TEXT);
    ck_assert_int_eq(ptc_lex_next(&lx, &t), PTC_TOK_VAR);
    ck_assert_uint_eq(t.off, 1); ck_assert_uint_eq(t.len, 10);
    ck_assert_uint_eq(t.val_off, 2); ck_assert_uint_eq(t.val_len, 4);
    ck_assert_uint_eq(t.filters, PTC_FILTER_XML);
    ptc_src_free(src);
}
END_TEST

START_TEST(filter_on_unknown_name_is_text)
{
    /* As the original has it: not a merge variable, so text throughout. */
    ASSERT_LEX("@FOO:xml@\n", "TEXT(@) TEXT(FOO:xml) TEXT(@) NL END");
    ASSERT_LEX("a:@b:c@\n", "TEXT(a:) TEXT(@) TEXT(b:c) TEXT(@) NL END");
}
END_TEST

/* Lexes text expecting errors: the diagnostics. */
static char *lex_errors(const char *text)
{
    char *dtext = NULL;
    size_t dlen = 0;
    FILE *f = open_memstream(&dtext, &dlen);
    ptc_diag d;
    ptc_diag_init(&d, f);
    ptc_src *src = ptc_src_from_mem("t.conf", text, strlen(text));
    ptc_lex lx;
    ptc_lex_init(&lx, src, &d);
    ptc_tok t;
    for (int i = 0; i < 100 && ptc_lex_next(&lx, &t) != PTC_TOK_END; i++) {}
    fclose(f);
    ptc_src_free(src);
    return dtext;
}

START_TEST(unknown_filter_is_an_error_at_its_column)
{
    char *e = lex_errors("[phoneprov]\n<a>@CID_NAME:xlm@</a>\n");
    ck_assert_str_eq(e, "t.conf:2:14: error: unknown filter `xlm`; did you mean `xml`? [unknown-filter]\n"
                        "    <a>@CID_NAME:xlm@</a>\n"
                        "                 ^\n");
    free(e);
    e = lex_errors("@MAC:upper:XML@\n");
    ck_assert_str_eq(e, "t.conf:1:12: error: unknown filter `XML`; did you mean `xml`? [unknown-filter]\n"
                        "    @MAC:upper:XML@\n"
                        "               ^\n");
    free(e);
    e = lex_errors("@MAC:json@ @MAC:@\n");
    ck_assert(strstr(e, "t.conf:1:6: error: unknown filter `json`: use raw, xml, url, upper or lower"));
    ck_assert(strstr(e, "t.conf:1:17: error: unknown filter ``: use raw, xml, url, upper or lower"));
    free(e);
    e = lex_errors("@MAC:xml:xml:xml:xml:xml:xml:xml:xml@\n");
    ck_assert(strstr(e, "more than 7 filters on one variable [unknown-filter]"));
    free(e);
}
END_TEST

/* ---- lines ---------------------------------------------------------------- */

START_TEST(empty_lines_skipped)
{
    ASSERT_LEX("\n\n\na\n\n\nb\n\n", "TEXT(a) NL TEXT(b) NL END");
    ASSERT_LEX("\n", "END");
    ASSERT_LEX("", "END");
}
END_TEST

START_TEST(whitespace_lines_kept)
{
    ASSERT_LEX("   \n\t\n", "TEXT(   ) NL TEXT(\\t) NL END");
}
END_TEST

START_TEST(crlf_lines)
{
    ASSERT_LEX("[general]\r\nvendor=x\r\n\r\n",
               "OPEN NAME(general) CLOSE(]\\r) NL TEXT(vendor=x\\r) NL TEXT(\\r) NL END");
    ASSERT_LEX("@EXT@\r\n", "VAR(EXT1) TEXT(\\r) NL END");
}
END_TEST

START_TEST(missing_final_newline)
{
    ASSERT_LEX("abc", "TEXT(abc) NL END");
    ASSERT_LEX("[sip]", "OPEN NAME(sip) CLOSE(]) NL END");
    ASSERT_LEX("#<201>", "ONLY(201) NL END");
    ASSERT_LEX("x\n@EXT@", "TEXT(x) NL VAR(EXT1) NL END");
    ASSERT_LEX("# only a comment", "END");
}
END_TEST

START_TEST(final_nl_token_is_empty_at_end)
{
    const char *s = "abc";
    ptc_src *src = ptc_src_from_mem("t.conf", s, 3);
    ptc_lex lx;
    ptc_tok t;
    ptc_lex_init(&lx, src, NULL);
    ck_assert_int_eq(ptc_lex_next(&lx, &t), PTC_TOK_TEXT);
    ck_assert_int_eq(ptc_lex_next(&lx, &t), PTC_TOK_NL);
    ck_assert_uint_eq(t.off, 3); ck_assert_uint_eq(t.len, 0);
    ck_assert_int_eq(ptc_lex_next(&lx, &t), PTC_TOK_END);
    ck_assert_uint_eq(t.off, 3);
    ptc_src_free(src);
}
END_TEST

START_TEST(nul_byte_token)
{
    ASSERT_LEX_MEM("a\0b\n", 4, "TEXT(a) NUL TEXT(b) NL END");
    ASSERT_LEX_MEM("[ge\0n]\n", 7, "OPEN NAME(ge) NUL NAME(n) CLOSE(]) NL END");
    ASSERT_LEX_MEM("x\n\0", 3, "TEXT(x) NL NUL END");
}
END_TEST

START_TEST(nul_token_location)
{
    ptc_src *src = ptc_src_from_mem("t.conf", "ab\0c\n", 5);
    ptc_lex lx;
    ptc_tok t;
    ptc_lex_init(&lx, src, NULL);
    ck_assert_int_eq(ptc_lex_next(&lx, &t), PTC_TOK_TEXT);
    ck_assert_int_eq(ptc_lex_next(&lx, &t), PTC_TOK_NUL);
    ck_assert_uint_eq(t.off, 2); ck_assert_uint_eq(t.len, 1);
    ptc_src_free(src);
}
END_TEST

START_TEST(token_names)
{
    ck_assert_str_eq(ptc_lex_tok_name(PTC_TOK_END), "end of file");
    ck_assert_str_eq(ptc_lex_tok_name(PTC_TOK_NUL), "NUL byte");
    ck_assert_str_eq(ptc_lex_tok_name((ptc_tok_kind)99), "token");
}
END_TEST

static Suite *lex_suite(void)
{
    Suite *s = suite_create("lex");
    TCase *tc = tcase_create("headers");
    tcase_add_test(tc, header_tokens);
    tcase_add_test(tc, header_trailing_text_belongs_to_close);
    tcase_add_test(tc, header_name_is_verbatim);
    tcase_add_test(tc, header_unterminated_and_empty);
    tcase_add_test(tc, bracket_inside_line_is_text);
    tcase_add_test(tc, close_token_offsets);
    suite_add_tcase(s, tc);

    tc = tcase_create("comments-escapes");
    tcase_add_test(tc, comments_produce_no_tokens);
    tcase_add_test(tc, indented_hash_is_text);
    tcase_add_test(tc, escapes_at_line_start);
    tcase_add_test(tc, backslash_elsewhere_is_text);
    tcase_add_test(tc, escape_token_covers_backslash);
    tcase_add_test(tc, after_guard_escapes_and_comment);
    suite_add_tcase(s, tc);

    tc = tcase_create("guards");
    tcase_add_test(tc, positive_guard);
    tcase_add_test(tc, negative_guard_single_and_many);
    tcase_add_test(tc, guards_with_star_and_hash);
    tcase_add_test(tc, guard_offsets);
    tcase_add_test(tc, empty_guard_warns_and_drops_line);
    tcase_add_test(tc, unterminated_guard_warns_and_drops_line);
    tcase_add_test(tc, negative_guard_without_final_bang_is_unterminated);
    suite_add_tcase(s, tc);

    tc = tcase_create("variables");
    tcase_add_test(tc, known_variables);
    tcase_add_test(tc, variable_token_offsets);
    tcase_add_test(tc, unknown_variable_rescans_after_at);
    tcase_add_test(tc, double_at_is_text);
    tcase_add_test(tc, lowercase_variable_is_text);
    tcase_add_test(tc, filters_on_variables);
    tcase_add_test(tc, filter_on_unknown_name_is_text);
    tcase_add_test(tc, unknown_filter_is_an_error_at_its_column);
    suite_add_tcase(s, tc);

    tc = tcase_create("lines");
    tcase_add_test(tc, empty_lines_skipped);
    tcase_add_test(tc, whitespace_lines_kept);
    tcase_add_test(tc, crlf_lines);
    tcase_add_test(tc, missing_final_newline);
    tcase_add_test(tc, final_nl_token_is_empty_at_end);
    tcase_add_test(tc, nul_byte_token);
    tcase_add_test(tc, nul_token_location);
    tcase_add_test(tc, token_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ptc_test_run(lex_suite());
}
