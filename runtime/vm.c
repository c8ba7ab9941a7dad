/* The VM: one dispatch loop, each opcode documented where it runs. */
#include "ptc/vm.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static inline int ext1_is(const ptc_prog *p, const ptc_vm_rec *r, uint32_t k)
{
    const ptc_const *c = &p->k[k];
    return r->n[PTC_SLOT_EXT1] == c->len &&
           memcmp(r->v[PTC_SLOT_EXT1], p->kdata + c->off, c->len) == 0;
}

/* ---- filters ----------------------------------------------------------------
 * Each byte of the value goes through the chain left to right; a filter
 * may turn one byte into several (`&` -> `&amp;`), and the next filter sees
 * each of those.  Output is gathered in a small buffer and handed on in
 * pieces, to the sink ([phoneprov] etc.) or to a key's value ([general]). */

typedef struct fout {
    ptc_sink *sink;             /* one of the two */
    ptc_buf *buf;
    size_t n;
    char b[256];
} fout;

static void fout_flush(fout *o)
{
    if (o->sink) ptc_sink_put(o->sink, o->b, o->n);
    else ptc_buf_put(o->buf, o->b, o->n);
    o->n = 0;
}

static void filter_byte(uint32_t chain, unsigned char c, fout *o)
{
    static const char hex[] = "0123456789ABCDEF";
    char t[8];
    size_t n = 0;
    switch (chain & 0xf) {
    case PTC_FILTER_NONE:
        if (o->n == sizeof o->b) fout_flush(o);
        o->b[o->n++] = (char)c;
        return;
    case PTC_FILTER_XML: {
        const char *e = c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;"
                      : c == '"' ? "&quot;" : c == '\'' ? "&apos;" : NULL;
        if (e) { n = strlen(e); memcpy(t, e, n); }
        else t[n++] = (char)c;
        break;
    }
    case PTC_FILTER_URL:        /* RFC 3986: all but the unreserved characters */
        if (isalnum(c) && c < 0x80) t[n++] = (char)c;
        else if (c == '-' || c == '.' || c == '_' || c == '~') t[n++] = (char)c;
        else { t[n++] = '%'; t[n++] = hex[c >> 4]; t[n++] = hex[c & 15]; }
        break;
    case PTC_FILTER_UPPER: t[n++] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c); break;
    case PTC_FILTER_LOWER: t[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c); break;
    default:                    /* RAW */
        t[n++] = (char)c;
        break;
    }
    for (size_t i = 0; i < n; i++) filter_byte(chain >> PTC_FILTER_BITS, (unsigned char)t[i], o);
}

static void filter_value(uint32_t chain, const char *v, size_t n, ptc_sink *sink, ptc_buf *buf)
{
    fout o = {sink, buf, 0, {0}};
    for (size_t i = 0; i < n; i++) filter_byte(chain, (unsigned char)v[i], &o);
    if (o.n) fout_flush(&o);
}

void ptc_vm_run(const ptc_prog *p, int ctx, const ptc_vm_rec *r, ptc_sink *out)
{
    uint32_t pc = p->entry[ctx];
    if (pc == PTC_NO_ENTRY) return;
    for (;;) {
        const ptc_insn *i = &p->code[pc++];
        switch ((ptc_opcode)i->op) {
        case PTC_OP_TEXT:       /* emit constant B */
            ptc_sink_put(out, p->kdata + p->k[i->b].off, p->k[i->b].len);
            break;
        case PTC_OP_VAR:        /* emit slot A as it is, never rescanned */
            ptc_sink_put(out, r->v[i->a], r->n[i->a]);
            break;
        case PTC_OP_FVAR:       /* emit slot A through filter chain B */
            filter_value(i->b, r->v[i->a], r->n[i->a], out, NULL);
            break;
        case PTC_OP_ONLY:       /* #<ext>: skip the line unless EXT1 is B */
            if (!ext1_is(p, r, i->b)) pc = i->c;
            break;
        case PTC_OP_EXCEPT:     /* #<!..!>: skip the line if EXT1 is B */
            if (ext1_is(p, r, i->b)) pc = i->c;
            break;
        case PTC_OP_KEY:        /* only in [general]; outside it, a no-op */
        case PTC_OP_ENDKEY:
            break;
        case PTC_OP_RET:
        default:
            return;
        }
    }
}

