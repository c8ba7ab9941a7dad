/* The compiler (src/front/compile.c): the shape of the programs it produces.
 *
 * A context's code is rendered as "pc OP operands" items joined by "; ",
 * constants shown by value:  0 TEXT "x\n"; 1 ONLY "201" ->3; 2 ...; 3 RET
 * (numbered from the context's entry)
 * Every program compiled here is also checked with ptc_bc_validate.
 *
 * The disassembly of tests/golden/disasm/NAME.conf is compared with
 * tests/golden/disasm/NAME.txt; PTC_UPDATE_GOLDEN=1 rewrites the .txt. */
#include "testutil.h"
#include "ptc/comp.h"
#include "ptc/parse.h"
#include "ptc/bc.h"
#include "ptc/disasm.h"
#include "ptc/buf.h"
#include "ptc/fsutil.h"

#include <glob.h>
#include <limits.h>
#include <unistd.h>

static void put_quoted(ptc_buf *b, const char *s, uint32_t n)
{
    ptc_buf_putc(b, '"');
    for (uint32_t i = 0; i < n; i++) {
        if (s[i] == '\n') ptc_buf_puts(b, "\\n");
        else if (s[i] == '\r') ptc_buf_puts(b, "\\r");
        else ptc_buf_putc(b, s[i]);
    }
    ptc_buf_putc(b, '"');
}

static void assert_valid(const ptc_prog *p)
{
    char why[160] = "";
    ck_assert_msg(ptc_bc_validate(p, why, sizeof why) == 0, "invalid program: %s", why);
}

static ptc_prog *compile_str(const char *text)
{
    char *dbuf = NULL;
    size_t dlen = 0;
    FILE *f = open_memstream(&dbuf, &dlen);
    ptc_diag d;
    ptc_diag_init(&d, f);
    ptc_src *src = ptc_src_from_mem("t.conf", text, strlen(text));
    ptc_prog *p = ptc_comp_source(src, &d);
    fclose(f);
    ck_assert_msg(p != NULL, "compile failed: %s", dbuf);
    ck_assert_uint_eq(d.errors, 0);
    ck_assert_uint_eq(p->src_size, strlen(text));
    ck_assert(p->src_hash == ptc_hash64(text, strlen(text)));
    free(dbuf);
    ptc_src_free(src);
    assert_valid(p);
    return p;
}

/* The code of context ctx, from its entry to its RET, numbered from the
 * entry (jump targets too). */
static char *ctx_code(const ptc_prog *p, int ctx)
{
    ptc_buf b = PTC_BUF_INIT;
    if (p->entry[ctx] == PTC_NO_ENTRY) return (char *)ptc_buf_cstr(&b);
    for (uint32_t pc = p->entry[ctx]; pc < p->ncode; pc++) {
        const ptc_insn *i = &p->code[pc];
        const ptc_op_info *info = &ptc_op_info_table[i->op];
        if (b.len) ptc_buf_puts(&b, "; ");
        ptc_buf_printf(&b, "%u %s", pc - p->entry[ctx], info->name);
        if (info->a == PTC_OPND_SLOT) ptc_buf_printf(&b, " %s", ptc_slot_names[i->a]);
        if (info->a == PTC_OPND_KEY) ptc_buf_printf(&b, " %s", ptc_key_names[i->a]);
        if (info->b) {
            ptc_buf_putc(&b, ' ');
            put_quoted(&b, p->kdata + p->k[i->b].off, p->k[i->b].len);
        }
        if (info->c) ptc_buf_printf(&b, " ->%u", i->c - p->entry[ctx]);
        if (i->op == PTC_OP_RET) break;
    }
    return (char *)ptc_buf_cstr(&b);
}

#define ASSERT_CODE(p, ctx, want) do {                                         \
        char *got_ = ctx_code((p), (ctx));                                    \
        ck_assert_str_eq(got_, (want));                                       \
        free(got_);                                                           \
    } while (0)

static int const_count(const ptc_prog *p, const char *s)
{
    int n = 0;
    for (uint32_t i = 0; i < p->nk; i++)
        if (p->k[i].len == strlen(s) && memcmp(p->kdata + p->k[i].off, s, p->k[i].len) == 0) n++;
    return n;
}

/* ---- literals and constants ----------------------------------------------- */

/* keys_phone: which [general] values can differ from phone to phone (a
 * guard or a variable), so binding can skip the ordered passes when the
 * early keys are plain text. */
