/* The template grammar.
 *
 *   template : line*
 *   line     : '[' NAME ']' NL            a context header
 *            | guard? segment* NL         a line of the current context
 *   guard    : GUARD_ONLY | GUARD_EXCEPT
 *   segment  : TEXT | VAR
 *
 * Lines before the first header form the global section.  Actions append to
 * the IR through the small helpers in the epilogue; a syntax error skips to
 * the end of its line (`error NL`) so every broken line is reported once.
 */
%require "3.8"
%define api.pure full
%define api.prefix {ptc_yy}
%define api.location.type {ptc_loc}
%define parse.error custom
%locations
%param {ptc_parser *P}

%code requires {
#include <stdint.h>
#include <string.h>
#include "ptc/ir.h"
#include "ptc/lex.h"
#include "ptc/diag.h"

typedef struct ptc_loc { uint32_t start, end; } ptc_loc;

typedef struct ptc_parser {
    ptc_lex lex;
    ptc_ir *ir;
    ptc_diag *diag;
    ptc_ir_context *cur;        /* NULL: global section */
    int in_unknown;             /* under a header we do not know */
    ptc_ir_line *line;          /* the line being built */
    ptc_ir_seg *seg_last;
} ptc_parser;

#define YYLLOC_DEFAULT(Cur, Rhs, N) do {                       \
        if (N) { (Cur).start = YYRHSLOC(Rhs, 1).start;        \
                 (Cur).end = YYRHSLOC(Rhs, N).end; }          \
        else   { (Cur).start = (Cur).end = YYRHSLOC(Rhs, 0).end; } \
    } while (0)
}

%code provides {
int ptc_yylex(PTC_YYSTYPE *val, ptc_loc *loc, ptc_parser *P);
}

%union { ptc_tok tok; }

%token <tok> HDR_OPEN  "`[`"
%token <tok> HDR_NAME  "context name"
%token <tok> HDR_CLOSE "`]`"
%token <tok> GUARD_ONLY "guard"
%token <tok> GUARD_EXCEPT "exception guard"
%token <tok> TEXT "text"
%token <tok> VAR "variable"
%token <tok> NL "end of line"
%token <tok> NUL "NUL byte"

%code {
static void open_context(ptc_parser *P, const ptc_tok *open, const ptc_tok *name);
static void begin_line(ptc_parser *P, uint32_t off);
static void set_guard(ptc_parser *P, const ptc_tok *g, ptc_guard_kind kind);
static void add_segment(ptc_parser *P, const ptc_tok *t, ptc_seg_kind kind);
static void end_line(ptc_parser *P);
static void yyerror(const ptc_loc *loc, ptc_parser *P, const char *msg);
}

%%

template
    : %empty
    | template line
    ;

line
    : header NL
    | begin guard segments NL      { end_line(P); }
    | begin segments_1 NL          { end_line(P); }
    | error NL                     { yyerrok; P->line = NULL; }
    ;

header
    : HDR_OPEN HDR_NAME HDR_CLOSE  { open_context(P, &$1, &$2); }
    ;

begin
    : %empty                       { begin_line(P, @$.start); }
    ;

guard
    : GUARD_ONLY                   { set_guard(P, &$1, PTC_GUARD_ONLY); }
    | GUARD_EXCEPT                 { set_guard(P, &$1, PTC_GUARD_EXCEPT); }
    ;

segments
    : %empty
    | segments_1
    ;

segments_1
    : segment
    | segments_1 segment
    ;

segment
    : TEXT                         { add_segment(P, &$1, PTC_SEG_TEXT); }
    | VAR                          { add_segment(P, &$1, PTC_SEG_VAR); }
    ;

%%

int ptc_yylex(PTC_YYSTYPE *val, ptc_loc *loc, ptc_parser *P)
{
    static const int map[] = {
        [PTC_TOK_END] = PTC_YYEOF, [PTC_TOK_NL] = NL,
        [PTC_TOK_HDR_OPEN] = HDR_OPEN, [PTC_TOK_HDR_NAME] = HDR_NAME,
        [PTC_TOK_HDR_CLOSE] = HDR_CLOSE, [PTC_TOK_GUARD_ONLY] = GUARD_ONLY,
        [PTC_TOK_GUARD_EXCEPT] = GUARD_EXCEPT, [PTC_TOK_TEXT] = TEXT,
        [PTC_TOK_VAR] = VAR, [PTC_TOK_NUL] = NUL,
    };
    ptc_tok_kind k = ptc_lex_next(&P->lex, &val->tok);
    loc->start = val->tok.off;
    loc->end = val->tok.off + val->tok.len;
    return map[k];
}

