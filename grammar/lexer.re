/* The template lexer.  See include/ptc/lex.h for the states.
 *
 * The source buffer ends with a NUL sentinel (ptc_src guarantees it), so the
 * rules need no fill checks: a NUL at lim is the end, any other NUL is an
 * error token.
 */
#include "ptc/lex.h"
#include "ptc/lang.h"

#include <string.h>

enum { S_BOL, S_GUARD, S_HDR, S_BODY };

/*!re2c
    re2c:define:YYCTYPE  = "unsigned char";
    re2c:define:YYCURSOR = "lx->cur";
    re2c:define:YYMARKER = "lx->mark";
    re2c:yyfill:enable   = 0;
    re2c:flags:tags      = 0;

    nl   = "\n";
    any  = [^\n\x00];
*/

void ptc_lex_init(ptc_lex *lx, ptc_src *src, ptc_diag *diag)
{
    memset(lx, 0, sizeof *lx);
    lx->src = src;
    lx->diag = diag;
    lx->cur = src->text;
    lx->lim = src->text + src->len;
    lx->state = S_BOL;
}

static uint32_t off_of(ptc_lex *lx, const char *p)
{
    return (uint32_t)(p - lx->src->text);
}

static ptc_tok_kind make(ptc_lex *lx, ptc_tok *t, ptc_tok_kind k,
                         const char *vs, const char *ve)
{
    t->kind = k;
    t->off = off_of(lx, lx->tok);
    t->len = (uint32_t)(lx->cur - lx->tok);
    t->val_off = off_of(lx, vs);
    t->val_len = (uint32_t)(ve - vs);
    t->slot = -1;
    t->filters = 0;
    return k;
}

static void skip_line(ptc_lex *lx)
{
    while (lx->cur < lx->lim && *lx->cur != '\n') lx->cur++;
    if (lx->cur < lx->lim) lx->cur++;
    lx->state = S_BOL;
}

static void warn(ptc_lex *lx, const char *at, const char *code, const char *msg)
{
    if (lx->diag) ptc_diag_at(lx->diag, lx->src, off_of(lx, at), PTC_WARNING, code, "%s", msg);
}

/* End of a line inside BODY/HDR/GUARD: NL, or END when the file stops without
 * a final newline (then NL first so the last line is complete). */
static ptc_tok_kind end_of_line(ptc_lex *lx, ptc_tok *t)
{
    lx->state = S_BOL;
    return make(lx, t, PTC_TOK_NL, lx->tok, lx->cur);
}

static ptc_tok_kind nul_or_end(ptc_lex *lx, ptc_tok *t)
{
    if (lx->tok >= lx->lim) {
        lx->cur = lx->lim;
        if (lx->state != S_BOL) {   /* unterminated last line */
            lx->state = S_BOL;
            return make(lx, t, PTC_TOK_NL, lx->tok, lx->tok);
        }
        return make(lx, t, PTC_TOK_END, lx->tok, lx->tok);
    }
    return make(lx, t, PTC_TOK_NUL, lx->tok, lx->cur);
}

/* `[` at line start: a context header. */
static ptc_tok_kind lex_hdr(ptc_lex *lx, ptc_tok *t)
{
    lx->tok = lx->cur;
    /*!re2c
        [^\]\n\x00]+   { return make(lx, t, PTC_TOK_HDR_NAME, lx->tok, lx->cur); }
        "]" any*       { lx->state = S_BODY; return make(lx, t, PTC_TOK_HDR_CLOSE, lx->tok, lx->tok + 1); }
        nl             { return end_of_line(lx, t); }
        "\x00"         { return nul_or_end(lx, t); }
    */
}

/* The filters of @NAME:f1:f2@ (from the first `:` to the closing `@`) into
 * a chain.  An unknown or missing filter is an error at its column, with a
 * did-you-mean; the chain is then cut there. */
static uint32_t lex_filters(ptc_lex *lx, const char *p, const char *end)
{
    uint32_t chain = 0;
    int n = 0;
    while (p < end && *p == ':') {
        const char *f = ++p;
        while (p < end && *p != ':') p++;
        int k = ptc_filter_lookup(f, (size_t)(p - f));
        if (k < 0 || n == PTC_FILTER_CHAIN) {
            if (!lx->diag) return chain;
            const char *s = k < 0 ? ptc_diag_suggest(f, (size_t)(p - f), ptc_filter_spellings) : NULL;
            if (n == PTC_FILTER_CHAIN)
                ptc_diag_at(lx->diag, lx->src, off_of(lx, f), PTC_ERROR, "unknown-filter",
                            "more than %d filters on one variable", PTC_FILTER_CHAIN);
            else if (s)
                ptc_diag_at(lx->diag, lx->src, off_of(lx, f), PTC_ERROR, "unknown-filter",
                            "unknown filter `%.*s`; did you mean `%s`?", (int)(p - f), f, s);
            else
                ptc_diag_at(lx->diag, lx->src, off_of(lx, f), PTC_ERROR, "unknown-filter",
                            "unknown filter `%.*s`: use raw, xml, url, upper or lower", (int)(p - f), f);
            return chain;
        }
        chain |= (uint32_t)k << (n++ * PTC_FILTER_BITS);
    }
    return chain;
}