START_TEST(keys_phone_marks_guards_and_variables)
{
    ptc_prog *p = compile_str("[general]\nmodel=m1\nvendor=@MODEL@x\n#<201>prov_file=a.cfg\n"
                              "sip_file=s.conf\nmacaddress_case=lower\n");
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->keys_phone, (1u << PTC_KEY_VENDOR) | (1u << PTC_KEY_PROV_FILE));
    ptc_prog_free(p);
    p = compile_str("[general]\nmodel=m1\nvendor=v\nmacaddress_case=upper\nprov_file=@MAC@.cfg\n");
    ck_assert_uint_eq(p->keys_phone & ((1u << PTC_KEY_MODEL) | (1u << PTC_KEY_VENDOR) |
                                       (1u << PTC_KEY_MACADDRESS_CASE)), 0);
    ck_assert_uint_eq(p->keys_phone, 1u << PTC_KEY_PROV_FILE);
    ptc_prog_free(p);
}
END_TEST

START_TEST(adjacent_literal_lines_merge_with_newlines)
{
    ptc_prog *p = compile_str("[general]\n[sip]\na\nb\n\n  \nc\n");
    ASSERT_CODE(p, PTC_CTX_SIP, "0 TEXT \"a\\nb\\n  \\nc\\n\"; 1 RET");
    ptc_prog_free(p);
}
END_TEST

START_TEST(variables_split_literals)
{
    ptc_prog *p = compile_str("[general]\n[sip]\nx=@EXT@!\n@MAC@\ny\n");
    ASSERT_CODE(p, PTC_CTX_SIP,
        "0 TEXT \"x=\"; 1 VAR EXT1; 2 TEXT \"!\\n\"; 3 VAR MAC; 4 TEXT \"\\ny\\n\"; 5 RET");
    ptc_prog_free(p);
}
END_TEST

START_TEST(escapes_and_unknown_variables_are_literal)
{
    ptc_prog *p = compile_str("[general]\n[sip]\n\\[@ACCOUNT@]\n\\#x @FOO@ @ext@\n");
    ASSERT_CODE(p, PTC_CTX_SIP,
        "0 TEXT \"[\"; 1 VAR ACCOUNT1; 2 TEXT \"]\\n#x @FOO@ @ext@\\n\"; 3 RET");
    ptc_prog_free(p);
}
END_TEST

START_TEST(constants_deduplicated)
{
    ptc_prog *p = compile_str("[general]\n[dialplan]\nx=@EXT@\n[sip]\nx=@EXT@\n#<201>a\n"
                              "[phoneprov]\nx=@EXT@\n#<201>b\n#<!201!>c\n");
    ck_assert_int_eq(const_count(p, "x="), 1);
    ck_assert_int_eq(const_count(p, "\n"), 1);
    ck_assert_int_eq(const_count(p, "201"), 1);
    for (uint32_t i = 0; i < p->nk; i++)
        for (uint32_t j = i + 1; j < p->nk; j++)
            ck_assert(!(p->k[i].len == p->k[j].len &&
                        memcmp(p->kdata + p->k[i].off, p->kdata + p->k[j].off, p->k[i].len) == 0));
    ptc_prog_free(p);
}
END_TEST

START_TEST(many_distinct_constants)
{
    /* enough to grow the intern table several times */
    ptc_buf t = PTC_BUF_INIT;
    ptc_buf_puts(&t, "[general]\n[sip]\n");
    for (int i = 0; i < 300; i++) ptc_buf_printf(&t, "#<%d>line %d\n", i, i % 150);
    ptc_prog *p = compile_str(ptc_buf_cstr(&t));
    /* 300 guard extensions, 150 distinct line texts (line 0..149), and the
     * lines' texts "line N\n" overlap none of the extensions */
    ck_assert_uint_eq(p->nk, 300 + 150);
    ck_assert_int_eq(const_count(p, "line 7\n"), 1);
    ck_assert_int_eq(const_count(p, "299"), 1);
    ptc_prog_free(p);
    ptc_buf_free(&t);
}
END_TEST

/* ---- guards --------------------------------------------------------------- */

START_TEST(only_guard_jumps_past_its_line)
{
    ptc_prog *p = compile_str("[general]\n[sip]\nx\n#<201>y\nz\n");
    ASSERT_CODE(p, PTC_CTX_SIP,
        "0 TEXT \"x\\n\"; 1 ONLY \"201\" ->3; 2 TEXT \"y\\n\"; 3 TEXT \"z\\n\"; 4 RET");
    ptc_prog_free(p);
}
END_TEST

