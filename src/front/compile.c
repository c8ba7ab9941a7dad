/* The compiler: IR -> bytecode program. */
#include "ptc/comp.h"
#include "ptc/parse.h"
#include "ptc/buf.h"

#include <stdlib.h>
#include <string.h>

typedef struct comp {
    ptc_ir  *ir;
    ptc_diag *diag;
    ptc_prog *p;
    uint32_t cap_code, cap_k;
    ptc_buf  kdata;
    uint32_t *khash;            /* open addressing: const index + 1, 0 empty */
    uint32_t khash_cap;
    ptc_buf  pending;           /* literal text not yet emitted */
    uint32_t pending_line;
    uint32_t escape;            /* escape= of [general]: the default filter of
                                 * [phoneprov]'s variables, or 0 */
} comp;

static uint32_t line_of(comp *C, uint32_t off)
{
    unsigned line, col;
    ptc_src_linecol(C->ir->src, off, &line, &col);
    return line;
}

static uint32_t emit(comp *C, uint8_t op, uint8_t a, uint32_t b, uint32_t c, uint32_t line)
{
    ptc_prog *p = C->p;
    if (p->ncode == C->cap_code) {
        C->cap_code = C->cap_code ? C->cap_code * 2 : 64;
        p->code = ptc_xrealloc(p->code, C->cap_code * sizeof *p->code);
        p->lines = ptc_xrealloc(p->lines, C->cap_code * sizeof *p->lines);
    }
    ptc_insn *i = &p->code[p->ncode];
    i->op = op; i->a = a; i->pad = 0; i->b = b; i->c = c;
    p->lines[p->ncode] = line;
    return p->ncode++;
}

static void khash_grow(comp *C);

/* Interns bytes in the constant pool; equal strings share one index. */
static uint32_t intern(comp *C, const char *s, size_t n)
{
    ptc_prog *p = C->p;
    if ((p->nk + 1) * 2 > C->khash_cap) khash_grow(C);
    uint32_t mask = C->khash_cap - 1;
    for (uint32_t h = (uint32_t)ptc_hash64(s, n) & mask;; h = (h + 1) & mask) {
        uint32_t slot = C->khash[h];
        if (slot == 0) {
            if (p->nk == C->cap_k) {
                C->cap_k = C->cap_k ? C->cap_k * 2 : 32;
                p->k = ptc_xrealloc(p->k, C->cap_k * sizeof *p->k);
            }
            p->k[p->nk].off = (uint32_t)C->kdata.len;
            p->k[p->nk].len = (uint32_t)n;
            ptc_buf_put(&C->kdata, s, n);
            C->khash[h] = ++p->nk;
            return p->nk - 1;
        }
        ptc_const *k = &p->k[slot - 1];
        if (k->len == n && memcmp(C->kdata.data + k->off, s, n) == 0) return slot - 1;
    }
}

static void khash_grow(comp *C)
{
    uint32_t cap = C->khash_cap ? C->khash_cap * 2 : 64;
    uint32_t *t = ptc_xcalloc(cap, sizeof *t);
    for (uint32_t i = 0; i < C->p->nk; i++) {
        ptc_const *k = &C->p->k[i];
        uint32_t h = (uint32_t)ptc_hash64(C->kdata.data + k->off, k->len) & (cap - 1);
        while (t[h]) h = (h + 1) & (cap - 1);
        t[h] = i + 1;
    }
    free(C->khash);
    C->khash = t;
    C->khash_cap = cap;
}

static void pend(comp *C, const char *s, size_t n, uint32_t line)
{
    if (C->pending.len == 0) C->pending_line = line;
    ptc_buf_put(&C->pending, s, n);
}

static void flush(comp *C)
{
    if (C->pending.len == 0) return;
    uint32_t k = intern(C, C->pending.data, C->pending.len);
    emit(C, PTC_OP_TEXT, 0, k, 0, C->pending_line);
    ptc_buf_reset(&C->pending);
}

/* Emits the guard's jumps; returns how many, their indexes in jumps[]. */
static size_t emit_guard(comp *C, const ptc_ir_line *l, uint32_t line, uint32_t **jumps, size_t *cap)
{
    size_t n = 0;
    const char *text = C->ir->src->text;
    for (const ptc_ir_ext *e = l->exts; e; e = e->next) {
        if (n == *cap) {
            *cap = *cap ? *cap * 2 : 8;
            *jumps = ptc_xrealloc(*jumps, *cap * sizeof **jumps);
        }
        uint32_t k = intern(C, text + e->off, e->len);
        uint8_t op = l->guard == PTC_GUARD_ONLY ? PTC_OP_ONLY : PTC_OP_EXCEPT;
        (*jumps)[n++] = emit(C, op, 0, k, 0, line);
    }
    return n;
}

