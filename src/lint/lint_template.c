/* ptc lint: the template checks (docs/lint.md).
 *
 * The template is parsed and compiled by the very functions `ptc run` uses,
 * so syntax errors and a missing [general] are reported by them, word for
 * word.  The checks here read the IR those functions built: they only add
 * findings about templates that compile but would not do what their author
 * meant.
 */
#include "ptc/lint.h"
#include "ptc/buf.h"
#include "ptc/comp.h"
#include "ptc/lang.h"
#include "ptc/parse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Slot families of the per-line variables; a slot's line is slot - base. */
static const int line_bases[] = {
    PTC_SLOT_EXT1, PTC_SLOT_CID_NAME1, PTC_SLOT_CID_NUM1, PTC_SLOT_PASSWORD1, PTC_SLOT_ACCOUNT1,
};

/* 1-based line of a per-line slot, 0 for the other slots. */
static unsigned slot_line(int slot)
{
    for (size_t i = 0; i < sizeof line_bases / sizeof line_bases[0]; i++)
        if (slot >= line_bases[i] && slot < line_bases[i] + PTC_MAX_LINES)
            return (unsigned)(slot - line_bases[i]) + 1;
    return 0;
}

static int slot_in(int slot, int base)
{
    return slot >= base && slot < base + PTC_MAX_LINES;
}

/* Slots whose value differs from phone to phone in a way that makes a file
 * name unique: the MAC in every form, the extensions and the accounts. */
static int slot_varies(int slot)
{
    return slot == PTC_SLOT_MAC || slot == PTC_SLOT_MAC4 || slot == PTC_SLOT_MAC6 ||
           slot == PTC_SLOT_MAC_ADDR || slot_in(slot, PTC_SLOT_EXT1) || slot_in(slot, PTC_SLOT_ACCOUNT1);
}

static uint32_t line_no(const ptc_src *src, uint32_t off)
{
    unsigned line, col;
    ptc_src_linecol((ptc_src *)src, off, &line, &col);
    return line;
}

/* ---- [general] values --------------------------------------------------- */

/* A [general] value as the compiler reads it: from value_off up to the
 * first space, across the line's segments (see compile_general_line). */
typedef struct gval {
    uint32_t off, end;          /* source span of the value (variables included) */
    uint64_t slots;             /* bit per variable slot in the value */
    int has_var;
    ptc_buf lit;                /* the literal bytes, CR of CRLF dropped */
} gval;

static void read_value(const ptc_ir *ir, const ptc_ir_line *l, uint32_t value_off, gval *v)
{
    const char *text = ir->src->text;
    v->off = v->end = value_off;
    v->slots = 0;
    v->has_var = 0;
    v->lit.len = 0;
    for (const ptc_ir_seg *s = l->segs; s; s = s->next) {
        if (s->kind == PTC_SEG_VAR) {
            v->has_var = 1;
            v->slots |= 1ull << s->slot;
            v->end = s->off + s->len;
            continue;
        }
        uint32_t from = s == l->segs ? value_off : s->off, to = s->off + s->len, stop = from;
        while (stop < to && text[stop] != ' ') stop++;
        uint32_t keep = stop;
        if (!s->next && stop == to && keep > from && text[keep - 1] == '\r') keep--;
        ptc_buf_put(&v->lit, text + from, keep - from);
        v->end = keep;
        if (stop < to) break;
    }
}

/* The allowed words of a key with a fixed set of values; NULL otherwise.
 * case_sensitive mirrors src/phone.c: the *_case keys are compared as
 * written, sql_enable and sip_driver lower-cased. */
static const char *const *key_words(int key, int *case_sensitive)
{
    static const char *const updown[] = {"upper", "lower", NULL};
    static const char *const yesno[] = {"yes", "no", NULL};
    static const char *const drivers[] = {"sip", "pjsip", NULL};
    *case_sensitive = key == PTC_KEY_MACADDRESS_CASE || key == PTC_KEY_AUTO_ACCOUNT_CASE;
    switch (key) {
    case PTC_KEY_MACADDRESS_CASE: case PTC_KEY_AUTO_ACCOUNT_CASE: return updown;
    case PTC_KEY_SQL_ENABLE: return yesno;
    case PTC_KEY_SIP_DRIVER: return drivers;
    default: return NULL;
    }
}