START_TEST(except_guard_one_jump_per_extension)
{
    ptc_prog *p = compile_str("[general]\n[sip]\n#<!*72!70#!>a@EXT@b\nz\n");
    ASSERT_CODE(p, PTC_CTX_SIP,
        "0 EXCEPT \"*72\" ->5; 1 EXCEPT \"70#\" ->5; 2 TEXT \"a\"; 3 VAR EXT1; 4 TEXT \"b\\n\"; "
        "5 TEXT \"z\\n\"; 6 RET");
    ptc_prog_free(p);
}
END_TEST

START_TEST(guarded_last_line_jumps_to_ret)
{
    ptc_prog *p = compile_str("[general]\n[sip]\n#<201>y\n");
    ASSERT_CODE(p, PTC_CTX_SIP, "0 ONLY \"201\" ->2; 1 TEXT \"y\\n\"; 2 RET");
    ptc_prog_free(p);
}
END_TEST

START_TEST(consecutive_guarded_lines_stay_apart)
{
    ptc_prog *p = compile_str("[general]\n[sip]\n#<1>a\n#<2>b\n");
    ASSERT_CODE(p, PTC_CTX_SIP,
        "0 ONLY \"1\" ->2; 1 TEXT \"a\\n\"; 2 ONLY \"2\" ->4; 3 TEXT \"b\\n\"; 4 RET");
    ptc_prog_free(p);
}
END_TEST

START_TEST(guard_with_empty_rest_emits_nothing)
{
    ptc_prog *p = compile_str("[general]\n[sip]\na\n#<201>\n#<202># note\nb\n");
    ASSERT_CODE(p, PTC_CTX_SIP, "0 TEXT \"a\\nb\\n\"; 1 RET");
    ptc_prog_free(p);
}
END_TEST

START_TEST(every_jump_lands_after_its_line)
{
    /* whatever the guards, jumps go forward to the first instruction of a
     * later line (or the RET), never into the middle of one */
    ptc_prog *p = compile_str("[general]\n[phoneprov]\n#<1>a@EXT@b@MAC@\n#<!2!3!>c\nd@EXT@\n#<4>e\n");
    for (uint32_t pc = 0; pc < p->ncode; pc++) {
        const ptc_insn *i = &p->code[pc];
        if (i->op != PTC_OP_ONLY && i->op != PTC_OP_EXCEPT) continue;
        ck_assert_uint_gt(i->c, pc);
        if (p->code[i->c].op != PTC_OP_RET) ck_assert_uint_gt(p->lines[i->c], p->lines[pc]);
        ck_assert_uint_eq(p->lines[i->c - 1], p->lines[pc]);
    }
    ptc_prog_free(p);
}
END_TEST

/* ---- [general] ------------------------------------------------------------ */

START_TEST(general_key_value_blocks)
{
    ptc_prog *p = compile_str("[general]\nvendor = acme corp\nprov_file=@MAC@.cfg  # note\nmodel=x\n");
    ASSERT_CODE(p, PTC_CTX_GENERAL,
        "0 KEY vendor ->3; 1 TEXT \"acme\"; 2 ENDKEY vendor; "
        "3 KEY prov_file ->7; 4 VAR MAC; 5 TEXT \".cfg\"; 6 ENDKEY prov_file; "
        "7 KEY model ->10; 8 TEXT \"x\"; 9 ENDKEY model; 10 RET");
    ck_assert_uint_eq(p->keys_set,
        1u << PTC_KEY_VENDOR | 1u << PTC_KEY_PROV_FILE | 1u << PTC_KEY_MODEL);
    ptc_prog_free(p);
}
END_TEST

START_TEST(general_unknown_keys_and_other_lines_left_out)
{
    ptc_prog *p = compile_str("[general]\nbogus=1\njust text\n=x\n@EXT@=1\nVendor=x\nsip_driver=pjsip\n");
    ASSERT_CODE(p, PTC_CTX_GENERAL, "0 KEY sip_driver ->3; 1 TEXT \"pjsip\"; 2 ENDKEY sip_driver; 3 RET");
    ck_assert_uint_eq(p->keys_set, 1u << PTC_KEY_SIP_DRIVER);
    ptc_prog_free(p);
}
END_TEST

START_TEST(general_value_cut_at_first_space_in_later_segment)
{
    ptc_prog *p = compile_str("[general]\nprov_file=@MAC@ x@EXT@\n");
    ASSERT_CODE(p, PTC_CTX_GENERAL, "0 KEY prov_file ->3; 1 VAR MAC; 2 ENDKEY prov_file; 3 RET");
    ptc_prog_free(p);
}
END_TEST