/* Text, variables and the end of the line. */
static ptc_tok_kind lex_body(ptc_lex *lx, ptc_tok *t)
{
    const char *name;
    lx->tok = lx->cur;
    /*!re2c
        [^@\n\x00]+    { return make(lx, t, PTC_TOK_TEXT, lx->tok, lx->cur); }
        "@" [A-Z0-9_]+ "@" {
            name = lx->tok + 1;
            int slot = ptc_slot_lookup(name, (size_t)(lx->cur - 1 - name));
            if (slot < 0) {
                /* Not a merge variable: the `@` is text and scanning resumes
                 * after it, so `@FOO@EXT@` still finds @EXT@ as sed did. */
                lx->cur = lx->tok + 1;
                return make(lx, t, PTC_TOK_TEXT, lx->tok, lx->cur);
            }
            make(lx, t, PTC_TOK_VAR, name, lx->cur - 1);
            t->slot = slot;
            return PTC_TOK_VAR;
        }
        "@" [A-Z0-9_]+ (":" [A-Za-z0-9_]*)+ "@" {
            name = lx->tok + 1;
            const char *colon = memchr(name, ':', (size_t)(lx->cur - name));
            int slot = ptc_slot_lookup(name, (size_t)(colon - name));
            if (slot < 0) {             /* as above: text, as the original has it */
                lx->cur = lx->tok + 1;
                return make(lx, t, PTC_TOK_TEXT, lx->tok, lx->cur);
            }
            make(lx, t, PTC_TOK_VAR, name, colon);
            t->slot = slot;
            t->filters = lex_filters(lx, colon, lx->cur - 1);
            return PTC_TOK_VAR;
        }
        "@"            { return make(lx, t, PTC_TOK_TEXT, lx->tok, lx->cur); }
        nl             { return end_of_line(lx, t); }
        "\x00"         { return nul_or_end(lx, t); }
    */
}

/* Just after a guard: the text that remains is a line start of its own for
 * `#` (comment) and the escapes, but `[` no longer opens a context. */
static ptc_tok_kind lex_after_guard(ptc_lex *lx, ptc_tok *t)
{
    lx->tok = lx->cur;
    /*!re2c
        "#"            { lx->cur = lx->tok; skip_line(lx); return make(lx, t, PTC_TOK_NL, lx->tok, lx->tok); }
        "\\" [#[]      { lx->state = S_BODY; return make(lx, t, PTC_TOK_TEXT, lx->tok + 1, lx->cur); }
        *              { lx->cur = lx->tok; lx->state = S_BODY; return lex_body(lx, t); }
    */
}

static ptc_tok_kind lex_bol(ptc_lex *lx, ptc_tok *t)
{
    for (;;) {
        lx->tok = lx->cur;
        /*!re2c
            nl         { continue; }
            "["        { lx->state = S_HDR; return make(lx, t, PTC_TOK_HDR_OPEN, lx->tok, lx->cur); }
            "\\" [#[]  { lx->state = S_BODY; return make(lx, t, PTC_TOK_TEXT, lx->tok + 1, lx->cur); }
            "#<!" ([^!>\n\x00]* "!")+ ">" {
                lx->state = S_GUARD;
                return make(lx, t, PTC_TOK_GUARD_EXCEPT, lx->tok + 3, lx->cur - 2);
            }
            "#<" [^!>\n\x00] [^>\n\x00]* ">" {
                lx->state = S_GUARD;
                return make(lx, t, PTC_TOK_GUARD_ONLY, lx->tok + 2, lx->cur - 1);
            }
            "#<>"      {
                warn(lx, lx->tok, "guard-empty", "empty guard `#<>` matches no extension: the line is a comment");
                lx->cur = lx->tok; skip_line(lx); continue;
            }
            "#<!" [^>\n\x00]* {
                warn(lx, lx->tok, "guard-unterminated",
                     "exception guard without its closing `!>` (as in `#<!201!202!>`): the line is a comment");
                lx->cur = lx->tok; skip_line(lx); continue;
            }
            "#<" [^>\n\x00]* {
                warn(lx, lx->tok, "guard-unterminated", "guard without a closing `>` (or `!>`): the line is a comment");
                lx->cur = lx->tok; skip_line(lx); continue;
            }
            "#"        { lx->cur = lx->tok; skip_line(lx); continue; }
            "\x00"     { return nul_or_end(lx, t); }
            *          { lx->cur = lx->tok; lx->state = S_BODY; return lex_body(lx, t); }
        */
    }
}

ptc_tok_kind ptc_lex_next(ptc_lex *lx, ptc_tok *t)
{
    switch (lx->state) {
    case S_BOL:   return lex_bol(lx, t);
    case S_GUARD: return lex_after_guard(lx, t);
    case S_HDR:   return lex_hdr(lx, t);
    default:      return lex_body(lx, t);
    }
}

const char *ptc_lex_tok_name(ptc_tok_kind k)
{
    static const char *const names[] = {
        "end of file", "end of line", "`[`", "context name", "`]`",
        "guard", "guard", "text", "variable", "NUL byte"
    };
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "token";
}