static int word_is(const ptc_buf *b, const char *w, int case_sensitive)
{
    size_t n = strlen(w);
    if (b->len != n) return 0;
    return case_sensitive ? memcmp(b->data, w, n) == 0 : strncasecmp(b->data, w, n) == 0;
}

/* A tab (or another control character) stays in a value, which ends only
 * at a space: usually a comment typed after it.  In a path or file name
 * `ptc run` refuses it (unsafe-path), elsewhere it goes into the files. */
static void check_value_control(ptc_lint *L, ptc_ir *ir, int key, const gval *v)
{
    for (size_t i = 0; i < v->lit.len; i++) {
        unsigned char c = (unsigned char)v->lit.data[i];
        if (c >= 0x20 && c != 0x7f) continue;
        const char *name = ptc_key_names[key];
        size_t n = strlen(name);
        int path = (n > 5 && !strcmp(name + n - 5, "_path")) || (n > 5 && !strcmp(name + n - 5, "_file"));
        ptc_diag_at(&L->checks, ir->src, v->off + (uint32_t)i, path ? PTC_ERROR : PTC_WARNING, "value-control",
                    "%s: a %s in the value stays in it (a value ends only at a space)%s",
                    name, c == '\t' ? "tab" : "control character",
                    path ? "; ptc run refuses such a path" : "");
        return;
    }
}

static void check_value(ptc_lint *L, ptc_ir *ir, int key, const gval *v)
{
    check_value_control(L, ir, key, v);
    int cs;
    const char *const *words = key_words(key, &cs);
    if (!words || v->has_var || v->lit.len == 0) return;
    for (size_t i = 0; words[i]; i++)
        if (word_is(&v->lit, words[i], cs)) return;
    int other_case = 0;
    for (size_t i = 0; words[i]; i++) other_case |= word_is(&v->lit, words[i], 0);
    const char *effect;
    switch (key) {
    case PTC_KEY_MACADDRESS_CASE: effect = "@MAC@ keeps the case typed in the phone list"; break;
    case PTC_KEY_AUTO_ACCOUNT_CASE: effect = "the account prefix and suffix keep their case"; break;
    case PTC_KEY_SQL_ENABLE: effect = "anything but `yes` turns the phoneprov table off"; break;
    default: effect = "the value goes into the table's sip_driver column as written"; break;
    }
    ptc_diag_at(&L->checks, ir->src, v->off, PTC_ERROR, "bad-value",
                "%s=%.*s: the value must be `%s` or `%s`%s; %s", ptc_key_names[key],
                (int)v->lit.len, v->lit.data, words[0], words[1],
                other_case ? ", in lower case" : "", effect);
}

/* ---- [general] ---------------------------------------------------------- */

static int is_blank_line(const ptc_ir *ir, const ptc_ir_line *l)
{
    for (const ptc_ir_seg *s = l->segs; s; s = s->next) {
        if (s->kind != PTC_SEG_TEXT) return 0;
        for (uint32_t i = s->off; i < s->off + s->len; i++)
            if (!strchr(" \t\r", ir->src->text[i])) return 0;
    }
    return 1;
}

/* The known key names, NULL-terminated, for suggestions. */
static const char *const *key_names_list(void)
{
    static const char *names[PTC_KEY_COUNT + 1];
    for (int i = 0; i < PTC_KEY_COUNT; i++) names[i] = ptc_key_names[i];
    names[PTC_KEY_COUNT] = NULL;
    return names;
}

/* A line of [general] that is not `key=value`: indented keys are the
 * likely mistake, so they get their own message. */
static void report_not_key(ptc_lint *L, ptc_ir *ir, const ptc_ir_line *l)
{
    const ptc_ir_seg *s = l->segs;
    const char *t = ir->src->text;
    if (s && s->kind == PTC_SEG_TEXT) {
        uint32_t i = s->off, end = s->off + s->len;
        while (i < end && (t[i] == ' ' || t[i] == '\t')) i++;
        uint32_t k = i;
        while (k < end && (isalnum((unsigned char)t[k]) || t[k] == '_')) k++;
        if (i > s->off && k > i && k < end && memchr(t + k, '=', end - k)) {
            ptc_diag_at(&L->checks, ir->src, i, PTC_WARNING, "general-syntax",
                        "indented key `%.*s`: a [general] key must start the line, this one is ignored",
                        (int)(k - i), t + i);
            return;
        }
    }
    ptc_diag_at(&L->checks, ir->src, l->off, PTC_WARNING, "general-syntax",
                "not a `key=value` line: [general] ignores it");
}