START_TEST(general_cr_dropped)
{
    ptc_prog *p = compile_str("[general]\r\nmodel=x\r\nvendor=@MODEL@\r\nprov_path=a b\r\n");
    ASSERT_CODE(p, PTC_CTX_GENERAL,
        "0 KEY model ->3; 1 TEXT \"x\"; 2 ENDKEY model; "
        "3 KEY vendor ->6; 4 VAR MODEL; 5 ENDKEY vendor; "
        "6 KEY prov_path ->9; 7 TEXT \"a\"; 8 ENDKEY prov_path; 9 RET");
    ck_assert_int_eq(const_count(p, "x\r"), 0);
    ptc_prog_free(p);
}
END_TEST

START_TEST(general_empty_value)
{
    ptc_prog *p = compile_str("[general]\nvendor=\nmodel =  \n");
    ASSERT_CODE(p, PTC_CTX_GENERAL,
        "0 KEY vendor ->2; 1 ENDKEY vendor; 2 KEY model ->4; 3 ENDKEY model; 4 RET");
    ck_assert_uint_eq(p->keys_set, 1u << PTC_KEY_VENDOR | 1u << PTC_KEY_MODEL);
    ptc_prog_free(p);
}
END_TEST

START_TEST(general_guarded_key)
{
    ptc_prog *p = compile_str("[general]\nprov_file=a\n#<500>prov_file=boss\n#<!1!2!>vendor=v\n");
    ASSERT_CODE(p, PTC_CTX_GENERAL,
        "0 KEY prov_file ->3; 1 TEXT \"a\"; 2 ENDKEY prov_file; "
        "3 ONLY \"500\" ->7; 4 KEY prov_file ->7; 5 TEXT \"boss\"; 6 ENDKEY prov_file; "
        "7 EXCEPT \"1\" ->12; 8 EXCEPT \"2\" ->12; 9 KEY vendor ->12; 10 TEXT \"v\"; 11 ENDKEY vendor; "
        "12 RET");
    ptc_prog_free(p);
}
END_TEST

START_TEST(general_every_key_name)
{
    ptc_buf t = PTC_BUF_INIT;
    ptc_buf_puts(&t, "[general]\n");
    /* escape= is read at compile time and takes xml or raw. */
    for (int k = 0; k < PTC_KEY_COUNT; k++)
        if (k == PTC_KEY_ESCAPE) ptc_buf_printf(&t, "%s=raw\n", ptc_key_names[k]);
        else ptc_buf_printf(&t, "%s=v%d\n", ptc_key_names[k], k);
    ptc_prog *p = compile_str(ptc_buf_cstr(&t));
    ck_assert_uint_eq(p->keys_set, (1u << PTC_KEY_COUNT) - 1);
    ck_assert_uint_eq(p->ncode, PTC_KEY_COUNT * 3 + 1);
    for (int k = 0; k < PTC_KEY_COUNT; k++) {
        ck_assert_int_eq(p->code[k * 3].op, PTC_OP_KEY);
        ck_assert_int_eq(p->code[k * 3].a, k);
        ck_assert_int_eq(p->code[k * 3 + 2].op, PTC_OP_ENDKEY);
        ck_assert_int_eq(p->code[k * 3 + 2].a, k);
    }
    ptc_prog_free(p);
    ptc_buf_free(&t);
}
END_TEST

START_TEST(general_key_helper)
{
    ptc_diag d;
    ptc_diag_init(&d, stderr);
    const char *text = "[general]\nvendor  =  x\nnothing\nbogus=1\n";
    ptc_src *src = ptc_src_from_mem("t.conf", text, strlen(text));
    ptc_ir *ir = ptc_parse(src, &d);
    const ptc_ir_line *l = ir->ctx[PTC_CTX_GENERAL].first;
    uint32_t no, nl, vo;
    ck_assert_int_eq(ptc_comp_general_key(ir, l, &no, &nl, &vo), PTC_KEY_VENDOR);
    ck_assert_uint_eq(no, 10); ck_assert_uint_eq(nl, 6); ck_assert_uint_eq(vo, 21);
    ck_assert_int_eq(ptc_comp_general_key(ir, l->next, &no, &nl, &vo), -2);
    ck_assert_int_eq(ptc_comp_general_key(ir, l->next->next, &no, &nl, &vo), -1);
    ptc_ir_free(ir);
    ptc_src_free(src);
}
END_TEST