static void patch(comp *C, const uint32_t *jumps, size_t n)
{
    for (size_t i = 0; i < n; i++) C->p->code[jumps[i]].c = C->p->ncode;
}

/* The chain a variable gets: as written, RAW taken out; in [phoneprov]
 * with a default (escape=xml), that filter is added last unless the chain
 * says raw or already has it.  0: a plain VAR. */
static uint32_t final_chain(const comp *C, uint32_t written, int ctx)
{
    uint32_t out = 0;
    int n = 0, raw = 0, has_default = 0;
    for (int i = 0; i < PTC_FILTER_CHAIN; i++) {
        unsigned f = written >> (i * PTC_FILTER_BITS) & 0xf;
        if (!f) break;
        if (f == PTC_FILTER_RAW) { raw = 1; continue; }
        if (f == C->escape) has_default = 1;
        out |= (uint32_t)f << (n++ * PTC_FILTER_BITS);
    }
    if (ctx == PTC_CTX_PHONEPROV && C->escape && !raw && !has_default && n < PTC_FILTER_CHAIN)
        out |= C->escape << (n * PTC_FILTER_BITS);
    return out;
}

static void emit_var(comp *C, const ptc_ir_seg *s, int ctx, uint32_t line)
{
    uint32_t chain = final_chain(C, s->filters, ctx);
    flush(C);
    if (chain) emit(C, PTC_OP_FVAR, (uint8_t)s->slot, chain, 0, line);
    else emit(C, PTC_OP_VAR, (uint8_t)s->slot, 0, 0, line);
}

static void compile_output_context(comp *C, const ptc_ir_context *cx, int ctx)
{
    const char *text = C->ir->src->text;
    uint32_t *jumps = NULL;
    size_t cap = 0;
    for (const ptc_ir_line *l = cx->first; l; l = l->next) {
        if (!l->segs) continue;                 /* nothing left after the guard */
        uint32_t line = line_of(C, l->off);
        size_t nj = 0;
        if (l->guard != PTC_GUARD_NONE) {
            flush(C);
            nj = emit_guard(C, l, line, &jumps, &cap);
        }
        for (const ptc_ir_seg *s = l->segs; s; s = s->next) {
            if (s->kind == PTC_SEG_TEXT) pend(C, text + s->off, s->len, line);
            else emit_var(C, s, ctx, line);
        }
        pend(C, "\n", 1, line);
        if (nj) { flush(C); patch(C, jumps, nj); }
    }
    flush(C);
    free(jumps);
}

int ptc_comp_general_key(const ptc_ir *ir, const ptc_ir_line *l,
                         uint32_t *name_off, uint32_t *name_len, uint32_t *value_off)
{
    const ptc_ir_seg *s = l->segs;
    if (!s || s->kind != PTC_SEG_TEXT) return -2;
    const char *t = ir->src->text;
    uint32_t i = s->off, end = s->off + s->len;
    while (i < end && t[i] != ' ' && t[i] != '=') i++;
    uint32_t klen = i - s->off;
    while (i < end && t[i] == ' ') i++;
    if (klen == 0 || i >= end || t[i] != '=') return -2;
    i++;
    while (i < end && t[i] == ' ') i++;
    *name_off = s->off;
    *name_len = klen;
    *value_off = i;
    return ptc_key_lookup(t + s->off, klen);
}

/* One `key = value` line: KEY, the value's pieces up to the first space
 * (CR of a CRLF line dropped), ENDKEY. */
static void compile_general_line(comp *C, const ptc_ir_line *l, uint32_t **jumps, size_t *cap)
{
    const char *text = C->ir->src->text;
    uint32_t name_off, name_len, value_off;
    int key = ptc_comp_general_key(C->ir, l, &name_off, &name_len, &value_off);
    if (key < 0) return;
    uint32_t line = line_of(C, l->off);
    size_t nj = 0;
    if (l->guard != PTC_GUARD_NONE) nj = emit_guard(C, l, line, jumps, cap);
    uint32_t kj = emit(C, PTC_OP_KEY, (uint8_t)key, 0, 0, line);
    for (const ptc_ir_seg *s = l->segs; s; s = s->next) {
        if (s->kind == PTC_SEG_VAR) {
            emit_var(C, s, PTC_CTX_GENERAL, line);
            continue;
        }
        uint32_t from = s == l->segs ? value_off : s->off, to = s->off + s->len;
        uint32_t stop = from;
        while (stop < to && text[stop] != ' ') stop++;
        uint32_t keep = stop;
        if (!s->next && stop == to && keep > from && text[keep - 1] == '\r') keep--;
        pend(C, text + from, keep - from, line);
        if (stop < to) break;                   /* the value ended at a space */
    }
    flush(C);
    emit(C, PTC_OP_ENDKEY, (uint8_t)key, 0, 0, line);
    C->p->code[kj].c = C->p->ncode;
    patch(C, *jumps, nj);
    C->p->keys_set |= 1u << key;
}