typedef struct keyinfo {
    const ptc_ir_line *first;         /* first definition, any guard */
    const ptc_ir_line *last_plain;    /* last unguarded definition */
} keyinfo;

/* Which context a key configures, or -1 (for unused-key findings). */
static int key_context(int key)
{
    if (key >= PTC_KEY_DIALPLAN1_FILE && key <= PTC_KEY_DIALPLAN6_FILE)
        return PTC_CTX_DIALPLAN1 + (key - PTC_KEY_DIALPLAN1_FILE);
    if (key >= PTC_KEY_DIALPLAN1_CONTEXT && key <= PTC_KEY_DIALPLAN6_CONTEXT)
        return PTC_CTX_DIALPLAN1 + (key - PTC_KEY_DIALPLAN1_CONTEXT);
    switch (key) {
    case PTC_KEY_SIP_PATH: case PTC_KEY_SIP_FILE: return PTC_CTX_SIP;
    case PTC_KEY_PJSIP_PATH: case PTC_KEY_PJSIP_FILE: return PTC_CTX_PJSIP;
    case PTC_KEY_PROV_PATH: case PTC_KEY_PROV_FILE: return PTC_CTX_PHONEPROV;
    default: return -1;
    }
}

static int any_dialplan(const ptc_ir *ir)
{
    for (int c = PTC_CTX_DIALPLAN1; c <= PTC_CTX_DIALPLAN6; c++)
        if (ir->ctx[c].present) return 1;
    return 0;
}

/* In line order: each key at its first definition. */
static void check_unused_keys(ptc_lint *L, ptc_ir *ir, const keyinfo *ki)
{
    for (const ptc_ir_line *l = ir->ctx[PTC_CTX_GENERAL].first; l; l = l->next) {
        int key = 0;
        while (key < PTC_KEY_COUNT && ki[key].first != l) key++;
        if (key == PTC_KEY_COUNT) continue;
        int ctx = key_context(key);
        if (key == PTC_KEY_DIALPLAN_PATH && !any_dialplan(ir))
            ptc_diag_at(&L->checks, ir->src, ki[key].first->off, PTC_WARNING, "dialplan-unused",
                        "dialplan_path is set but the template has no [dialplan] ... [dialplan6] context: it has no effect");
        if (ctx < 0 || ir->ctx[ctx].present) continue;
        int dp = ctx >= PTC_CTX_DIALPLAN1 && ctx <= PTC_CTX_DIALPLAN6;
        ptc_diag_at(&L->checks, ir->src, ki[key].first->off, PTC_WARNING, dp ? "dialplan-unused" : "key-unused",
                    "%s is set but the template has no [%s] context: it has no effect",
                    ptc_key_names[key], ptc_ctx_names[ctx]);
    }
}

/* prov_file (with prov_path) must name a different file for each phone;
 * a definition guarded by #<ext> applies to one extension only. */
static void check_prov_file(ptc_lint *L, ptc_ir *ir)
{
    if (!ir->ctx[PTC_CTX_PHONEPROV].present) return;
    gval v = {0};
    int path_varies = 0;
    for (const ptc_ir_line *l = ir->ctx[PTC_CTX_GENERAL].first; l; l = l->next) {
        uint32_t no, nl, vo;
        if (ptc_comp_general_key(ir, l, &no, &nl, &vo) != PTC_KEY_PROV_PATH) continue;
        read_value(ir, l, vo, &v);
        for (int s = 0; s < PTC_SLOT_COUNT; s++)
            if ((v.slots >> s & 1) && slot_varies(s)) path_varies = 1;
    }
    for (const ptc_ir_line *l = ir->ctx[PTC_CTX_GENERAL].first; l && !path_varies; l = l->next) {
        uint32_t no, nl, vo;
        if (l->guard == PTC_GUARD_ONLY) continue;
        if (ptc_comp_general_key(ir, l, &no, &nl, &vo) != PTC_KEY_PROV_FILE) continue;
        read_value(ir, l, vo, &v);
        if (v.off == v.end) continue;           /* empty: the default @MAC@.cfg */
        int varies = 0;
        for (int s = 0; s < PTC_SLOT_COUNT; s++)
            if ((v.slots >> s & 1) && slot_varies(s)) varies = 1;
        if (varies) continue;
        ptc_diag_at(&L->checks, ir->src, v.off, PTC_WARNING, "prov-file-constant",
                    "prov_file=%.*s depends on neither the MAC nor the extension: every phone would "
                    "write the same [phoneprov] file (use @MAC@ or @EXT@ in it)",
                    (int)(v.end - v.off), ir->src->text + v.off);
    }
    ptc_buf_free(&v.lit);
}