/* ---- global section, entries, lines --------------------------------------- */

START_TEST(menu_name_from_global_section)
{
    ptc_prog *p = compile_str("# c\nmenu_name=Acme desk @EXT@ (1 line)\r\n[general]\n");
    ck_assert_uint_ne(p->menu_name, PTC_NO_CONST);
    const ptc_const *k = &p->k[p->menu_name];
    ck_assert_mem_str(p->kdata + k->off, k->len, "Acme desk @EXT@ (1 line)");
    ptc_prog_free(p);
}
END_TEST

START_TEST(menu_name_last_wins_and_only_in_global)
{
    ptc_prog *p = compile_str("menu_name=one\nmenu_name=two\n#<1>menu_name=three\n[general]\nmenu_name=four\n");
    const ptc_const *k = &p->k[p->menu_name];
    ck_assert_mem_str(p->kdata + k->off, k->len, "two");
    ASSERT_CODE(p, PTC_CTX_GENERAL, "0 RET");
    ptc_prog_free(p);
    p = compile_str("[general]\nmenu_name=x\n");
    ck_assert_uint_eq(p->menu_name, PTC_NO_CONST);
    ptc_prog_free(p);
}
END_TEST

START_TEST(entries_per_context_in_context_order)
{
    ptc_prog *p = compile_str("[phoneprov]\np\n[sip]\ns\n[general]\n[dialplan3]\nd\n");
    ck_assert_uint_eq(p->entry[PTC_CTX_GENERAL], 0);
    ck_assert_uint_eq(p->entry[PTC_CTX_DIALPLAN3], 1);
    ck_assert_uint_eq(p->entry[PTC_CTX_SIP], 3);
    ck_assert_uint_eq(p->entry[PTC_CTX_PHONEPROV], 5);
    ck_assert_uint_eq(p->ncode, 7);
    ck_assert_uint_eq(p->entry[PTC_CTX_DIALPLAN1], PTC_NO_ENTRY);
    ck_assert_uint_eq(p->entry[PTC_CTX_PJSIP], PTC_NO_ENTRY);
    ck_assert(!ptc_prog_has(p, PTC_CTX_DIALPLAN2));
    ck_assert(ptc_prog_has(p, PTC_CTX_SIP));
    /* each context ends in RET just before the next one's entry */
    ck_assert_int_eq(p->code[0].op, PTC_OP_RET);
    ck_assert_int_eq(p->code[2].op, PTC_OP_RET);
    ck_assert_int_eq(p->code[4].op, PTC_OP_RET);
    ck_assert_int_eq(p->code[6].op, PTC_OP_RET);
    ptc_prog_free(p);
}
END_TEST

START_TEST(empty_context_is_just_ret)
{
    ptc_prog *p = compile_str("[general]\n[sip]\n# nothing\n[phoneprov]\n");
    ASSERT_CODE(p, PTC_CTX_SIP, "0 RET");
    ASSERT_CODE(p, PTC_CTX_PHONEPROV, "0 RET");
    ptc_prog_free(p);
}
END_TEST

START_TEST(source_lines_of_instructions)
{
    ptc_prog *p = compile_str("[general]\nvendor=v\n[sip]\na\n\nb@EXT@\n#<1>c\nd\n");
    /* 0 KEY 1 TEXT 2 ENDKEY (line 2), 3 RET (line 2), 4 TEXT "a\nb" (line 4),
     * 5 VAR (line 6), 6 TEXT "\n" (line 6), 7 ONLY (line 7), 8 TEXT "c\n",
     * 9 TEXT "d\n" (line 8), 10 RET (line 8) */
    static const uint32_t want[] = { 2, 2, 2, 2, 4, 6, 6, 7, 7, 8, 8 };
    ck_assert_uint_eq(p->ncode, 11);
    for (uint32_t i = 0; i < p->ncode; i++)
        ck_assert_msg(p->lines[i] == want[i], "insn %u: line %u, want %u", i, p->lines[i], want[i]);
    ptc_prog_free(p);
}
END_TEST

/* ---- every real template validates ---------------------------------------- */

