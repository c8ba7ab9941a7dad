/* ptc_prog: a compiled template, as the VM runs it.
 *
 * Code for every context lives in one array; entry[ctx] is where a context
 * starts (PTC_NO_ENTRY when the template has no such context).  Constants
 * are byte strings in one blob.  lines[] maps each instruction to the source
 * line it came from (for `ptc disasm`).
 *
 * Ownership: a program owns all its arrays; ptc_prog_free accepts NULL.
 */
#ifndef PTC_PROG_H
#define PTC_PROG_H

#include <stdint.h>
#include <stddef.h>
#include "ptc/lang.h"
#include "ptc/opcodes.h"

#define PTC_NO_ENTRY 0xFFFFFFFFu
#define PTC_NO_CONST 0xFFFFFFFFu

typedef struct ptc_insn {
    uint8_t  op, a;
    uint16_t pad;
    uint32_t b, c;
} ptc_insn;

typedef struct ptc_const {
    uint32_t off, len;          /* into kdata */
} ptc_const;

typedef struct ptc_prog {
    ptc_insn  *code;
    uint32_t   ncode;
    uint32_t  *lines;           /* ncode source lines */
    ptc_const *k;
    uint32_t   nk;
    char      *kdata;
    uint32_t   kdata_len;
    uint32_t   entry[PTC_CTX_COUNT];
    uint32_t   menu_name;       /* constant index, or PTC_NO_CONST */
    uint32_t   keys_set;        /* bit per ptc_key assigned in [general] */
    uint32_t   keys_phone;      /* ... whose value may differ by phone (a guard
                                 * or a variable): from ptc_prog_analyze, not
                                 * stored on disk */
    uint8_t    ctx_exts[PTC_CTX_COUNT];  /* bit n: the context emits @EXT(n+1)@
                                 * (from ptc_prog_analyze, not stored) */
    uint64_t   src_hash, src_size;
} ptc_prog;

void ptc_prog_free(ptc_prog *p);

/* Fills the fields derived from the code (keys_phone, ctx_exts).  The compiler and
 * the loader call it; conservative for any code shape. */
void ptc_prog_analyze(ptc_prog *p);

static inline int ptc_prog_has(const ptc_prog *p, int ctx)
{
    return p->entry[ctx] != PTC_NO_ENTRY;
}

#endif