static void check_general(ptc_lint *L, ptc_ir *ir)
{
    keyinfo ki[PTC_KEY_COUNT];
    memset(ki, 0, sizeof ki);
    gval v = {0};
    const char *t = ir->src->text;
    for (const ptc_ir_line *l = ir->ctx[PTC_CTX_GENERAL].first; l; l = l->next) {
        if (is_blank_line(ir, l)) continue;
        uint32_t name_off, name_len, value_off;
        int key = ptc_comp_general_key(ir, l, &name_off, &name_len, &value_off);
        if (key == -2) { report_not_key(L, ir, l); continue; }
        if (key == -1) {
            const char *s = ptc_diag_suggest(t + name_off, name_len, key_names_list());
            if (s)
                ptc_diag_at(&L->checks, ir->src, name_off, PTC_WARNING, "unknown-key",
                            "unknown [general] key `%.*s` is ignored; did you mean `%s`?",
                            (int)name_len, t + name_off, s);
            else
                ptc_diag_at(&L->checks, ir->src, name_off, PTC_WARNING, "unknown-key",
                            "unknown [general] key `%.*s` is ignored", (int)name_len, t + name_off);
            continue;
        }
        read_value(ir, l, value_off, &v);
        check_value(L, ir, key, &v);
        if (!ki[key].first) ki[key].first = l;
        if (l->guard != PTC_GUARD_NONE) continue;
        if (ki[key].last_plain)
            ptc_diag_at(&L->checks, ir->src, name_off, PTC_WARNING, "duplicate-key",
                        "%s is set again: this value replaces the one on line %u",
                        ptc_key_names[key], (unsigned)line_no(ir->src, ki[key].last_plain->off));
        ki[key].last_plain = l;
    }
    ptc_buf_free(&v.lit);
    check_unused_keys(L, ir, ki);
    check_prov_file(L, ir);
}

/* ---- headers, the global section, guards ---------------------------------- */

/* The context names, NULL-terminated (ptc_ctx_names is not). */
static const char *const *ctx_names_list(void)
{
    static const char *names[PTC_CTX_COUNT + 1];
    for (int i = 0; i < PTC_CTX_COUNT; i++) names[i] = ptc_ctx_names[i];
    names[PTC_CTX_COUNT] = NULL;
    return names;
}

static void check_headers(ptc_lint *L, ptc_ir *ir)
{
    const ptc_ir_header *first[PTC_CTX_COUNT] = {0};
    const char *t = ir->src->text;
    for (const ptc_ir_header *h = ir->headers; h; h = h->next) {
        if (h->ctx < 0) {
            /* The parser warned already; a near miss gets a suggestion. */
            uint32_t o = h->name_off, n = h->name_len;
            while (n && t[o] == ' ') { o++; n--; }
            while (n && t[o + n - 1] == ' ') n--;
            const char *s = ptc_diag_suggest(t + o, n, ctx_names_list());
            if (s)
                ptc_diag_at(&L->checks, ir->src, h->name_off, PTC_NOTE, "unknown-context",
                            "did you mean [%s]?", s);
            continue;
        }
        if (!first[h->ctx]) { first[h->ctx] = h; continue; }
        ptc_diag_at(&L->checks, ir->src, h->name_off, PTC_WARNING, "duplicate-context",
                    "context [%s] appears again (first on line %u): its parts are joined in file order",
                    ptc_ctx_names[h->ctx], (unsigned)line_no(ir->src, first[h->ctx]->off));
    }
}

/* Length in characters (UTF-8) of n bytes. */
static size_t utf8_len(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) c++;
    return c;
}

#define MENU_NAME_MAX 40