START_TEST(every_template_compiles_to_a_valid_program)
{
    glob_t g;
    glob_templates(&g);
    ck_assert_uint_ge(g.gl_pathc, 15);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        ptc_src *src = ptc_src_load(g.gl_pathv[i], NULL);
        ck_assert_ptr_nonnull(src);
        ptc_diag d;
        ptc_diag_init(&d, stderr);
        ptc_prog *p = ptc_comp_source(src, &d);
        ck_assert_msg(p != NULL, "%s does not compile", g.gl_pathv[i]);
        char why[160] = "";
        ck_assert_msg(ptc_bc_validate(p, why, sizeof why) == 0, "%s: %s", g.gl_pathv[i], why);
        ck_assert(ptc_prog_has(p, PTC_CTX_GENERAL));
        ptc_prog_free(p);
        ptc_src_free(src);
    }
    globfree(&g);
}
END_TEST

/* ---- disassembly golden file ---------------------------------------------- */

static void check_disasm_golden(const char *name)
{
    char conf[PATH_MAX + 64], txt[PATH_MAX + 64];
    snprintf(conf, sizeof conf, "%s/tests/golden/disasm/%s.conf", repo_dir(), name);
    snprintf(txt, sizeof txt, "%s/tests/golden/disasm/%s.txt", repo_dir(), name);
    ptc_src *src = ptc_src_load(conf, NULL);
    ck_assert_msg(src != NULL, "cannot read %s", conf);
    ptc_diag d;
    ptc_diag_init(&d, stderr);
    ptc_prog *p = ptc_comp_source(src, &d);
    ck_assert_ptr_nonnull(p);
    char *got = NULL;
    size_t gotlen = 0;
    FILE *f = open_memstream(&got, &gotlen);
    char shown[64];
    snprintf(shown, sizeof shown, "%s.conf", name);
    ptc_disasm_print(p, shown, f);
    fclose(f);
    const char *upd = getenv("PTC_UPDATE_GOLDEN");
    if (upd && *upd == '1') {
        FILE *o = fopen(txt, "w");
        ck_assert_ptr_nonnull(o);
        fwrite(got, 1, gotlen, o);
        fclose(o);
    }
    ptc_buf want = PTC_BUF_INIT;
    ck_assert_msg(ptc_read_file(txt, &want) == 0, "cannot read %s", txt);
    ck_assert_msg(want.len == gotlen && memcmp(want.data, got, gotlen) == 0,
                  "disassembly of %s differs from %s:\n%s", conf, txt, got);
    ptc_buf_free(&want);
    free(got);
    ptc_prog_free(p);
    ptc_src_free(src);
}

START_TEST(disasm_matches_golden)
{
    check_disasm_golden("features");
}
END_TEST

static Suite *compile_suite(void)
{
    Suite *s = suite_create("compile");
    TCase *tc = tcase_create("literals");
    tcase_add_test(tc, adjacent_literal_lines_merge_with_newlines);
    tcase_add_test(tc, variables_split_literals);
    tcase_add_test(tc, escapes_and_unknown_variables_are_literal);
    tcase_add_test(tc, constants_deduplicated);
    tcase_add_test(tc, many_distinct_constants);
    suite_add_tcase(s, tc);

    tc = tcase_create("guards");
    tcase_add_test(tc, only_guard_jumps_past_its_line);
    tcase_add_test(tc, except_guard_one_jump_per_extension);
    tcase_add_test(tc, guarded_last_line_jumps_to_ret);
    tcase_add_test(tc, consecutive_guarded_lines_stay_apart);
    tcase_add_test(tc, guard_with_empty_rest_emits_nothing);
    tcase_add_test(tc, every_jump_lands_after_its_line);
    suite_add_tcase(s, tc);

    tc = tcase_create("general");
    tcase_add_test(tc, general_key_value_blocks);
    tcase_add_test(tc, general_unknown_keys_and_other_lines_left_out);
    tcase_add_test(tc, general_value_cut_at_first_space_in_later_segment);
    tcase_add_test(tc, general_cr_dropped);
    tcase_add_test(tc, general_empty_value);
    tcase_add_test(tc, general_guarded_key);
    tcase_add_test(tc, general_every_key_name);
    tcase_add_test(tc, general_key_helper);
    suite_add_tcase(s, tc);

    tc = tcase_create("program");
    tcase_add_test(tc, menu_name_from_global_section);
    tcase_add_test(tc, menu_name_last_wins_and_only_in_global);
    tcase_add_test(tc, entries_per_context_in_context_order);
    tcase_add_test(tc, empty_context_is_just_ret);
    tcase_add_test(tc, source_lines_of_instructions);
    tcase_add_test(tc, every_template_compiles_to_a_valid_program);
    tcase_add_test(tc, disasm_matches_golden);
    tcase_add_test(tc, keys_phone_marks_guards_and_variables);
    tcase_set_timeout(tc, 30);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ptc_test_run(compile_suite());
}
