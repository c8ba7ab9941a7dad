/* ptc_lex: the template lexer (grammar/lexer.re, compiled by re2c).
 *
 * The language is line-oriented and what a character means depends on where
 * it stands in the line, so the lexer keeps a small state:
 *
 *   BOL    line start: `[` opens a context header, `#` is a comment or a
 *          guard, `\#` and `\[` are escapes, an empty line is skipped
 *   GUARD  just after a guard: `#` makes the rest a comment, `[` is text
 *   HDR    inside `[name]`
 *   BODY   text, @VAR@ and the newline
 *
 * Tokens carry byte offsets into the source.  Guard oddities that the
 * original tool treated as comments (`#<500 text`, `#<>`) stay comments and
 * get a warning.
 *
 * Ownership: a lexer borrows its source; tokens point into it.
 */
#ifndef PTC_LEX_H
#define PTC_LEX_H

#include <stdint.h>
#include "ptc/src.h"
#include "ptc/diag.h"

typedef enum {
    PTC_TOK_END,         /* end of input */
    PTC_TOK_NL,          /* end of a line that produced tokens */
    PTC_TOK_HDR_OPEN,    /* `[` at line start */
    PTC_TOK_HDR_NAME,    /* the name inside [...] */
    PTC_TOK_HDR_CLOSE,   /* `]` and whatever follows it on the line */
    PTC_TOK_GUARD_ONLY,  /* #<ext>       val: ext */
    PTC_TOK_GUARD_EXCEPT,/* #<!a!b!>     val: a!b */
    PTC_TOK_TEXT,        /* literal bytes, val: the bytes */
    PTC_TOK_VAR,         /* @NAME@ or @NAME:filter...@ of a merge variable: slot, filters */
    PTC_TOK_NUL          /* a NUL byte in the text: an error */
} ptc_tok_kind;

typedef struct ptc_tok {
    ptc_tok_kind kind;
    uint32_t off, len;          /* the whole token */
    uint32_t val_off, val_len;  /* its payload (a VAR: the name) */
    int slot;
    uint32_t filters;           /* a VAR's filter chain (lang.h), 0: none */
} ptc_tok;

typedef struct ptc_lex {
    ptc_src *src;
    ptc_diag *diag;
    const char *cur, *lim, *mark, *tok;
    int state;
    int pending_nl;             /* END reached mid-line: emit NL first */
} ptc_lex;

void ptc_lex_init(ptc_lex *lx, ptc_src *src, ptc_diag *diag);
ptc_tok_kind ptc_lex_next(ptc_lex *lx, ptc_tok *tok);
const char *ptc_lex_tok_name(ptc_tok_kind k);

#endif