static void compile_general(comp *C, const ptc_ir_context *cx)
{
    uint32_t *jumps = NULL;
    size_t cap = 0;
    for (const ptc_ir_line *l = cx->first; l; l = l->next)
        compile_general_line(C, l, &jumps, &cap);
    free(jumps);
}

/* menu_name= in the global section: the rest of the line, spaces and all. */
static void compile_global(comp *C)
{
    const char *text = C->ir->src->text;
    static const char key[] = "menu_name=";
    for (const ptc_ir_line *l = C->ir->global_first; l; l = l->next) {
        if (l->guard != PTC_GUARD_NONE || !l->segs || l->segs->kind != PTC_SEG_TEXT) continue;
        if (l->segs->len < sizeof key - 1 || memcmp(text + l->segs->off, key, sizeof key - 1)) continue;
        uint32_t from = l->segs->off + sizeof key - 1, to = from;
        while (to < C->ir->src->len && text[to] != '\n') to++;
        if (to > from && text[to - 1] == '\r') to--;
        C->p->menu_name = intern(C, text + from, to - from);
    }
}

/* escape=xml (or raw) in [general]: read here, at compile time, since it
 * decides which code [phoneprov] gets.  It must be plain text, the same for
 * every phone.  0, or -1 after reporting. */
static int find_escape(comp *C)
{
    const char *text = C->ir->src->text;
    for (const ptc_ir_line *l = C->ir->ctx[PTC_CTX_GENERAL].first; l; l = l->next) {
        uint32_t name_off, name_len, value_off;
        if (ptc_comp_general_key(C->ir, l, &name_off, &name_len, &value_off) != PTC_KEY_ESCAPE) continue;
        const ptc_ir_seg *s = l->segs;
        uint32_t end = s->off + s->len;
        while (end > value_off && (text[end - 1] == '\r' || text[end - 1] == ' ')) end--;
        int f = ptc_filter_lookup(text + value_off, end - value_off);
        if (l->guard != PTC_GUARD_NONE || s->next || (f != PTC_FILTER_XML && f != PTC_FILTER_RAW)) {
            ptc_diag_at(C->diag, C->ir->src, value_off, PTC_ERROR, "bad-escape",
                        "escape= takes `xml` or `raw`, as plain text the same for every phone");
            return -1;
        }
        C->escape = f == PTC_FILTER_XML ? PTC_FILTER_XML : 0;
    }
    return 0;
}

ptc_prog *ptc_comp(ptc_ir *ir, ptc_diag *diag)
{
    comp C;
    memset(&C, 0, sizeof C);
    C.ir = ir;
    C.diag = diag;
    C.p = ptc_xcalloc(1, sizeof *C.p);
    for (int i = 0; i < PTC_CTX_COUNT; i++) C.p->entry[i] = PTC_NO_ENTRY;
    C.p->menu_name = PTC_NO_CONST;
    ptc_buf_reserve(&C.kdata, 1);       /* never NULL: an empty constant (menu_name=) points into it */

    if (!ir->ctx[PTC_CTX_GENERAL].present) {
        ptc_diag_at(diag, ir->src, 0, PTC_ERROR, "no-general",
                    "no [general] context: a template needs one (it may be empty)");
        goto fail;
    }
    compile_global(&C);
    if (find_escape(&C) != 0) goto fail;
    for (int ctx = 0; ctx < PTC_CTX_COUNT; ctx++) {
        const ptc_ir_context *cx = &ir->ctx[ctx];
        if (!cx->present) continue;
        C.p->entry[ctx] = C.p->ncode;
        if (ctx == PTC_CTX_GENERAL) compile_general(&C, cx);
        else compile_output_context(&C, cx, ctx);
        emit(&C, PTC_OP_RET, 0, 0, 0, cx->last ? line_of(&C, cx->last->off) : 0);
    }
    C.p->kdata = C.kdata.data;
    C.p->kdata_len = (uint32_t)C.kdata.len;
    C.kdata.data = NULL;
    C.p->src_hash = ptc_hash64(ir->src->text, ir->src->len);
    C.p->src_size = ir->src->len;
    ptc_prog_analyze(C.p);
    ptc_buf_free(&C.pending);
    free(C.khash);
    return C.p;
fail:
    ptc_buf_free(&C.kdata);
    ptc_buf_free(&C.pending);
    free(C.khash);
    ptc_prog_free(C.p);
    return NULL;
}

ptc_prog *ptc_comp_source(ptc_src *src, ptc_diag *diag)
{
    unsigned before = diag->errors;
    ptc_ir *ir = ptc_parse(src, diag);
    ptc_prog *p = NULL;
    if (diag->errors == before) p = ptc_comp(ir, diag);
    ptc_ir_free(ir);
    return p;
}
