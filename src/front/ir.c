/* IR arena. */
#include "ptc/ir.h"
#include "ptc/buf.h"

#include <stdlib.h>
#include <string.h>

struct ptc_arena {
    struct ptc_arena *next;
    size_t used, cap;
    _Alignas(16) unsigned char mem[];
};

ptc_ir *ptc_ir_new(ptc_src *src)
{
    ptc_ir *ir = ptc_xcalloc(1, sizeof *ir);
    ir->src = src;
    return ir;
}

void *ptc_ir_alloc(ptc_ir *ir, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct ptc_arena *a = ir->arena;
    if (!a || a->cap - a->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        a = ptc_xmalloc(sizeof *a + cap);
        a->next = ir->arena;
        a->used = 0;
        a->cap = cap;
        ir->arena = a;
    }
    void *p = a->mem + a->used;
    a->used += n;
    memset(p, 0, n);
    return p;
}

void ptc_ir_free(ptc_ir *ir)
{
    if (!ir) return;
    struct ptc_arena *a = ir->arena;
    while (a) {
        struct ptc_arena *next = a->next;
        free(a);
        a = next;
    }
    free(ir);
}
