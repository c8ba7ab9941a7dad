/* The VM: one dispatch loop for output contexts and [general] alike. */
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

/* Where the bytes go: a context's output into a sink, or (for [general])
 * the value of the key being built, in keys->scratch. */
typedef struct vm_out {
    ptc_sink *sink;
    ptc_vm_keys *keys;
    uint32_t want;              /* [general]: the keys to assign */
    uint32_t key_bit;           /* ... the key being built */
} vm_out;

static inline void emit(vm_out *o, const char *v, size_t n)
{
    if (o->sink) ptc_sink_put(o->sink, v, n);
    else ptc_buf_put(&o->keys->scratch, v, n);
}

/* A key whose value got a `/` from phone data may not choose a path. */
static inline void taint(vm_out *o, size_t from)
{
    const ptc_buf *v = &o->keys->scratch;
    if (v->len > from && memchr(v->data + from, '/', v->len - from)) o->keys->tainted |= o->key_bit;
}

static void end_key(vm_out *o, int key)
{
    ptc_buf *val = &o->keys->scratch;
    /* Only a wanted key is stored: the compiler's KEY jumps past the
     * others, but a loaded program need not pair them, and the phone's
     * MODEL and VENDOR slots point into those buffers. */
    if (!(o->want & (1u << key))) { val->len = 0; return; }
    ptc_buf *dst = &o->keys->val[key];
    const char *sp = val->len ? memchr(val->data, ' ', val->len) : NULL;
    size_t n = sp ? (size_t)(sp - val->data) : val->len;
    dst->len = 0;
    ptc_buf_put(dst, val->data, n);
    ptc_buf_cstr(dst);
    o->keys->set |= 1u << key;
    val->len = 0;
}

/* The one dispatch loop.  What each opcode does is documented once, in
 * PTC_OPCODES (include/ptc/opcodes.h), and printed by `ptc disasm
 * --verbose`; the cases below only say how. */
static void exec(const ptc_prog *p, uint32_t pc, const ptc_vm_rec *r, vm_out *o)
{
    for (;;) {
        const ptc_insn *i = &p->code[pc++];
        switch ((ptc_opcode)i->op) {
        case PTC_OP_TEXT:
            emit(o, p->kdata + p->k[i->b].off, p->k[i->b].len);
            break;
        case PTC_OP_VAR:
            emit(o, r->v[i->a], r->n[i->a]);
            if (o->keys && r->n[i->a] && memchr(r->v[i->a], '/', r->n[i->a])) o->keys->tainted |= o->key_bit;
            break;
        case PTC_OP_FVAR: {     /* the filtered value is what may hold a `/` */
            size_t from = o->keys ? o->keys->scratch.len : 0;
            filter_value(i->b, r->v[i->a], r->n[i->a], o->sink, o->sink ? NULL : &o->keys->scratch);
            if (o->keys) taint(o, from);
            break;
        }
        case PTC_OP_ONLY:
            if (!ext1_is(p, r, i->b)) pc = i->c;
            break;
        case PTC_OP_EXCEPT:
            if (ext1_is(p, r, i->b)) pc = i->c;
            break;
        case PTC_OP_KEY:        /* outside [general], a no-op */
            if (!o->keys) break;
            o->keys->scratch.len = 0;
            o->key_bit = 1u << i->a;
            if (!(o->want & o->key_bit)) pc = i->c;
            else o->keys->tainted &= ~o->key_bit;
            break;
        case PTC_OP_ENDKEY:
            if (o->keys) end_key(o, i->a);
            break;
        case PTC_OP_RET:
        default:
            return;
        }
    }
}

void ptc_vm_run(const ptc_prog *p, int ctx, const ptc_vm_rec *r, ptc_sink *out)
{
    if (p->entry[ctx] == PTC_NO_ENTRY) return;
    vm_out o = {.sink = out};
    exec(p, p->entry[ctx], r, &o);
}

void ptc_vm_general(const ptc_prog *p, const ptc_vm_rec *r, uint32_t want, ptc_vm_keys *keys)
{
    if (p->entry[PTC_CTX_GENERAL] == PTC_NO_ENTRY) return;
    keys->scratch.len = 0;
    vm_out o = {.keys = keys, .want = want};
    exec(p, p->entry[PTC_CTX_GENERAL], r, &o);
}

void ptc_vm_keys_free(ptc_vm_keys *k)
{
    if (!k) return;
    for (int i = 0; i < PTC_KEY_COUNT; i++) ptc_buf_free(&k->val[i]);
    ptc_buf_free(&k->scratch);
}