/* Messages say what went wrong in the template's terms, not the grammar's. */
static int yyreport_syntax_error(const yypcontext_t *ctx, ptc_parser *P)
{
    const ptc_loc *loc = yypcontext_location(ctx);
    yysymbol_kind_t got = yypcontext_token(ctx);
    yysymbol_kind_t want[4];
    int n = yypcontext_expected_tokens(ctx, want, 4);
    const char *msg;
    if (got == YYSYMBOL_NUL)
        msg = "NUL byte in template text";
    else if (n >= 1 && want[0] == YYSYMBOL_HDR_CLOSE)
        msg = "unterminated context header: expected `]`";
    else if (n >= 1 && want[0] == YYSYMBOL_HDR_NAME)
        msg = "empty context header: expected a name between `[` and `]`";
    else
        msg = "syntax error";
    ptc_diag_at(P->diag, P->ir->src, loc->start, PTC_ERROR, "syntax", "%s", msg);
    return 0;
}

static void yyerror(const ptc_loc *loc, ptc_parser *P, const char *msg)
{
    ptc_diag_at(P->diag, P->ir->src, loc->start, PTC_ERROR, "syntax", "%s", msg);
}

static void open_context(ptc_parser *P, const ptc_tok *open, const ptc_tok *name)
{
    ptc_ir *ir = P->ir;
    const char *s = ir->src->text + name->val_off;
    int ctx = ptc_ctx_lookup(s, name->val_len);
    ptc_ir_header *h = ptc_ir_alloc(ir, sizeof *h);
    h->off = open->off;
    h->name_off = name->val_off;
    h->name_len = name->val_len;
    h->ctx = ctx;
    if (ir->headers_last) ir->headers_last->next = h; else ir->headers = h;
    ir->headers_last = h;
    if (ctx < 0) {
        /* The original ends the current context here and keeps nothing
         * until a known header: the same, with a warning. */
        ptc_diag_at(P->diag, ir->src, name->val_off, PTC_WARNING, "unknown-context",
                    "unknown context [%.*s]: its lines are ignored",
                    (int)name->val_len, s);
        P->cur = NULL;
        P->in_unknown = 1;
        return;
    }
    P->cur = &ir->ctx[ctx];
    P->cur->present = 1;
    P->cur->parts++;
    P->in_unknown = 0;
}

static void begin_line(ptc_parser *P, uint32_t off)
{
    /* `begin` is empty, so its location is the end of the previous token,
     * which may sit on a comment line; the line's first token sets off. */
    (void)off;
    P->line = ptc_ir_alloc(P->ir, sizeof *P->line);
    P->line->off = UINT32_MAX;
    P->seg_last = NULL;
}

static void set_guard(ptc_parser *P, const ptc_tok *g, ptc_guard_kind kind)
{
    ptc_ir_line *l = P->line;
    const char *text = P->ir->src->text;
    l->off = g->off;
    l->guard = kind;
    l->guard_off = g->off;
    l->guard_len = g->len;
    ptc_ir_ext **tail = &l->exts;
    uint32_t i = g->val_off, end = g->val_off + g->val_len;
    for (;;) {                          /* split a!b!c (ONLY has no `!` inside) */
        uint32_t j = i;
        while (j < end && (kind == PTC_GUARD_ONLY || text[j] != '!')) j++;
        if (j > i || kind == PTC_GUARD_ONLY) {
            ptc_ir_ext *e = ptc_ir_alloc(P->ir, sizeof *e);
            e->off = i;
            e->len = j - i;
            *tail = e;
            tail = &e->next;
        }
        if (j >= end) break;
        i = j + 1;
    }
}

static void add_segment(ptc_parser *P, const ptc_tok *t, ptc_seg_kind kind)
{
    ptc_ir_seg *s = ptc_ir_alloc(P->ir, sizeof *s);
    if (P->line->off == UINT32_MAX) P->line->off = t->off;
    s->kind = kind;
    s->off = kind == PTC_SEG_TEXT ? t->val_off : t->off;
    s->len = kind == PTC_SEG_TEXT ? t->val_len : t->len;
    s->slot = t->slot;
    s->filters = t->filters;
    if (P->seg_last) P->seg_last->next = s; else P->line->segs = s;
    P->seg_last = s;
}

static void end_line(ptc_parser *P)
{
    ptc_ir *ir = P->ir;
    ptc_ir_line *l = P->line;
    P->line = NULL;
    if (!l) return;
    if (P->in_unknown) { ir->nlines_ignored++; return; }
    if (!P->cur) {
        if (ir->global_last) ir->global_last->next = l; else ir->global_first = l;
        ir->global_last = l;
        return;
    }
    if (P->cur->last) P->cur->last->next = l; else P->cur->first = l;
    P->cur->last = l;
}

ptc_ir *ptc_parse(ptc_src *src, ptc_diag *diag)
{
    ptc_parser P;
    memset(&P, 0, sizeof P);
    P.ir = ptc_ir_new(src);
    P.diag = diag;
    ptc_lex_init(&P.lex, src, diag);
    if (ptc_yyparse(&P) != 0 && diag->errors == 0)
        ptc_diag_at(diag, src, src->len, PTC_ERROR, "syntax", "cannot parse template");
    return P.ir;
}
