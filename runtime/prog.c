/* The program's own operations: freeing it, and the facts derived from its
 * code that are not stored on disk (include/ptc/prog.h). */
#include "ptc/prog.h"

#include <stdlib.h>

void ptc_prog_free(ptc_prog *p)
{
    if (!p) return;
    free(p->code);
    free(p->lines);
    free(p->k);
    free(p->kdata);
    free(p);
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