static void check_global(ptc_lint *L, ptc_ir *ir)
{
    static const char key[] = "menu_name=";
    const char *t = ir->src->text;
    for (const ptc_ir_line *l = ir->global_first; l; l = l->next) {
        const ptc_ir_seg *s = l->segs;
        if (l->guard != PTC_GUARD_NONE || !s || s->kind != PTC_SEG_TEXT) continue;
        if (s->len >= sizeof key - 1 && memcmp(t + s->off, key, sizeof key - 1) == 0) {
            uint32_t from = s->off + sizeof key - 1, to = from;
            while (to < ir->src->len && t[to] != '\n') to++;
            if (to > from && t[to - 1] == '\r') to--;
            size_t n = utf8_len(t + from, to - from);
            if (n > MENU_NAME_MAX)
                ptc_diag_at(&L->checks, ir->src, from, PTC_WARNING, "menu-name-long",
                            "menu_name is %zu characters long: the web interface's Template menu "
                            "is made for %d or fewer", n, MENU_NAME_MAX);
            continue;
        }
        /* A [general] key written above [general] is a likely slip. */
        uint32_t k = s->off, end = s->off + s->len;
        while (k < end && t[k] != '=' && t[k] != ' ') k++;
        if (k < end && t[k] == '=' && ptc_key_lookup(t + s->off, k - s->off) >= 0)
            ptc_diag_at(&L->checks, ir->src, s->off, PTC_WARNING, "global-ignored",
                        "`%.*s` before the first context is ignored: [general] keys belong in [general]",
                        (int)(k - s->off), t + s->off);
    }
}

static int valid_ext_char(char c)
{
    return isdigit((unsigned char)c) || c == '*' || c == '#' || c == '+';
}

static void check_guard(ptc_lint *L, ptc_ir *ir, const ptc_ir_line *l)
{
    const char *t = ir->src->text;
    if (l->guard == PTC_GUARD_NONE) return;
    if (l->guard == PTC_GUARD_EXCEPT && !l->exts) {
        ptc_diag_at(&L->checks, ir->src, l->guard_off, PTC_WARNING, "guard-matches-all",
                    "guard `%.*s` lists no extension, so it excludes none: the line is used for every extension",
                    (int)l->guard_len, t + l->guard_off);
        return;
    }
    for (const ptc_ir_ext *e = l->exts; e; e = e->next) {
        int ok = e->len > 0;
        for (uint32_t i = 0; i < e->len; i++) ok &= valid_ext_char(t[e->off + i]);
        if (ok) continue;
        if (l->guard == PTC_GUARD_ONLY)
            ptc_diag_at(&L->checks, ir->src, e->off, PTC_WARNING, "guard-never",
                        "guard `%.*s` can never match: extensions hold only digits, `*`, `#` and `+`, "
                        "so the line is always a comment", (int)l->guard_len, t + l->guard_off);
        else
            ptc_diag_at(&L->checks, ir->src, e->off, PTC_WARNING, "guard-never",
                        "`%.*s` in guard `%.*s` is not an extension (digits, `*`, `#` and `+`): it excludes none",
                        (int)e->len, t + e->off, (int)l->guard_len, t + l->guard_off);
    }
}

/* ---- variables ------------------------------------------------------------ */

static const char *const line_families[] = {"EXT", "CID_NAME", "CID_NUM", "PASSWORD", "ACCOUNT", "USERNAME"};

/* `@NAME@` that the lexer left as text: a typo, or an index out of 1..6. */
static void check_unknown_var(ptc_lint *L, ptc_ir *ir, uint32_t at, const char *name, size_t n)
{
    int upper = 1, letter = 0;
    for (size_t i = 0; i < n; i++) {
        if (islower((unsigned char)name[i])) upper = 0;
        if (isalpha((unsigned char)name[i])) letter = 1;
    }
    if (!letter) return;
    for (size_t f = 0; f < sizeof line_families / sizeof line_families[0]; f++) {
        size_t fl = strlen(line_families[f]);
        if (n <= fl || memcmp(name, line_families[f], fl) != 0) continue;
        size_t i = fl;
        while (i < n && isdigit((unsigned char)name[i])) i++;
        if (i != n) continue;
        ptc_diag_at(&L->checks, ir->src, at, PTC_ERROR, "var-index",
                    "@%.*s@ is not a variable: line numbers go from 1 to %d (@%s1@ ... @%s%d@)",
                    (int)n, name, PTC_MAX_LINES, line_families[f], line_families[f], PTC_MAX_LINES);
        return;
    }
    const char *s = ptc_diag_suggest(name, n, ptc_var_spellings);
    if (s)
        ptc_diag_at(&L->checks, ir->src, at, PTC_WARNING, "unknown-var",
                    "unknown variable @%.*s@ is output as written; did you mean @%s@?", (int)n, name, s);
    else if (upper)
        ptc_diag_at(&L->checks, ir->src, at, PTC_WARNING, "unknown-var",
                    "unknown variable @%.*s@ is output as written", (int)n, name);
}