void ptc_vm_general(const ptc_prog *p, const ptc_vm_rec *r, uint32_t want, ptc_vm_keys *keys)
{
    uint32_t pc = p->entry[PTC_CTX_GENERAL];
    if (pc == PTC_NO_ENTRY) return;
    ptc_buf *val = &keys->scratch;
    uint32_t key_bit = 0;
    val->len = 0;
    for (;;) {
        const ptc_insn *i = &p->code[pc++];
        switch ((ptc_opcode)i->op) {
        case PTC_OP_TEXT:
            ptc_buf_put(val, p->kdata + p->k[i->b].off, p->k[i->b].len);
            break;
        case PTC_OP_VAR:
            ptc_buf_put(val, r->v[i->a], r->n[i->a]);
            if (r->n[i->a] && memchr(r->v[i->a], '/', r->n[i->a])) keys->tainted |= key_bit;
            break;
        case PTC_OP_FVAR: {     /* the filtered value is what may hold a `/` */
            size_t from = val->len;
            filter_value(i->b, r->v[i->a], r->n[i->a], NULL, val);
            if (val->len > from && memchr(val->data + from, '/', val->len - from)) keys->tainted |= key_bit;
            break;
        }
        case PTC_OP_ONLY:
            if (!ext1_is(p, r, i->b)) pc = i->c;
            break;
        case PTC_OP_EXCEPT:
            if (ext1_is(p, r, i->b)) pc = i->c;
            break;
        case PTC_OP_KEY:        /* start key A's value, or skip it */
            val->len = 0;
            key_bit = 1u << i->a;
            if (!(want & key_bit)) pc = i->c;
            else keys->tainted &= ~key_bit;
            break;
        case PTC_OP_ENDKEY: {   /* the value ends at its first space (as the
                                 * original's `[^ ]*`), the last one wins */
            /* Only a wanted key is stored: the compiler's KEY jumps past
             * the others, but a loaded program need not pair them, and the
             * phone's MODEL and VENDOR slots point into those buffers. */
            if (!(want & (1u << i->a))) { val->len = 0; break; }
            ptc_buf *dst = &keys->val[i->a];
            const char *sp = val->len ? memchr(val->data, ' ', val->len) : NULL;
            size_t n = sp ? (size_t)(sp - val->data) : val->len;
            dst->len = 0;
            ptc_buf_put(dst, val->data, n);
            ptc_buf_cstr(dst);
            keys->set |= 1u << i->a;
            val->len = 0;
            break;
        }
        case PTC_OP_RET:
        default:
            return;
        }
    }
}

void ptc_vm_keys_free(ptc_vm_keys *k)
{
    if (!k) return;
    for (int i = 0; i < PTC_KEY_COUNT; i++) ptc_buf_free(&k->val[i]);
    ptc_buf_free(&k->scratch);
}

/* Which extensions each context emits: the plan checks that no dialplan
 * file gets one extension twice. */
static void analyze_exts(ptc_prog *p)
{
    for (int c = 0; c < PTC_CTX_COUNT; c++) {
        p->ctx_exts[c] = 0;
        for (uint32_t pc = p->entry[c]; pc != PTC_NO_ENTRY && pc < p->ncode && p->code[pc].op != PTC_OP_RET; pc++)
            if ((p->code[pc].op == PTC_OP_VAR || p->code[pc].op == PTC_OP_FVAR) && p->code[pc].a >= PTC_SLOT_EXT1 &&
                p->code[pc].a < PTC_SLOT_EXT1 + PTC_MAX_LINES)
                p->ctx_exts[c] |= (uint8_t)(1u << (p->code[pc].a - PTC_SLOT_EXT1));
    }
}

void ptc_prog_analyze(ptc_prog *p)
{
    analyze_exts(p);
    p->keys_phone = 0;
    uint32_t pc = p->entry[PTC_CTX_GENERAL];
    if (pc == PTC_NO_ENTRY) return;
    int guarded = 0;
    for (; pc < p->ncode && p->code[pc].op != PTC_OP_RET; pc++) {
        const ptc_insn *i = &p->code[pc];
        switch ((ptc_opcode)i->op) {
        case PTC_OP_ONLY: case PTC_OP_EXCEPT:
            guarded = 1;
            break;
        case PTC_OP_KEY: {
            uint32_t bit = 1u << i->a;
            if (guarded) p->keys_phone |= bit;
            guarded = 0;
            /* Up to its ENDKEY: any variable, or anything but text, makes
             * the value depend on the phone. */
            for (uint32_t q = pc + 1; q < p->ncode; q++) {
                const ptc_insn *j = &p->code[q];
                if (j->op == PTC_OP_ENDKEY && j->a == i->a) break;
                if (j->op != PTC_OP_TEXT) { p->keys_phone |= bit; break; }
            }
            break;
        }
        default:
            break;
        }
    }
}
