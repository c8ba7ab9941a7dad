/* Fuzz target: the template lexer (grammar/lexer.re) and parser
 * (grammar/parser.y).
 *
 * Input: template text.  Checks: the lexer always makes progress and ends,
 * every token and payload lies inside the source, and every IR node the
 * parser builds points inside the source.
 */
#include "common.h"
#include "ptc/ir.h"
#include "ptc/lex.h"
#include "ptc/parse.h"

static void check_span(const ptc_src *src, uint32_t off, uint32_t len, const char *what)
{
    if (off > src->len || len > src->len - off) fuzz_fail(what);
}

static void lex_all(ptc_src *src)
{
    ptc_lex lx;
    ptc_tok t;
    ptc_lex_init(&lx, src, NULL);
    size_t n = 0, nl_without_progress = 0;
    const char *last = lx.cur;
    for (;;) {
        ptc_tok_kind k = ptc_lex_next(&lx, &t);
        check_span(src, t.off, t.len, "token outside the source");
        check_span(src, t.val_off, t.val_len, "token payload outside the source");
        if (k == PTC_TOK_VAR && (t.slot < 0 || t.slot >= PTC_SLOT_COUNT)) fuzz_fail("bad slot");
        if (k == PTC_TOK_END) break;
        if (lx.cur < last || lx.cur > lx.lim) fuzz_fail("lexer went backwards or past the end");
        /* A token without progress is allowed once (NL before END, NL of
         * a guard's comment); never twice in a row. */
        if (lx.cur == last) { if (++nl_without_progress > 2) fuzz_fail("lexer stuck"); }
        else nl_without_progress = 0;
        last = lx.cur;
        if (++n > 4 * src->len + 16) fuzz_fail("too many tokens");
    }
}

static void check_ir(const ptc_ir *ir, const ptc_src *src)
{
    const ptc_ir_line *lists[PTC_CTX_COUNT + 1];
    for (int c = 0; c < PTC_CTX_COUNT; c++) lists[c] = ir->ctx[c].first;
    lists[PTC_CTX_COUNT] = ir->global_first;
    for (int c = 0; c <= PTC_CTX_COUNT; c++) {
        for (const ptc_ir_line *l = lists[c]; l; l = l->next) {
            if (l->off > src->len) fuzz_fail("line offset outside the source");
            if (l->guard != PTC_GUARD_NONE) {
                check_span(src, l->guard_off, l->guard_len, "guard outside the source");
                if (l->guard == PTC_GUARD_ONLY && (!l->exts || l->exts->next)) fuzz_fail("ONLY guard needs one extension");
            }
            for (const ptc_ir_ext *e = l->exts; e; e = e->next)
                check_span(src, e->off, e->len, "guard extension outside the source");
            for (const ptc_ir_seg *s = l->segs; s; s = s->next) {
                check_span(src, s->off, s->len, "segment outside the source");
                if (s->kind == PTC_SEG_VAR && (s->slot < 0 || s->slot >= PTC_SLOT_COUNT)) fuzz_fail("bad slot in IR");
                if (s->kind == PTC_SEG_TEXT && memchr(src->text + s->off, '\n', s->len)) fuzz_fail("newline inside a text segment");
            }
        }
    }
    for (const ptc_ir_header *h = ir->headers; h; h = h->next)
        check_span(src, h->name_off, h->name_len, "header name outside the source");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ptc_src *src = ptc_src_from_mem("fuzz.conf", (const char *)data, size);
    lex_all(src);
    ptc_diag d;
    fuzz_diag(&d, data, size);
    ptc_ir *ir = ptc_parse(src, &d);
    if (!ir) fuzz_fail("ptc_parse returned NULL");
    check_ir(ir, src);
    ptc_diag_finish(&d);
    ptc_ir_free(ir);
    ptc_src_free(src);
    return 0;
}