/* Scans a line's text the way the lexer does (left to right, resuming after
 * the `@` of a name that is not a variable) for `@[A-Za-z0-9_]+@`. */
static void scan_line_vars(ptc_lint *L, ptc_ir *ir, const ptc_ir_line *l)
{
    const char *t = ir->src->text;
    for (const ptc_ir_seg *s = l->segs; s; s = s->next) {
        if (s->kind != PTC_SEG_TEXT) continue;
        uint32_t end = s->off + s->len;
        /* A name may end on the `@` that opens a following variable. */
        uint32_t line_end = s->off;
        for (const ptc_ir_seg *e = s; e; e = e->next) line_end = e->off + e->len;
        for (uint32_t p = s->off; p < end; p++) {
            if (t[p] != '@') continue;
            uint32_t q = p + 1;
            while (q < line_end && (isalnum((unsigned char)t[q]) || t[q] == '_')) q++;
            if (q > p + 1 && q < line_end && t[q] == '@')
                check_unknown_var(L, ir, p, t + p + 1, q - p - 1);
        }
    }
}

static void check_general_account(ptc_lint *L, ptc_ir *ir, const ptc_ir_line *l)
{
    const char *t = ir->src->text;
    for (const ptc_ir_seg *s = l->segs; s; s = s->next)
        if (s->kind == PTC_SEG_VAR && slot_in(s->slot, PTC_SLOT_ACCOUNT1))
            ptc_diag_at(&L->checks, ir->src, s->off, PTC_WARNING, "general-account",
                        "%.*s is always empty in [general]: the account is built from [general] values",
                        (int)s->len, t + s->off);
}

/* Does the context look like XML: a declaration, a closing or an empty tag. */
static int context_is_xml(const ptc_ir *ir, const ptc_ir_context *cx)
{
    const char *t = ir->src->text;
    for (const ptc_ir_line *l = cx->first; l; l = l->next)
        for (const ptc_ir_seg *s = l->segs; s; s = s->next) {
            if (s->kind != PTC_SEG_TEXT) continue;
            if (memmem(t + s->off, s->len, "<?xml", 5) || memmem(t + s->off, s->len, "</", 2) ||
                memmem(t + s->off, s->len, "/>", 2))
                return 1;
        }
    return 0;
}

/* The template's escape= default (as the compiler reads it), or 0. */
static unsigned template_escape(const ptc_ir *ir)
{
    unsigned esc = 0;
    for (const ptc_ir_line *l = ir->ctx[PTC_CTX_GENERAL].first; l; l = l->next) {
        uint32_t name_off, name_len, value_off;
        if (ptc_comp_general_key(ir, l, &name_off, &name_len, &value_off) != PTC_KEY_ESCAPE) continue;
        esc = strncmp(ir->src->text + value_off, "xml", 3) == 0 ? PTC_FILTER_XML : 0;
    }
    return esc;
}

static int chain_has(uint32_t chain, unsigned f)
{
    for (int i = 0; i < PTC_FILTER_CHAIN; i++)
        if ((chain >> (i * PTC_FILTER_BITS) & 0xf) == f) return 1;
    return 0;
}

/* Phone data that is not restricted to safe characters (CallerID names,
 * passwords, accounts) inserted into XML without the xml filter (written,
 * or the template's escape=xml): a warning at each such value, suggesting
 * the filter, and a note once.  The slots left unescaped are what the phone
 * list's xml-break check looks at. */
