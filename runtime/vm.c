/* The VM: one dispatch loop, each opcode documented where it runs. */
#include "ptc/vm.h"

#include <stdlib.h>
#include <string.h>

static inline int ext1_is(const ptc_prog *p, const ptc_vm_rec *r, uint32_t k)
{
    const ptc_const *c = &p->k[k];
    return r->n[PTC_SLOT_EXT1] == c->len &&
           memcmp(r->v[PTC_SLOT_EXT1], p->kdata + c->off, c->len) == 0;
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
            if (p->code[pc].op == PTC_OP_VAR && p->code[pc].a >= PTC_SLOT_EXT1 &&
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