static void check_xml(ptc_lint *L, ptc_lint_tmpl *tm)
{
    ptc_ir *ir = tm->ir;
    const ptc_ir_context *cx = &ir->ctx[PTC_CTX_PHONEPROV];
    if (!cx->present || !context_is_xml(ir, cx)) return;
    const char *t = ir->src->text;
    unsigned esc = template_escape(ir);
    int warned = 0;
    for (const ptc_ir_line *l = cx->first; l; l = l->next)
        for (const ptc_ir_seg *s = l->segs; s; s = s->next) {
            if (s->kind != PTC_SEG_VAR) continue;
            if (!slot_in(s->slot, PTC_SLOT_CID_NAME1) && !slot_in(s->slot, PTC_SLOT_PASSWORD1) &&
                !slot_in(s->slot, PTC_SLOT_ACCOUNT1))
                continue;
            if (chain_has(s->filters, PTC_FILTER_XML) || (esc && !chain_has(s->filters, PTC_FILTER_RAW)))
                continue;
            tm->xml_slots |= 1ull << s->slot;
            const char *name = t + s->off + 1;
            size_t n = strcspn(name, ":@");
            ptc_diag_at(&L->checks, ir->src, s->off, PTC_WARNING, "xml-unescaped",
                        "[phoneprov] is XML, and @%.*s@ is inserted as typed: write @%.*s:xml@ "
                        "(or escape=xml in [general])", (int)n, name, (int)n, name);
            if (!warned++)
                ptc_diag_line(&L->checks, ir->src, line_no(ir->src, s->off), PTC_NOTE, "xml-unescaped",
                              "a `&` or `<` in a CallerID name, password or account would make the phone's "
                              "file invalid XML; ptc lint on the phone list finds such values");
        }
}

/* Syntax phoneprov-tools does not know: it leaves @NAME:filter@ in the file
 * as text and ignores escape=.  Off by default (-Wptc-only-syntax). */
static void check_ptc_only(ptc_lint *L, ptc_ir *ir)
{
    for (int c = 0; c < PTC_CTX_COUNT; c++)
        for (const ptc_ir_line *l = ir->ctx[c].first; l; l = l->next) {
            uint32_t name_off, name_len, value_off;
            if (c == PTC_CTX_GENERAL &&
                ptc_comp_general_key(ir, l, &name_off, &name_len, &value_off) == PTC_KEY_ESCAPE)
                ptc_diag_at(&L->checks, ir->src, name_off, PTC_NOTE, "ptc-only-syntax",
                            "escape= is ptc's: phoneprov-tools ignores it");
            for (const ptc_ir_seg *s = l->segs; s; s = s->next)
                if (s->kind == PTC_SEG_VAR && s->filters)
                    ptc_diag_at(&L->checks, ir->src, s->off, PTC_NOTE, "ptc-only-syntax",
                                "a filter is ptc's: phoneprov-tools writes `%.*s` into the file as it is",
                                (int)s->len, ir->src->text + s->off);
        }
}

static void check_lines(ptc_lint *L, ptc_lint_tmpl *tm)
{
    ptc_ir *ir = tm->ir;
    for (int c = 0; c < PTC_CTX_COUNT; c++)
        for (const ptc_ir_line *l = ir->ctx[c].first; l; l = l->next) {
            check_guard(L, ir, l);
            scan_line_vars(L, ir, l);
            if (c == PTC_CTX_GENERAL) { check_general_account(L, ir, l); continue; }
            for (const ptc_ir_seg *s = l->segs; s; s = s->next) {
                unsigned n = s->kind == PTC_SEG_VAR ? slot_line(s->slot) : 0;
                if (n > tm->lines_used) tm->lines_used = n;
            }
        }
}

/* ---- entry point ------------------------------------------------------------ */

ptc_lint_tmpl *ptc_lint_template(ptc_lint *L, ptc_src *src, const char *name, const char *real)
{
    ptc_lint_tmpl *tm = ptc_xcalloc(1, sizeof *tm);
    tm->name = ptc_xstrdup(name);
    tm->real = real ? ptc_xstrdup(real) : NULL;
    tm->src = src;
    unsigned before = L->diag->errors;
    tm->ir = ptc_parse(src, L->diag);
    /* After a syntax error the IR is a guess (a broken header leaves its
     * lines in the previous context): the checks would only add noise. */
    if (L->diag->errors == before) {
        tm->prog = ptc_comp(tm->ir, L->diag);
        check_headers(L, tm->ir);
        check_global(L, tm->ir);
        check_general(L, tm->ir);
        check_lines(L, tm);
        check_xml(L, tm);
        check_ptc_only(L, tm->ir);
    }
    L->t = ptc_xrealloc(L->t, (L->nt + 1) * sizeof *L->t);
    L->t[L->nt++] = tm;
    return tm;
}
